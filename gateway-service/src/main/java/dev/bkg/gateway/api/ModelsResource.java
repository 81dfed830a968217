package dev.bkg.gateway.api;

import java.util.List;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.jboss.resteasy.reactive.RestStreamElementType;

import com.fasterxml.jackson.databind.JsonNode;

import dev.bkg.gateway.grpc.ModelClient;
import dev.bkg.gateway.security.RequiresScope;
import dev.bkg.proto.model.v1.CancelDownloadRequest;
import dev.bkg.proto.model.v1.DeleteModelRequest;
import dev.bkg.proto.model.v1.DownloadModelRequest;
import dev.bkg.proto.model.v1.FileSource;
import dev.bkg.proto.model.v1.FileSourceList;
import dev.bkg.proto.model.v1.GetModelRequest;
import dev.bkg.proto.model.v1.HuggingFaceSource;
import dev.bkg.proto.model.v1.ImportModelRequest;
import dev.bkg.proto.model.v1.ListModelsRequest;
import dev.bkg.proto.model.v1.ValidateModelRequest;
import dev.bkg.proto.model.v1.WatchDownloadRequest;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

/**
 * The seed's model API: {@code /api/models} (list, one, download, delete) and a download's
 * progress as NDJSON for curl users ({@code GET /api/models/{id}/progress}); sockets get it at
 * {@code /ws/models/{id}/progress}.
 */
@Path("/api/models")
@Produces(MediaType.APPLICATION_JSON)
public class ModelsResource {

    private final ModelClient models;

    ModelsResource(ModelClient models) {
        this.models = models;
    }

    public record ModelList(List<ModelViews.ModelView> models) {
    }

    @GET
    @RequiresScope("models:read")
    public Uni<ModelList> list(@QueryParam("kind") String kind, @QueryParam("status") String status) {
        ListModelsRequest.Builder request = ListModelsRequest.newBuilder();
        if (kind != null && !kind.isBlank()) {
            request.setKind(ModelViews.kind(kind));
        }
        if (status != null && !status.isBlank()) {
            request.setStatus(ModelViews.status(status));
        }
        return models.call(s -> s.listModels(request.build()))
                .map(r -> new ModelList(r.getModelsList().stream().map(ModelViews.ModelView::of).toList()));
    }

    @GET
    @Path("/{id}")
    @RequiresScope("models:read")
    public Uni<ModelViews.ModelView> get(@PathParam("id") String id) {
        return models.call(s -> s.getModel(GetModelRequest.newBuilder().setId(id).build()))
                .map(r -> ModelViews.ModelView.of(r.getModel()));
    }

    public record Started(String jobId, String modelId, boolean joinedExisting, String progress) {
    }

    /**
     * {@code {"name","kind","url","sha256"}}, or {@code "files":[{"name","url","sha256"}]}, or
     * {@code "huggingFace":{"repo","revision","files":[...],"endpoint"}}; optional {@code maxBytes},
     * {@code format}. Answers 202 with the job at once.
     */
    @POST
    @Path("/download")
    @Consumes(MediaType.APPLICATION_JSON)
    @RequiresScope("models:write")
    public Uni<Response> download(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw ProblemException.badRequest("the body must be a JSON object");
        }
        DownloadModelRequest.Builder request = DownloadModelRequest.newBuilder()
                .setName(text(body, "name")).setKind(ModelViews.kind(text(body, "kind")));
        if (body.hasNonNull("maxBytes")) {
            if (!body.get("maxBytes").canConvertToLong() || body.get("maxBytes").asLong() <= 0) {
                throw ProblemException.badRequest("maxBytes must be a positive number");
            }
            request.setMaxBytes(body.get("maxBytes").asLong());
        }
        if (body.hasNonNull("format")) {
            request.setFormat(text(body, "format"));
        }
        int sources = (body.hasNonNull("url") ? 1 : 0) + (body.hasNonNull("files") ? 1 : 0)
                + (body.hasNonNull("huggingFace") ? 1 : 0);
        if (sources != 1) {
            throw ProblemException.badRequest("give exactly one of url, files, huggingFace");
        }
        if (body.hasNonNull("url")) {
            request.setUrl(text(body, "url"));
            if (body.hasNonNull("sha256")) {
                request.setExpectedSha256(text(body, "sha256"));
            }
        } else if (body.hasNonNull("files")) {
            if (!body.get("files").isArray()) {
                throw ProblemException.badRequest("files must be an array of {name, url, sha256}");
            }
            FileSourceList.Builder files = FileSourceList.newBuilder();
            for (JsonNode file : body.get("files")) {
                files.addFiles(FileSource.newBuilder().setName(text(file, "name")).setUrl(text(file, "url"))
                        .setSha256(file.hasNonNull("sha256") ? text(file, "sha256") : ""));
            }
            request.setFiles(files);
        } else {
            JsonNode hf = body.get("huggingFace");
            HuggingFaceSource.Builder source = HuggingFaceSource.newBuilder().setRepo(text(hf, "repo"));
            if (hf.hasNonNull("revision")) {
                source.setRevision(text(hf, "revision"));
            }
            if (hf.hasNonNull("endpoint")) {
                source.setEndpoint(text(hf, "endpoint"));
            }
            if (!hf.path("files").isArray() || hf.path("files").isEmpty()) {
                throw ProblemException.badRequest("huggingFace.files must list the files to fetch");
            }
            hf.get("files").forEach(f -> source.addFiles(f.asText()));
            request.setHuggingFace(source);
        }
        return models.call(s -> s.downloadModel(request.build())).map(r -> Response.status(202)
                .entity(new Started(r.getJobId(), r.getModelId(), r.getJoinedExisting(),
                        "/ws/models/" + r.getModelId() + "/progress"))
                .build());
    }

    /**
     * {@code {"format":"tfjs","name","kind","sourceModelId"}}: converts a TF.js graph model already
     * in the catalog (downloaded with its model.json and weight shards) into a new, validated ONNX
     * model. 201 with the model; 400 names any op the converter does not support.
     */
    @POST
    @Path("/import")
    @Consumes(MediaType.APPLICATION_JSON)
    @RequiresScope("models:write")
    public Uni<Response> importModel(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw ProblemException.badRequest("the body must be a JSON object");
        }
        ImportModelRequest request = ImportModelRequest.newBuilder().setFormat(text(body, "format"))
                .setName(text(body, "name")).setKind(ModelViews.kind(text(body, "kind")))
                .setSourceModelId(text(body, "sourceModelId")).build();
        return models.call(s -> s.importModel(request))
                .map(r -> Response.status(201).entity(ModelViews.ModelView.of(r.getModel())).build());
    }

    /** A required text field, or a 400 naming it. */
    private static String text(JsonNode node, String field) {
        JsonNode value = node == null ? null : node.get(field);
        if (value == null || value.isNull()) {
            throw ProblemException.badRequest(field + " is required");
        }
        if (!value.isTextual()) {
            throw ProblemException.badRequest(field + " must be a string");
        }
        return value.asText();
    }

    /** Opens the graph in ONNX Runtime and checks it against the kind; {@code ?runInference=true} also runs it once. */
    @POST
    @Path("/{id}/validate")
    @RequiresScope("models:write")
    public Uni<ModelViews.Validation> validate(@PathParam("id") String id, @QueryParam("runInference") boolean runInference) {
        return models.call(s -> s.validateModel(ValidateModelRequest.newBuilder().setId(id).setRunInference(runInference)
                .build())).map(r -> ModelViews.Validation.of(r.getResult(), r.getStatus().name()));
    }

    public record Deleted(String id, long freedBytes) {
    }

    @DELETE
    @Path("/{id}")
    @RequiresScope("models:write")
    public Uni<Deleted> delete(@PathParam("id") String id, @QueryParam("force") boolean force) {
        return models.call(s -> s.deleteModel(DeleteModelRequest.newBuilder().setId(id).setForce(force).build()))
                .map(r -> new Deleted(r.getId(), r.getFreedBytes()));
    }

    /** Cancels a download job (idempotent): answers its final progress. */
    @DELETE
    @Path("/jobs/{jobId}")
    @RequiresScope("models:write")
    public Uni<ModelViews.Progress> cancel(@PathParam("jobId") String jobId) {
        return models.call(s -> s.cancelDownload(CancelDownloadRequest.newBuilder().setJobId(jobId).build()))
                .map(r -> ModelViews.Progress.of(r.getProgress()));
    }

    /** The model's latest download as NDJSON: the current state, then each update until it ends. */
    @GET
    @Path("/{id}/progress")
    @Produces("application/x-ndjson")
    @RestStreamElementType(MediaType.APPLICATION_JSON)
    @RequiresScope("models:read")
    public Multi<ModelViews.Progress> progress(@PathParam("id") String id) {
        return models.call(s -> s.getModel(GetModelRequest.newBuilder().setId(id).build())).toMulti()
                .flatMap(r -> {
                    if (r.getModel().getJobId().isEmpty()) {
                        throw new ProblemException(404, "Not Found", "model " + id + " has no download");
                    }
                    return models.stream(s -> s.watchDownload(WatchDownloadRequest.newBuilder()
                            .setJobId(r.getModel().getJobId()).build()));
                })
                .map(ModelViews.Progress::of);
    }
}
