package dev.bkg.gateway.api;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.bkg.gateway.grpc.InferenceClient;
import dev.bkg.gateway.security.RequiresScope;
import dev.bkg.proto.inference.v1.ChatModelInfo;
import dev.bkg.proto.inference.v1.ListChatModelsRequest;
import io.smallrye.mutiny.Uni;

/** {@code GET /api/chat/models}: the chat models and which are loaded, with memory, provider and expiry (Ollama's ps). */
@Path("/api/chat")
public class ChatModelsResource {

    private final InferenceClient inference;
    private final ObjectMapper json;

    ChatModelsResource(InferenceClient inference, ObjectMapper json) {
        this.inference = inference;
        this.json = json;
    }

    @GET
    @Path("/models")
    @Produces(MediaType.APPLICATION_JSON)
    @RequiresScope("inference")
    public Uni<ObjectNode> models() {
        return inference.chat(s -> s.listChatModels(ListChatModelsRequest.getDefaultInstance())).map(reply -> {
            ObjectNode out = json.createObjectNode();
            ArrayNode models = out.putArray("models");
            for (ChatModelInfo m : reply.getModelsList()) {
                ObjectNode entry = models.addObject().put("id", m.getId()).put("name", m.getName()).put("loaded", m.getLoaded())
                        .put("default", m.getIsDefault());
                if (m.getLoaded()) {
                    entry.put("provider", m.getProvider().name()).put("memoryBytes", m.getMemoryBytes())
                            .put("contextLength", m.getContextLength()).put("architecture", m.getArchitecture())
                            .put("lastUsedEpochMs", m.getLastUsedEpochMs()).put("expiresEpochMs", m.getExpiresEpochMs())
                            .put("active", m.getActive()).put("queued", m.getQueued()).put("peakBatch", m.getPeakBatch());
                }
            }
            return out;
        });
    }
}
