package dev.bkg.inference.grpc;

import dev.bkg.inference.chat.ChatModels;
import dev.bkg.inference.chat.ChatTemplate;
import dev.bkg.inference.chat.Generation;
import dev.bkg.inference.domain.OrtRuntime;
import dev.bkg.proto.inference.v1.ChatChunk;
import dev.bkg.proto.inference.v1.ChatMessage;
import dev.bkg.proto.inference.v1.ChatModelInfo;
import dev.bkg.proto.inference.v1.ChatRequest;
import dev.bkg.proto.inference.v1.ChatResponse;
import dev.bkg.proto.inference.v1.ChatStats;
import dev.bkg.proto.inference.v1.ListChatModelsRequest;
import dev.bkg.proto.inference.v1.ListChatModelsResponse;
import dev.bkg.proto.inference.v1.MutinyChatServiceGrpc;
import dev.bkg.proto.inference.v1.Usage;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;

/**
 * Typed chat (role llm): the gateway's /v1/chat/completions and the bus's llm.chat end here. A
 * stream that the client cancels (it went away, or its deadline passed) cancels the generation,
 * which leaves the batch at the next step.
 */
@GrpcService
public class ChatGrpcService extends MutinyChatServiceGrpc.ChatServiceImplBase {

    private final ChatModels chats;
    private final OrtRuntime runtime;

    ChatGrpcService(ChatModels chats, OrtRuntime runtime) {
        this.chats = chats;
        this.runtime = runtime;
    }

    @Override
    public Multi<ChatChunk> chatStream(ChatRequest request) {
        return Multi.createFrom().<ChatChunk>emitter(emitter -> {
            Generation.Sink sink = new Generation.Sink() {
                @Override
                public void accepted(String model, int promptTokens) {
                    emitter.emit(ChatChunk.newBuilder().setRole("assistant").setModel(model)
                            .setUsage(Usage.newBuilder().setPromptTokens(promptTokens)).build());
                }

                @Override
                public void token(String text, long tokenId) {
                    emitter.emit(ChatChunk.newBuilder().setText(text).setTokenId(tokenId).build());
                }

                @Override
                public void finished(String reason, Generation.Usage usage) {
                    emitter.emit(ChatChunk.newBuilder().setFinishReason(reason).setUsage(usage(usage)).setStats(stats(usage))
                            .build());
                    emitter.complete();
                }

                @Override
                public void failed(RuntimeException failure) {
                    emitter.fail(Statuses.of(failure));
                }
            };
            // templating, tokenizing and a first load block: off the event loop
            Infrastructure.getDefaultWorkerPool().execute(() -> {
                try {
                    Generation generation = chats.start(request(request), sink);
                    emitter.onTermination(generation::cancel);
                    if (emitter.isCancelled()) {
                        generation.cancel();
                    }
                } catch (RuntimeException e) {
                    emitter.fail(Statuses.of(e));
                }
            });
        });
    }

    /** The stream collected (its start already runs on a worker). */
    @Override
    public Uni<ChatResponse> chat(ChatRequest request) {
        return chatStream(request).collect().in(ChatResponse::newBuilder, (reply, chunk) -> {
            if (!chunk.getModel().isEmpty()) {
                reply.setModel(chunk.getModel());
            }
            ChatMessage.Builder message = reply.getMessageBuilder().setRole("assistant");
            message.setContent(message.getContent() + chunk.getText());
            if (!chunk.getFinishReason().isEmpty()) {
                reply.setFinishReason(chunk.getFinishReason()).setUsage(chunk.getUsage()).setStats(chunk.getStats())
                        .setDurationMs(chunk.getStats().getDurationMs());
            }
        }).map(ChatResponse.Builder::build);
    }

    @Override
    @Blocking
    public Uni<ListChatModelsResponse> listChatModels(ListChatModelsRequest request) {
        try {
            ListChatModelsResponse.Builder reply = ListChatModelsResponse.newBuilder();
            for (ChatModels.Info info : chats.list()) {
                ChatModelInfo.Builder entry = ChatModelInfo.newBuilder().setId(info.model().getId())
                        .setName(info.model().getName()).setIsDefault(info.isDefault()).setLoaded(info.loaded());
                if (info.loaded()) {
                    entry.setProvider(runtime.provider()).setMemoryBytes(info.memoryBytes())
                            .setContextLength(info.contextLength()).setArchitecture(info.architecture())
                            .setLastUsedEpochMs(info.lastUsedMillis())
                            .setExpiresEpochMs(info.lastUsedMillis() + chats.keepAliveMillis())
                            .setActive(info.active()).setQueued(info.queued()).setPeakBatch(info.peakBatch());
                }
                reply.addModels(entry);
            }
            return Uni.createFrom().item(reply.build());
        } catch (RuntimeException e) {
            return Uni.createFrom().failure(Statuses.of(e));
        }
    }

    static ChatModels.Request request(ChatRequest r) {
        return new ChatModels.Request(r.getModel(),
                r.getMessagesList().stream().map(m -> new ChatTemplate.Message(m.getRole(), m.getContent())).toList(),
                r.getMaxTokens(), r.hasTemperature() ? r.getTemperature() : null, r.hasTopP() ? r.getTopP() : null,
                r.getTopK(), r.hasMinP() ? r.getMinP() : null, r.hasRepetitionPenalty() ? r.getRepetitionPenalty() : null,
                r.getPresencePenalty(), r.getFrequencyPenalty(), r.hasSeed() ? r.getSeed() : null, r.getStopList(),
                !r.hasUseKvCache() || r.getUseKvCache(), r.getIgnoreEos());
    }

    private static Usage usage(Generation.Usage u) {
        return Usage.newBuilder().setPromptTokens(u.promptTokens()).setCompletionTokens(u.completionTokens())
                .setTotalTokens(u.promptTokens() + u.completionTokens()).build();
    }

    private static ChatStats stats(Generation.Usage u) {
        return ChatStats.newBuilder().setTimeToFirstTokenMs(u.timeToFirstTokenMs()).setTokensPerSecond(u.tokensPerSecond())
                .setDurationMs(u.durationMs()).setQueuedMs(u.queuedMs()).build();
    }
}
