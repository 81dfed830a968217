package dev.bkg.gateway.grpc;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import jakarta.enterprise.context.ApplicationScoped;

import dev.bkg.peerhealth.PeerReconnect;
import dev.bkg.proto.telemetry.v1.MutinyTelemetryServiceGrpc.MutinyTelemetryServiceStub;
import io.quarkus.grpc.GrpcClient;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

/** The gateway's client of telemetry-service: deadlines, and statuses turned into problems. */
@ApplicationScoped
public class TelemetryClient {

    static final Duration DEADLINE = Duration.ofSeconds(5);

    private final MutinyTelemetryServiceStub stub;

    TelemetryClient(@GrpcClient("telemetry") MutinyTelemetryServiceStub stub) {
        this.stub = stub;
    }

    /** A server stream (no deadline: it lasts as long as someone follows it); failures stay gRPC statuses. */
    public <T> Multi<T> stream(Function<MutinyTelemetryServiceStub, Multi<T>> rpc) {
        return rpc.apply(stub).onFailure().invoke(failure -> PeerReconnect.afterFailure(stub, failure));
    }

    /** A call whose failures stay gRPC statuses (the caller decides what each means). */
    public <T> Uni<T> raw(Function<MutinyTelemetryServiceStub, Uni<T>> rpc) {
        return rpc.apply(stub.withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS))
                .onFailure().invoke(failure -> PeerReconnect.afterFailure(stub, failure));
    }

    public <T> Uni<T> call(Function<MutinyTelemetryServiceStub, Uni<T>> rpc) {
        return GrpcProblems.asProblems(rpc.apply(stub.withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)),
                stub, "telemetry-service");
    }
}
