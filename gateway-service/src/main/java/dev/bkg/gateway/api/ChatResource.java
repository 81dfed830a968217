package dev.bkg.gateway.api;

import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.MediaType;

import org.jboss.resteasy.reactive.RestMulti;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.bkg.gateway.grpc.GrpcProblems;
import dev.bkg.gateway.grpc.InferenceClient;
import dev.bkg.gateway.security.RequiresScope;
import dev.bkg.proto.inference.v1.ChatChunk;
import dev.bkg.proto.inference.v1.ChatMessage;
import dev.bkg.proto.inference.v1.ChatRequest;
import dev.bkg.proto.inference.v1.ChatResponse;
import dev.bkg.proto.inference.v1.ChatStats;
import dev.bkg.proto.inference.v1.Usage;
import io.grpc.StatusRuntimeException;
import io.smallrye.mutiny.Multi;
import io.vertx.ext.web.RoutingContext;

/**
 * Chat in the OpenAI shape: {@code POST /v1/chat/completions} on inference-service's continuous
 * batching — whole replies, or with {@code "stream": true} server-sent {@code chat.completion.chunk}
 * events ending with {@code [DONE]}. A refusal before the first event (no chat model installed: 409
 * with how to pull one; a full queue: 429 with Retry-After; bad settings: 400) is a problem+json
 * answer; a failure after it is an {@code {"error": …}} event. A client that goes away cancels the
 * generation.
 */
@Path("/v1/chat")
public class ChatResource {

    private final InferenceClient inference;
    private final ObjectMapper json;

    ChatResource(InferenceClient inference, ObjectMapper json) {
        this.inference = inference;
        this.json = json;
    }

    /**
     * Clients ask for text/event-stream or application/json (OpenAI's own client sends the latter
     * for streams too); the method answers either shape itself, so whatever they accept matches.
     */
    @ServerRequestFilter(preMatching = true)
    public void acceptEitherShape(ContainerRequestContext request) {
        if (request.getUriInfo().getPath().equals("/v1/chat/completions")) {
            request.getHeaders().putSingle("Accept", MediaType.WILDCARD);
        }
    }

    @POST
    @Path("/completions")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.TEXT_PLAIN)
    @RequiresScope("inference")
    public Multi<String> completions(JsonNode body, RoutingContext http) {
        ChatRequest request = request(body);
        String id = "chatcmpl-" + UUID.randomUUID().toString().replace("-", "");
        long created = System.currentTimeMillis() / 1000;
        // one streamed method for both shapes (a JSON body, or server-sent events framed here), so
        // that a refusal before the first byte still becomes a problem+json answer
        if (!body.path("stream").asBoolean(false)) {
            return RestMulti.fromMultiData(inference.chat(s -> s.chat(request)).map(reply -> completion(id, created, reply))
                    .toMulti()).header("Content-Type", MediaType.APPLICATION_JSON).build();
        }
        // a client that goes away ends the gRPC call, and so the generation (the stream is not cancelled otherwise)
        Multi<String> events = events(request, id, created).map(data -> "data: " + data + "\n\n")
                .onSubscription().invoke(subscription -> http.addEndHandler(end -> {
                    if (end.failed()) {
                        subscription.cancel();
                    }
                }));
        return RestMulti.fromMultiData(events)
                .header("Content-Type", "text/event-stream").header("Cache-Control", "no-cache")
                .header("X-Accel-Buffering", "no").build();
    }

    private Multi<String> events(ChatRequest request, String id, long created) {
        AtomicBoolean started = new AtomicBoolean();
        String[] model = {request.getModel()};
        return inference.chatStream(request)
                .filter(chunk -> chunk.getText().length() > 0 || !chunk.getRole().isEmpty() || !chunk.getFinishReason().isEmpty())
                .map(chunk -> {
                    started.set(true);
                    if (!chunk.getModel().isEmpty()) {
                        model[0] = chunk.getModel();
                    }
                    return chunk(id, created, model[0], chunk);
                })
                .onCompletion().continueWith("[DONE]")
                .onFailure().recoverWithMulti(failure -> {
                    if (!started.get()) {
                        return Multi.createFrom().failure(failure instanceof StatusRuntimeException status
                                ? GrpcProblems.toProblem(status.getStatus(), "inference-service (llmserver)")
                                : failure);
                    }
                    // the stream has begun: an error event, as OpenAI-compatible servers send it
                    String message = failure instanceof StatusRuntimeException status && status.getStatus().getDescription() != null
                            ? status.getStatus().getDescription() : "the generation failed: " + failure.getMessage();
                    ObjectNode error = json.createObjectNode();
                    error.putObject("error").put("message", message).put("type", failure instanceof StatusRuntimeException status
                            ? status.getStatus().getCode().name().toLowerCase(java.util.Locale.ROOT) : "internal");
                    return Multi.createFrom().item(error.toString());
                });
    }

    /** The OpenAI request checked field by field (400 naming the field), as the typed request. */
    private static ChatRequest request(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw ProblemException.badRequest("the body must be a JSON object with \"messages\"");
        }
        ChatRequest.Builder request = ChatRequest.newBuilder();
        JsonNode model = body.get("model");
        if (model != null && !model.isNull()) {
            if (!model.isTextual()) {
                throw ProblemException.badRequest("model must be a string");
            }
            request.setModel(model.asText());
        }
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw ProblemException.badRequest("messages must be a non-empty array of {role, content}");
        }
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            if (!m.isObject() || !m.path("role").isTextual()) {
                throw ProblemException.badRequest("messages[" + i + "] must be an object with a string role");
            }
            request.addMessages(ChatMessage.newBuilder().setRole(m.get("role").asText()).setContent(content(m.get("content"), i)));
        }
        if (body.hasNonNull("n") && body.get("n").asInt(-1) != 1) {
            throw ProblemException.badRequest("n must be 1: one reply per request");
        }
        for (String field : new String[] {"max_tokens", "max_completion_tokens"}) {
            if (body.hasNonNull(field)) {
                JsonNode value = body.get(field);
                if (!value.canConvertToInt() || !value.isIntegralNumber() || value.asInt() <= 0) {
                    throw ProblemException.badRequest(field + " must be a positive integer");
                }
                request.setMaxTokens(value.asInt());
            }
        }
        Float temperature = number(body, "temperature", 0, 2);
        if (temperature != null) {
            request.setTemperature(temperature);
        }
        Float topP = number(body, "top_p", 0, 1);
        if (topP != null) {
            if (topP == 0) {
                throw ProblemException.badRequest("top_p must be within (0, 1]");
            }
            request.setTopP(topP);
        }
        Float minP = number(body, "min_p", 0, 1);
        if (minP != null) {
            request.setMinP(minP);
        }
        Float repetition = number(body, "repetition_penalty", 0, 10);
        if (repetition != null) {
            if (repetition == 0) {
                throw ProblemException.badRequest("repetition_penalty must be positive (1 is off)");
            }
            request.setRepetitionPenalty(repetition);
        }
        Float presence = number(body, "presence_penalty", -2, 2);
        if (presence != null) {
            request.setPresencePenalty(presence);
        }
        Float frequency = number(body, "frequency_penalty", -2, 2);
        if (frequency != null) {
            request.setFrequencyPenalty(frequency);
        }
        if (body.hasNonNull("top_k")) {
            if (!body.get("top_k").isIntegralNumber() || body.get("top_k").asInt() < 0) {
                throw ProblemException.badRequest("top_k must be 0 (off) or a positive integer");
            }
            request.setTopK(body.get("top_k").asInt());
        }
        if (body.hasNonNull("seed")) {
            if (!body.get("seed").isIntegralNumber()) {
                throw ProblemException.badRequest("seed must be an integer");
            }
            request.setSeed(body.get("seed").asLong());
        }
        JsonNode stop = body.get("stop");
        if (stop != null && !stop.isNull()) {
            if (stop.isTextual()) {
                request.addStop(stop.asText());
            } else if (stop.isArray()) {
                for (JsonNode s : stop) {
                    if (!s.isTextual()) {
                        throw ProblemException.badRequest("stop must be a string or an array of strings");
                    }
                    request.addStop(s.asText());
                }
            } else {
                throw ProblemException.badRequest("stop must be a string or an array of strings");
            }
        }
        if (body.has("stream") && !body.get("stream").isBoolean()) {
            throw ProblemException.badRequest("stream must be true or false");
        }
        return request.build();
    }

    /** A message's content: a string, or OpenAI's array of parts of which only text parts are read. */
    private static String content(JsonNode content, int index) {
        if (content != null && content.isTextual()) {
            return content.asText();
        }
        if (content != null && content.isArray()) {
            StringBuilder text = new StringBuilder();
            for (JsonNode part : content) {
                if (!part.path("type").asText("").equals("text") || !part.path("text").isTextual()) {
                    throw ProblemException.badRequest("messages[" + index + "].content: only text parts are understood");
                }
                text.append(part.get("text").asText());
            }
            return text.toString();
        }
        throw ProblemException.badRequest("messages[" + index + "].content must be a string");
    }

    private static Float number(JsonNode body, String field, float min, float max) {
        if (!body.hasNonNull(field)) {
            return null;
        }
        JsonNode value = body.get(field);
        if (!value.isNumber() || value.asDouble() < min || value.asDouble() > max) {
            throw ProblemException.badRequest(field + " must be a number within [" + min + ", " + max + "]");
        }
        return (float) value.asDouble();
    }

    private String completion(String id, long created, ChatResponse reply) {
        ObjectNode out = json.createObjectNode().put("id", id).put("object", "chat.completion").put("created", created)
                .put("model", reply.getModel());
        ObjectNode choice = out.putArray("choices").addObject().put("index", 0);
        choice.putObject("message").put("role", "assistant").put("content", reply.getMessage().getContent());
        choice.put("finish_reason", reply.getFinishReason());
        usage(out, reply.getUsage(), reply.getStats());
        return out.toString();
    }

    private String chunk(String id, long created, String model, ChatChunk chunk) {
        ObjectNode out = json.createObjectNode().put("id", id).put("object", "chat.completion.chunk").put("created", created)
                .put("model", model);
        ObjectNode choice = out.putArray("choices").addObject().put("index", 0);
        ObjectNode delta = choice.putObject("delta");
        if (!chunk.getRole().isEmpty()) {
            delta.put("role", chunk.getRole()).put("content", "");
        } else if (!chunk.getText().isEmpty()) {
            delta.put("content", chunk.getText());
        }
        if (chunk.getFinishReason().isEmpty()) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", chunk.getFinishReason());
            usage(out, chunk.getUsage(), chunk.getStats());
        }
        return out.toString();
    }

    private static void usage(ObjectNode out, Usage usage, ChatStats stats) {
        out.putObject("usage").put("prompt_tokens", usage.getPromptTokens()).put("completion_tokens", usage.getCompletionTokens())
                .put("total_tokens", usage.getTotalTokens());
        out.putObject("timings").put("time_to_first_token_ms", stats.getTimeToFirstTokenMs())
                .put("tokens_per_second", Math.round(stats.getTokensPerSecond() * 100) / 100.0)
                .put("duration_ms", stats.getDurationMs()).put("queued_ms", stats.getQueuedMs());
    }
}
