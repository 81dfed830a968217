package dev.bkg.gateway.api;

import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirements;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.bkg.gateway.grpc.InferenceClient;
import dev.bkg.gateway.grpc.ModelClient;
import dev.bkg.gateway.security.PublicRoute;
import dev.bkg.gateway.security.RequiresScope;
import dev.bkg.proto.inference.v1.ListLoadedRequest;
import dev.bkg.proto.inference.v1.LoadModelRequest;
import dev.bkg.proto.inference.v1.LoadedModel;
import dev.bkg.proto.inference.v1.TensorInfo;
import dev.bkg.proto.inference.v1.UnloadModelRequest;
import dev.bkg.proto.model.v1.ListModelsRequest;
import dev.bkg.proto.model.v1.ModelStatus;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;

/**
 * The KServe / Triton Open Inference Protocol v2 over HTTP, served by the model runner (plugin
 * candle): health, model metadata and readiness, infer with JSON or binary tensors
 * ({@link OpenInference}), and the model repository extension (index, load, unload), so that
 * existing KServe and Triton HTTP clients work. Model names are the catalog's names (or ids); each
 * has the one version "1". Health is public, as Kubernetes probes it; the rest needs scope inference.
 */
@Path("/v2")
@Produces(MediaType.APPLICATION_JSON)
public class OpenInferenceResource {

    static final String HEADER_LENGTH = "Inference-Header-Content-Length";

    private final InferenceClient inference;
    private final ModelClient models;
    private final ObjectMapper json;

    OpenInferenceResource(InferenceClient inference, ModelClient models, ObjectMapper json) {
        this.inference = inference;
        this.models = models;
        this.json = json;
    }

    @GET
    @RequiresScope("inference")
    public ObjectNode server() {
        ObjectNode out = json.createObjectNode().put("name", "bkg-mesh").put("version", "0.2.0");
        out.putArray("extensions").add("binary_tensor_data").add("model_repository");
        return out;
    }

    /** The gateway answers: it is live. */
    @GET
    @Path("/health/live")
    @PublicRoute
    @SecurityRequirements
    public ObjectNode live() {
        return json.createObjectNode().put("live", true);
    }

    /** Ready when the runner answers (a stopped runner is started on demand: 503 meanwhile). */
    @GET
    @Path("/health/ready")
    @PublicRoute
    @SecurityRequirements
    public Uni<ObjectNode> ready() {
        return inference.candle(s -> s.listLoaded(ListLoadedRequest.getDefaultInstance()))
                .map(reply -> json.createObjectNode().put("ready", true));
    }

    /** A model's metadata, exact from ONNX Runtime: asking loads the model, as a first infer would. */
    @GET
    @Path("/models/{name}")
    @RequiresScope("inference")
    public Uni<ObjectNode> metadata(@PathParam("name") String name) {
        return inference.candle(s -> s.loadModel(LoadModelRequest.newBuilder().setModelId(name).build()))
                .map(reply -> metadata(reply.getModel()));
    }

    @GET
    @Path("/models/{name}/versions/{version}")
    @RequiresScope("inference")
    public Uni<ObjectNode> metadata(@PathParam("name") String name, @PathParam("version") String version) {
        return version(version).chain(() -> metadata(name));
    }

    /** 200 when the runner has the model loaded; 400 otherwise (as Triton), naming how to load it. */
    @GET
    @Path("/models/{name}/ready")
    @RequiresScope("inference")
    public Uni<ObjectNode> modelReady(@PathParam("name") String name) {
        return inference.candle(s -> s.listLoaded(ListLoadedRequest.getDefaultInstance())).map(reply -> {
            if (reply.getModelsList().stream().noneMatch(m -> m.getName().equals(name) || m.getModelId().equals(name))) {
                throw ProblemException.badRequest("model '" + name + "' is not loaded: POST /v2/repository/models/" + name
                        + "/load, or infer (a first request loads it)");
            }
            return json.createObjectNode().put("name", name).put("ready", true);
        });
    }

    /** On a worker thread: the body (up to 16 MiB of JSON or tensors) is parsed and the answer rendered here. */
    @POST
    @Path("/models/{name}/infer")
    @RequiresScope("inference")
    @Blocking
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.WILDCARD)
    public Uni<Response> infer(@PathParam("name") String name, @HeaderParam(HEADER_LENGTH) String headerLength, byte[] body) {
        Integer jsonLength;
        try {
            jsonLength = headerLength == null ? null : Integer.valueOf(headerLength.trim());
        } catch (NumberFormatException e) {
            throw ProblemException.badRequest(HEADER_LENGTH + " must be a number of bytes; was '" + headerLength + "'");
        }
        OpenInference.Parsed asked = OpenInference.parse(name, body == null ? new byte[0] : body, jsonLength);
        return inference.candle(s -> s.infer(asked.request())).emitOn(Infrastructure.getDefaultWorkerPool()).map(reply -> {
            OpenInference.Rendered rendered = OpenInference.render(name, reply, asked);
            Response.ResponseBuilder response = Response.ok(rendered.body(), rendered.contentType());
            if (rendered.jsonLength() >= 0) {
                response.header(HEADER_LENGTH, rendered.jsonLength());
            }
            return response.build();
        });
    }

    @POST
    @Path("/models/{name}/versions/{version}/infer")
    @RequiresScope("inference")
    @Blocking
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.WILDCARD)
    public Uni<Response> infer(@PathParam("name") String name, @PathParam("version") String version,
            @HeaderParam(HEADER_LENGTH) String headerLength, byte[] body) {
        return version(version).chain(() -> infer(name, headerLength, body));
    }

    /** Every READY ONNX model of the catalog, READY when loaded, else UNAVAILABLE (a first infer loads it). */
    @POST
    @Path("/repository/index")
    @RequiresScope("inference")
    @Consumes(MediaType.WILDCARD)
    public Uni<ArrayNode> index() {
        Uni<java.util.Set<String>> loaded = inference.candle(s -> s.listLoaded(ListLoadedRequest.getDefaultInstance()))
                .map(reply -> reply.getModelsList().stream().map(LoadedModel::getModelId).collect(java.util.stream.Collectors.toSet()));
        return models.call(s -> s.listModels(ListModelsRequest.newBuilder().setStatus(ModelStatus.READY).build()))
                .chain(catalog -> loaded.map(ids -> {
                    ArrayNode out = json.createArrayNode();
                    catalog.getModelsList().stream().filter(m -> m.getFormat().equals("onnx")).forEach(m -> {
                        ObjectNode entry = out.addObject().put("name", m.getName()).put("version", "1")
                                .put("state", ids.contains(m.getId()) ? "READY" : "UNAVAILABLE");
                        if (!ids.contains(m.getId())) {
                            entry.put("reason", "unloaded");
                        }
                    });
                    return out;
                }));
    }

    @POST
    @Path("/repository/models/{name}/load")
    @RequiresScope("inference")
    @Consumes(MediaType.WILDCARD)
    public Uni<ObjectNode> load(@PathParam("name") String name) {
        return inference.candle(s -> s.loadModel(LoadModelRequest.newBuilder().setModelId(name).build()))
                .map(reply -> json.createObjectNode());
    }

    @POST
    @Path("/repository/models/{name}/unload")
    @RequiresScope("inference")
    @Consumes(MediaType.WILDCARD)
    public Uni<ObjectNode> unload(@PathParam("name") String name) {
        return inference.candle(s -> s.unloadModel(UnloadModelRequest.newBuilder().setModelId(name).build()))
                .map(reply -> json.createObjectNode());
    }

    private ObjectNode metadata(LoadedModel model) {
        ObjectNode out = json.createObjectNode().put("name", model.getName()).put("platform", "onnxruntime_onnx");
        out.putArray("versions").add("1");
        tensors(out.putArray("inputs"), model.getInputsList());
        tensors(out.putArray("outputs"), model.getOutputsList());
        return out;
    }

    private static void tensors(ArrayNode out, java.util.List<TensorInfo> tensors) {
        for (TensorInfo t : tensors) {
            ArrayNode shape = out.addObject().put("name", t.getName()).put("datatype", OpenInference.datatype(t.getElementType()))
                    .putArray("shape");
            t.getShapeList().forEach(shape::add);
        }
    }

    private static Uni<Void> version(String version) {
        return "1".equals(version) ? Uni.createFrom().voidItem()
                : Uni.createFrom().failure(new ProblemException(404, "Not Found", "models here have the one version 1; not '"
                        + version + "'"));
    }
}
