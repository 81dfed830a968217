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
import com.google.protobuf.Message;

import dev.bkg.proto.plugin.TypedPayloads;
import dev.bkg.inference.runner.RunnerModels;
import dev.bkg.proto.inference.v1.ChatRequest;
import dev.bkg.proto.inference.v1.InferRequest;
import dev.bkg.proto.inference.v1.LoadModelRequest;
import dev.bkg.proto.inference.v1.QuantizeRequest;
import dev.bkg.proto.inference.v1.CompactRequest;
import dev.bkg.proto.inference.v1.CreateCollectionRequest;
import dev.bkg.proto.inference.v1.DeleteDocumentsRequest;
import dev.bkg.proto.inference.v1.DropCollectionRequest;
import dev.bkg.proto.inference.v1.IndexDocumentsRequest;
import dev.bkg.proto.inference.v1.ListCollectionsRequest;
import dev.bkg.proto.inference.v1.QueryRequest;
import dev.bkg.proto.inference.v1.ReindexRequest;
import dev.bkg.proto.inference.v1.StatsRequest;
import dev.bkg.proto.inference.v1.TrainRequest;
import io.grpc.Status;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;

/**
 * inference-service on the plugin contract. One jar plays three plugins, chosen by
 * {@code bkg.inference.role}: llm (plugin llmserver), runner (candle), index (brainml).
 * Every capability a role declares answers on the bus.
 */
@GrpcService
public class InferencePluginService extends MutinyPluginGrpc.PluginImplBase {

    /** The roles and the plugin each plays (RoleFilter refuses any other role at start). */
    static final Map<String, String> PLUGIN_BY_ROLE = Map.of("llm", "llmserver", "runner", "candle",
            "index", "brainml");
    private static final Map<String, List<String>> CAPABILITIES_BY_ROLE = Map.of(
            "llm", List.of("llm.chat", "llm.embed"),
            "runner", List.of("candle.model.load", "candle.model.infer", "candle.model.quantize"),
            "index", List.of("brainml.index", "brainml.query", "brainml.train", "brainml.stats", "brainml.admin"));

    private final String role;
    private final Embeddings embeddings;
    private final IndexGrpcService index;
    private final ChatGrpcService chat;
    private final RunnerGrpcService runner;
    private final ObjectMapper json;

    InferencePluginService(InferenceSettings settings, Embeddings embeddings, @GrpcService IndexGrpcService index,
            @GrpcService ChatGrpcService chat, @GrpcService RunnerGrpcService runner, ObjectMapper json) {
        this.role = settings.role();
        this.embeddings = embeddings;
        this.index = index;
        this.chat = chat;
        this.runner = runner;
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
        if (problem == null && role.equals("index")) {
            problem = index.notReady();
        }
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
            if (request.getCapability().equals("llm.chat")) {
                // the typed request as JSON ({"messages":[{"role":"user","content":"…"}],"max_tokens":…}), the typed reply
                ChatRequest typed = TypedPayloads.parse(request.getPayloadJson().isBlank() ? "{}" : request.getPayloadJson(),
                        ChatRequest.newBuilder());
                return chat.chat(typed).map(TypedPayloads::reply);
            }
            if (request.getCapability().startsWith("brainml.")) {
                return brainml(request.getCapability(), request.getPayloadJson());
            }
            return candle(request.getCapability(), request.getPayloadJson().isBlank() ? "{}" : request.getPayloadJson());
        } catch (RuntimeException e) {
            return Uni.createFrom().failure(Statuses.of(e));
        }
    }

    /**
     * candle on the bus, typed requests as JSON: load {"modelId", "keepAliveSeconds"?}; infer
     * {"modelId", "inputs": [{"name", "elementType": "FLOAT", "shape": [1, 2], "floatData": [1, 2]}],
     * "outputNames"?} answering the outputs' values in their typed fields (floatData, int64Data, …;
     * rawData, base64, for FLOAT16, INT8 and UINT8); quantize {"modelId", "name"?, "samples"?}.
     */
    private Uni<InvokeResponse> candle(String capability, String payload) {
        Uni<? extends Message> reply = switch (capability) {
            case "candle.model.load" -> runner.loadModel(TypedPayloads.parse(payload, LoadModelRequest.newBuilder()));
            case "candle.model.infer" -> runner.infer(TypedPayloads.<InferRequest>parse(payload, InferRequest.newBuilder()))
                    .map(RunnerModels::withTypedValues);
            default -> runner.quantize(TypedPayloads.parse(payload, QuantizeRequest.newBuilder()));
        };
        return reply.map(TypedPayloads::reply);
    }

    /**
     * brainml on the bus: the payload is the typed request in its JSON form (proto field names,
     * e.g. {"collection":"docs","documents":[{"id":"1","text":"…"}]}), the answer the typed
     * response. brainml.stats without a collection lists the collections; brainml.admin takes
     * {"action": "create" | "drop" | "compact" | "reindex" | "delete", …the request's fields}.
     */
    private Uni<InvokeResponse> brainml(String capability, String payload) {
        ObjectNode body;
        try {
            JsonNode parsed = payload.isBlank() ? json.createObjectNode() : json.readTree(payload);
            if (!parsed.isObject()) {
                throw new IllegalArgumentException();
            }
            body = (ObjectNode) parsed;
        } catch (Exception e) {
            return Uni.createFrom().failure(Status.INVALID_ARGUMENT.withDescription("payload must be a JSON object").asRuntimeException());
        }
        Uni<? extends Message> reply = switch (capability) {
            case "brainml.index" -> index.indexDocuments(parse(body, IndexDocumentsRequest.newBuilder()));
            case "brainml.query" -> index.query(parse(body, QueryRequest.newBuilder()));
            case "brainml.train" -> index.train(parse(body, TrainRequest.newBuilder()));
            case "brainml.stats" -> body.path("collection").asText("").isEmpty()
                    ? index.listCollections(ListCollectionsRequest.getDefaultInstance())
                    : index.stats(parse(body, StatsRequest.newBuilder()));
            default -> {
                String action = body.path("action").asText("");
                body.remove("action");
                yield switch (action) {
                    case "create" -> index.createCollection(parse(body, CreateCollectionRequest.newBuilder()));
                    case "drop" -> index.dropCollection(parse(body, DropCollectionRequest.newBuilder()));
                    case "compact" -> index.compact(parse(body, CompactRequest.newBuilder()));
                    case "reindex" -> index.reindex(parse(body, ReindexRequest.newBuilder()));
                    case "delete" -> index.deleteDocuments(parse(body, DeleteDocumentsRequest.newBuilder()));
                    default -> throw Status.INVALID_ARGUMENT.withDescription(
                            "brainml.admin needs an action: create, drop, compact, reindex or delete").asRuntimeException();
                };
            }
        };
        return reply.map(TypedPayloads::reply);
    }

    private static <T extends Message> T parse(ObjectNode body, Message.Builder builder) {
        return TypedPayloads.parse(body.toString(), builder);
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
