package dev.bkg.telemetryreporter;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;

import dev.bkg.peerhealth.PeerReconnect;
import dev.bkg.proto.telemetry.v1.MutinyTelemetryServiceGrpc.MutinyTelemetryServiceStub;
import dev.bkg.proto.telemetry.v1.ReportRequest;
import dev.bkg.proto.telemetry.v1.Sample;
import io.quarkus.arc.DefaultBean;
import io.quarkus.grpc.GrpcClient;
import io.smallrye.mutiny.Uni;

/** Sends samples to telemetry-service (gRPC client "telemetry": quarkus.grpc.clients.telemetry.host/port). */
@DefaultBean
@ApplicationScoped
public class GrpcSampleSender implements SampleSender {

    static final Duration DEADLINE = Duration.ofSeconds(2);

    private final MutinyTelemetryServiceStub stub;

    GrpcSampleSender(@GrpcClient("telemetry") MutinyTelemetryServiceStub stub) {
        this.stub = stub;
    }

    @Override
    public Uni<Void> send(List<Sample> samples) {
        return stub.withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                .report(ReportRequest.newBuilder().addAllSamples(samples).build())
                .onFailure().invoke(failure -> PeerReconnect.afterFailure(stub, failure))
                .replaceWithVoid();
    }
}
