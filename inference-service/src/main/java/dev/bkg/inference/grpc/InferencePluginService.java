package dev.bkg.inference.grpc;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.bkg.inference.domain.Embeddings;
import dev.bkg.inference.domain.InferenceSettings;
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
 * inference-service on the plugin contract. One jar plays three plugins, chosen by
 * {@code bkg.inference.role}: llm (plugin llmserver), runner (candle), index (brainml).
 * llm.embed answers on the bus; the capabilities of later issues answer UNIMPLEMENTED.
 */
@GrpcService
public class InferencePluginService extends MutinyPluginGrpc.PluginImplBase {

    private static final Map<String, String> PLUGIN_BY_ROLE = Map.of("llm", "llmserver", "runner", "candle",
            "index", "brainml");
    private static final Map<String, List<String>> CAPABILITIES_BY_ROLE = Map.of(
            "llm", List.of("llm.chat", "llm.embed"),
            "runner", List.of("candle.model.load", "candle.model.infer", "candle.model.quantize"),
            "index", List.of("brainml.index", "brainml.query", "brainml.train", "brainml.stats", "brainml.admin"));

    private final String role;
    private final Embeddings embeddings;
    private final ObjectMapper json;

    InferencePluginService(InferenceSettings settings, Embeddings embeddings, ObjectMapper json) {
        this.role = settings.role();
        this.embeddings = embeddings;
        this.json = json;
    }

    @Override
    public Uni<DescribeResponse> describe(DescribeRequest request) {
        DescribeResponse.Builder reply = DescribeResponse.newBuilder().setName(PLUGIN_BY_ROLE.get(role)).setVersion("0.2.0");
        CAPABILITIES_BY_ROLE.get(role).forEach(c -> reply.addCapabilities(Capability.newBuilder().setName(c)));
        return Uni.createFrom().item(reply.build());
    }

    @Override
    public Uni<HealthResponse> health(HealthRequest request) {
        String problem = role.equals("runner") ? null : embeddings.defaultProblem();
        return Uni.createFrom().item(problem == null ? HealthResponse.newBuilder().setStatus(HealthResponse.Status.SERVING).build()
                : HealthResponse.newBuilder().setStatus(HealthResponse.Status.NOT_SERVING)
                        .setMessage("embedding model not loaded: " + problem).build());
    }

    @Override
    @Blocking
    public Uni<InvokeResponse> invoke(InvokeRequest request) {
        if (!CAPABILITIES_BY_ROLE.get(role).contains(request.getCapability())) {
            return Uni.createFrom().failure(Status.UNIMPLEMENTED.withDescription(PLUGIN_BY_ROLE.get(role)
                    + " does not provide " + request.getCapability()).asRuntimeException());
        }
        try {
            if (request.getCapability().equals("llm.embed")) {
                return embed(request.getPayloadJson());
            }
        } catch (RuntimeException e) {
            return Uni.createFrom().failure(Statuses.of(e));
        }
        return Uni.createFrom().failure(Status.UNIMPLEMENTED.withDescription(request.getCapability()
                + " is not built yet").asRuntimeException());
    }

    /** {"input": "text" | ["texts"], "model"?, "normalize"? (true), "truncate"? (true)} → vectors and usage. */
    private Uni<InvokeResponse> embed(String payload) {
        JsonNode body;
        try {
            body = payload.isBlank() ? json.createObjectNode() : json.readTree(payload);
        } catch (Exception e) {
            return Uni.createFrom().failure(Status.INVALID_ARGUMENT.withDescription("payload is not JSON").asRuntimeException());
        }
        JsonNode input = body.has("input") ? body.get("input") : body.path("texts");
        List<String> texts = new ArrayList<>();
        if (input.isTextual()) {
            texts.add(input.asText());
        } else if (input.isArray()) {
            for (JsonNode text : input) {
                if (!text.isTextual()) {
                    return Uni.createFrom().failure(Status.INVALID_ARGUMENT
                            .withDescription("input must be a string or an array of strings").asRuntimeException());
                }
                texts.add(text.asText());
            }
        } else {
            return Uni.createFrom().failure(Status.INVALID_ARGUMENT
                    .withDescription("input must be a string or an array of strings").asRuntimeException());
        }
        return Uni.createFrom().completionStage(embeddings.embed(body.path("model").asText(""), texts,
                body.path("normalize").asBoolean(true), body.path("truncate").asBoolean(true))).map(result -> {
                    ObjectNode reply = json.createObjectNode().put("model", result.model()).put("dimensions", result.dimensions());
                    ArrayNode vectors = reply.putArray("embeddings");
                    for (float[] vector : result.vectors()) {
                        ArrayNode values = vectors.addArray();
                        for (float v : vector) {
                            values.add(v);
                        }
                    }
                    reply.putObject("usage").put("prompt_tokens", result.promptTokens()).put("total_tokens", result.promptTokens());
                    return InvokeResponse.newBuilder().setPayloadJson(reply.toString()).build();
                }).onFailure().transform(Statuses::of);
    }
}
