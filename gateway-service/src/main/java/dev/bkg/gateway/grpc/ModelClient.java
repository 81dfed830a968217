package dev.bkg.gateway.grpc;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import jakarta.enterprise.context.ApplicationScoped;

import dev.bkg.peerhealth.PeerReconnect;
import dev.bkg.proto.model.v1.MutinyModelServiceGrpc.MutinyModelServiceStub;
import io.quarkus.grpc.GrpcClient;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

/** The gateway's client of model-service: deadlines, and statuses turned into problems. */
@ApplicationScoped
public class ModelClient {

    static final Duration DEADLINE = Duration.ofSeconds(30);

    private final MutinyModelServiceStub stub;

    ModelClient(@GrpcClient("model") MutinyModelServiceStub stub) {
        this.stub = stub;
    }

    /** A server stream (no deadline); failures stay gRPC statuses. */
    public <T> Multi<T> stream(Function<MutinyModelServiceStub, Multi<T>> rpc) {
        return rpc.apply(stub).onFailure().invoke(failure -> PeerReconnect.afterFailure(stub, failure));
    }

    public <T> Uni<T> call(Function<MutinyModelServiceStub, Uni<T>> rpc) {
        return GrpcProblems.asProblems(rpc.apply(stub.withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)),
                stub, "model-service");
    }
}
