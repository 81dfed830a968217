package dev.bkg.face.grpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Message;

import dev.bkg.face.domain.FaceModels;
import dev.bkg.face.domain.Gallery;
import dev.bkg.proto.face.v1.DetectRequest;
import dev.bkg.proto.face.v1.EmbedRequest;
import dev.bkg.proto.face.v1.RecognizeRequest;
import dev.bkg.proto.plugin.TypedPayloads;
import dev.bkg.proto.plugin.v1.Capability;
import dev.bkg.proto.plugin.v1.DescribeRequest;
import dev.bkg.proto.plugin.v1.DescribeResponse;
import dev.bkg.proto.plugin.v1.HealthRequest;
import dev.bkg.proto.plugin.v1.HealthResponse;
import dev.bkg.proto.plugin.v1.InvokeRequest;
import dev.bkg.proto.plugin.v1.InvokeResponse;
import dev.bkg.proto.plugin.v1.MutinyPluginGrpc;
import io.grpc.Status;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;

/**
 * face-service as the plugin {@code rustyface}. On the bus each capability takes its typed
 * request in JSON form (proto field names) with the image as base64, either
 * {@code {"image": {"data": "<base64>"}}} or simply {@code {"image": "<base64>"}}, and answers the
 * typed response as JSON: rustyface.face.detect → DetectRequest, .embed → EmbedRequest,
 * .recognize → RecognizeRequest. Healthy only while the models and the gallery are loaded.
 */
@GrpcService
public class RustyfacePluginService extends MutinyPluginGrpc.PluginImplBase {

    private static final String[] CAPABILITIES = { "rustyface.face.detect", "rustyface.face.embed", "rustyface.face.recognize" };

    private final FaceGrpcService faces;
    private final FaceModels models;
    private final Gallery gallery;
    private final ObjectMapper json;

    RustyfacePluginService(@GrpcService FaceGrpcService faces, FaceModels models, Gallery gallery, ObjectMapper json) {
        this.faces = faces;
        this.models = models;
        this.gallery = gallery;
        this.json = json;
    }

    @Override
    public Uni<DescribeResponse> describe(DescribeRequest request) {
        DescribeResponse.Builder reply = DescribeResponse.newBuilder().setName("rustyface").setVersion("0.2.0");
        for (String capability : CAPABILITIES) {
            reply.addCapabilities(Capability.newBuilder().setName(capability));
        }
        return Uni.createFrom().item(reply.build());
    }

    @Override
    public Uni<HealthResponse> health(HealthRequest request) {
        String problem = models.problem() != null ? models.problem() : gallery.problem();
        return Uni.createFrom().item(problem == null ? HealthResponse.newBuilder().setStatus(HealthResponse.Status.SERVING).build()
                : HealthResponse.newBuilder().setStatus(HealthResponse.Status.NOT_SERVING).setMessage(problem).build());
    }

    @Override
    @Blocking
    public Uni<InvokeResponse> invoke(InvokeRequest request) {
        ObjectNode body;
        try {
            JsonNode parsed = request.getPayloadJson().isBlank() ? json.createObjectNode() : json.readTree(request.getPayloadJson());
            if (!parsed.isObject()) {
                throw new IllegalArgumentException();
            }
            body = (ObjectNode) parsed;
        } catch (Exception e) {
            return Uni.createFrom().failure(Status.INVALID_ARGUMENT.withDescription("payload must be a JSON object").asRuntimeException());
        }
        if (body.path("image").isTextual()) { // the short form: the image's base64 alone
            String base64 = body.path("image").asText();
            body.putObject("image").put("data", base64);
        }
        try {
            Uni<? extends Message> reply = switch (request.getCapability()) {
                case "rustyface.face.detect" -> faces.detect(parse(body, DetectRequest.newBuilder()));
                case "rustyface.face.embed" -> faces.embed(parse(body, EmbedRequest.newBuilder()));
                case "rustyface.face.recognize" -> faces.recognize(parse(body, RecognizeRequest.newBuilder()));
                default -> throw Status.UNIMPLEMENTED.withDescription("rustyface does not provide " + request.getCapability())
                        .asRuntimeException();
            };
            return reply.map(TypedPayloads::reply);
        } catch (RuntimeException e) {
            return Uni.createFrom().failure(Statuses.of(e));
        }
    }

    private static <T extends Message> T parse(ObjectNode body, Message.Builder builder) {
        return TypedPayloads.parse(body.toString(), builder);
    }
}
