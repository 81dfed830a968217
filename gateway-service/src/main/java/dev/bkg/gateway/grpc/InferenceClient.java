package dev.bkg.gateway.grpc;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import jakarta.enterprise.context.ApplicationScoped;

import dev.bkg.proto.inference.v1.MutinyEmbeddingServiceGrpc.MutinyEmbeddingServiceStub;
import io.quarkus.grpc.GrpcClient;
import io.smallrye.mutiny.Uni;

/** The gateway's client of inference-service's typed embeddings (plugin llmserver): deadline, problems. */
@ApplicationScoped
public class InferenceClient {

    static final Duration DEADLINE = Duration.ofSeconds(60);

    private final MutinyEmbeddingServiceStub embeddings;

    InferenceClient(@GrpcClient("inference") MutinyEmbeddingServiceStub embeddings) {
        this.embeddings = embeddings;
    }

    public <T> Uni<T> embeddings(Function<MutinyEmbeddingServiceStub, Uni<T>> rpc) {
        return GrpcProblems.asProblems(rpc.apply(embeddings.withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)),
                embeddings, "inference-service (llmserver)");
    }
}
