package dev.bkg.gateway.api;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.bkg.gateway.grpc.InferenceClient;
import dev.bkg.gateway.grpc.ModelClient;
import dev.bkg.gateway.security.RequiresScope;
import dev.bkg.proto.inference.v1.EmbedRequest;
import dev.bkg.proto.inference.v1.EmbedResponse;
import dev.bkg.proto.model.v1.ListModelsRequest;
import dev.bkg.proto.model.v1.Model;
import dev.bkg.proto.model.v1.ModelKind;
import dev.bkg.proto.model.v1.ModelStatus;
import io.smallrye.mutiny.Uni;

/**
 * The OpenAI-compatible API: {@code POST /v1/embeddings} (input a string or an array of strings,
 * {@code encoding_format} float or base64) on inference-service's batched embeddings, and
 * {@code GET /v1/models}, the READY models that /v1 serves. Errors stay problem+json like the rest
 * of the API (OpenAI clients read the status code and the message either way).
 */
@Path("/v1")
@Produces(MediaType.APPLICATION_JSON)
public class OpenAiResource {

    private final InferenceClient inference;
    private final ModelClient models;
    private final ObjectMapper json;

    OpenAiResource(InferenceClient inference, ModelClient models, ObjectMapper json) {
        this.inference = inference;
        this.models = models;
        this.json = json;
    }

    @POST
    @Path("/embeddings")
    @Consumes(MediaType.APPLICATION_JSON)
    @RequiresScope("inference")
    public Uni<ObjectNode> embeddings(JsonNode body) {
        if (body == null || !body.isObject()) {
            throw ProblemException.badRequest("the body must be a JSON object with \"input\"");
        }
        JsonNode input = body.get("input");
        List<String> texts = new ArrayList<>();
        if (input != null && input.isTextual()) {
            texts.add(input.asText());
        } else if (input != null && input.isArray()) {
            for (JsonNode item : input) {
                if (!item.isTextual()) {
                    throw ProblemException.badRequest("input must be a string or an array of strings (token arrays are not"
                            + " accepted: the model tokenizes itself)");
                }
                texts.add(item.asText());
            }
        } else {
            throw ProblemException.badRequest("input must be a string or an array of strings");
        }
        String format = body.path("encoding_format").asText("float");
        if (!format.equals("float") && !format.equals("base64")) {
            throw ProblemException.badRequest("encoding_format must be float or base64");
        }
        JsonNode model = body.get("model");
        if (model != null && !model.isNull() && !model.isTextual()) {
            throw ProblemException.badRequest("model must be a string");
        }
        EmbedRequest request = EmbedRequest.newBuilder().setModel(model == null || model.isNull() ? "" : model.asText())
                .addAllTexts(texts).setNormalize(true).setTruncate(true).build();
        return inference.embeddings(s -> s.embed(request)).map(reply -> openAiShape(reply, format, body.path("dimensions")));
    }

    private ObjectNode openAiShape(EmbedResponse reply, String format, JsonNode dimensions) {
        if (!dimensions.isMissingNode() && !dimensions.isNull() && dimensions.asInt() != reply.getDimensions()) {
            throw ProblemException.badRequest("model " + reply.getModel() + " has " + reply.getDimensions()
                    + " dimensions; it cannot answer " + dimensions.asText());
        }
        ObjectNode out = json.createObjectNode().put("object", "list");
        ArrayNode data = out.putArray("data");
        for (int i = 0; i < reply.getEmbeddingsCount(); i++) {
            ObjectNode item = data.addObject().put("object", "embedding").put("index", i);
            List<Float> values = reply.getEmbeddings(i).getValuesList();
            if (format.equals("base64")) {
                ByteBuffer bytes = ByteBuffer.allocate(values.size() * 4).order(ByteOrder.LITTLE_ENDIAN);
                values.forEach(bytes::putFloat);
                item.put("embedding", Base64.getEncoder().encodeToString(bytes.array()));
            } else {
                ArrayNode vector = item.putArray("embedding");
                values.forEach(vector::add);
            }
        }
        out.put("model", reply.getModel());
        out.putObject("usage").put("prompt_tokens", reply.getUsage().getPromptTokens())
                .put("total_tokens", reply.getUsage().getPromptTokens());
        return out;
    }

    @GET
    @Path("/models")
    @RequiresScope("inference")
    public Uni<ObjectNode> models() {
        return models.call(s -> s.listModels(ListModelsRequest.newBuilder().setStatus(ModelStatus.READY).build())).map(reply -> {
            ObjectNode out = json.createObjectNode().put("object", "list");
            ArrayNode data = out.putArray("data");
            for (Model model : reply.getModelsList()) {
                if (model.getKind() != ModelKind.EMBEDDING && model.getKind() != ModelKind.LLM) {
                    continue; // /v1 serves text models; faces and generic graphs have their own APIs
                }
                ObjectNode entry = data.addObject().put("id", model.getName()).put("object", "model")
                        .put("created", model.getCreatedEpochMs() / 1000).put("owned_by", "bkg");
                entry.put("kind", ModelViews.kind(model.getKind()));
                if (model.containsProperties("dimensions")) {
                    entry.put("dimensions", Integer.parseInt(model.getPropertiesOrThrow("dimensions")));
                }
            }
            return out;
        });
    }
}
