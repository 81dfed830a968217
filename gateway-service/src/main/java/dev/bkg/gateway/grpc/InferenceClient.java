package dev.bkg.gateway.grpc;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import jakarta.enterprise.context.ApplicationScoped;

import dev.bkg.peerhealth.PeerReconnect;
import dev.bkg.proto.inference.v1.ChatChunk;
import dev.bkg.proto.inference.v1.ChatRequest;
import dev.bkg.proto.inference.v1.ChatServiceGrpc;
import dev.bkg.proto.inference.v1.ChatServiceGrpc.ChatServiceStub;
import io.grpc.Channel;
import dev.bkg.proto.inference.v1.MutinyChatServiceGrpc.MutinyChatServiceStub;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import dev.bkg.proto.inference.v1.MutinyEmbeddingServiceGrpc.MutinyEmbeddingServiceStub;
import dev.bkg.proto.inference.v1.MutinyIndexServiceGrpc.MutinyIndexServiceStub;
import dev.bkg.proto.inference.v1.MutinyRunnerServiceGrpc.MutinyRunnerServiceStub;
import dev.bkg.proto.pluginmanager.v1.StartPluginRequest;
import dev.bkg.gateway.api.ProblemException;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

/**
 * The gateway's clients of inference-service: typed embeddings and chat (role llm, plugin llmserver),
 * the semantic index (role index, plugin brainml) and the model runner (role runner, plugin candle),
 * each its own process; deadlines, problems.
 */
@ApplicationScoped
public class InferenceClient {

    static final Duration DEADLINE = Duration.ofSeconds(60);
    /** Train and reindex rebuild a whole collection's graph: minutes at 100k documents on two cores. */
    static final Duration REBUILD_DEADLINE = Duration.ofMinutes(20);

    /** A reply is bounded by max tokens and the context window; this only stops a generation nobody ends. */
    static final Duration CHAT_DEADLINE = Duration.ofMinutes(30);

    private final MutinyEmbeddingServiceStub embeddings;
    private final MutinyChatServiceStub chat;
    private final ChatServiceStub chatCalls;
    private final MutinyIndexServiceStub brainml;
    private final MutinyRunnerServiceStub candle;
    private final PluginManagerClient plugins;

    InferenceClient(@GrpcClient("inference") MutinyEmbeddingServiceStub embeddings,
            @GrpcClient("inference") MutinyChatServiceStub chat, @GrpcClient("inference") Channel inferenceChannel,
            @GrpcClient("brainml") MutinyIndexServiceStub brainml, @GrpcClient("candle") MutinyRunnerServiceStub candle,
            PluginManagerClient plugins) {
        this.embeddings = embeddings;
        this.chat = chat;
        this.chatCalls = ChatServiceGrpc.newStub(inferenceChannel);
        this.brainml = brainml;
        this.candle = candle;
        this.plugins = plugins;
    }

    /**
     * A call on the model runner (plugin candle, started on demand): when candle is not running,
     * the plugin manager is asked to start it and the caller gets 503 with Retry-After.
     */
    public <T> Uni<T> candle(Function<MutinyRunnerServiceStub, Uni<T>> rpc) {
        return candle(DEADLINE, rpc);
    }

    /** Quantising writes and checks a whole model: minutes for a large one. */
    public <T> Uni<T> candleQuantize(Function<MutinyRunnerServiceStub, Uni<T>> rpc) {
        return candle(REBUILD_DEADLINE, rpc);
    }

    private <T> Uni<T> candle(Duration deadline, Function<MutinyRunnerServiceStub, Uni<T>> rpc) {
        return rpc.apply(candle.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS))
                .onFailure().invoke(failure -> PeerReconnect.afterFailure(candle, failure))
                .onFailure(InferenceClient::notRunning).recoverWithUni(failure -> plugins
                        .call(s -> s.startPlugin(StartPluginRequest.newBuilder().setPluginId("candle").setWait(false).build()))
                        .onItemOrFailure().transformToUni((started, refused) -> Uni.createFrom().failure(ProblemException.unavailable(
                                refused != null ? "candle is not running and could not be started: " + refused.getMessage()
                                        : "candle is not running: it is being started on demand; retry shortly",
                                GrpcProblems.RETRY_AFTER_SECONDS))))
                .onFailure(StatusRuntimeException.class)
                .transform(e -> GrpcProblems.toProblem(((StatusRuntimeException) e).getStatus(), "candle"));
    }

    /** A transport failure (nothing listens), not a status the service sent. */
    private static boolean notRunning(Throwable failure) {
        return failure instanceof StatusRuntimeException e && e.getStatus().getCode() == io.grpc.Status.Code.UNAVAILABLE
                && e.getStatus().getCause() != null;
    }

    public <T> Uni<T> chat(Function<MutinyChatServiceStub, Uni<T>> rpc) {
        return GrpcProblems.asProblems(rpc.apply(chat.withDeadlineAfter(CHAT_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)), chat,
                "inference-service (llmserver)");
    }

    /**
     * A chat token stream; failures stay gRPC statuses (the caller tells a failure before the first
     * chunk from one after). Written on the plain async stub because cancelling the Mutiny stub's
     * stream does not cancel the call: here the end of the subscription cancels it, so that the
     * service stops generating for a client that went away.
     */
    public Multi<ChatChunk> chatStream(ChatRequest request) {
        return Multi.createFrom().<ChatChunk>emitter(emitter -> chatCalls
                .withDeadlineAfter(CHAT_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                .chatStream(request, new ClientResponseObserver<ChatRequest, ChatChunk>() {
                    @Override
                    public void beforeStart(ClientCallStreamObserver<ChatRequest> call) {
                        emitter.onTermination(() -> call.cancel("the client went away", null));
                    }

                    @Override
                    public void onNext(ChatChunk chunk) {
                        emitter.emit(chunk);
                    }

                    @Override
                    public void onError(Throwable failure) {
                        emitter.fail(failure);
                    }

                    @Override
                    public void onCompleted() {
                        emitter.complete();
                    }
                })).onFailure().invoke(failure -> PeerReconnect.afterFailure(chat, failure));
    }

    public <T> Uni<T> brainml(Function<MutinyIndexServiceStub, Uni<T>> rpc) {
        return brainml(DEADLINE, rpc);
    }

    /** A brainml call that rebuilds a collection (train, reindex, compact), with the long deadline. */
    public <T> Uni<T> brainmlRebuild(Function<MutinyIndexServiceStub, Uni<T>> rpc) {
        return brainml(REBUILD_DEADLINE, rpc);
    }

    private <T> Uni<T> brainml(Duration deadline, Function<MutinyIndexServiceStub, Uni<T>> rpc) {
        return GrpcProblems.asProblems(rpc.apply(brainml.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)),
                brainml, "brainml");
    }

    public <T> Uni<T> embeddings(Function<MutinyEmbeddingServiceStub, Uni<T>> rpc) {
        return GrpcProblems.asProblems(rpc.apply(embeddings.withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)),
                embeddings, "inference-service (llmserver)");
    }
}
