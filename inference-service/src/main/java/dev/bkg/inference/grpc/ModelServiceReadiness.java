package dev.bkg.inference.grpc;

import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import dev.bkg.peerhealth.GrpcPeers;
import grpc.health.v1.Health;
import io.quarkus.grpc.GrpcClient;
import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;

/** Models come from model-service, so this service is ready only while model-service answers SERVING. */
@Readiness
@ApplicationScoped
public class ModelServiceReadiness implements AsyncHealthCheck {

    private final Map<String, Health> peers;

    ModelServiceReadiness(@GrpcClient("model") Health model) {
        this.peers = Map.of("model", model);
    }

    @Override
    public Uni<HealthCheckResponse> call() {
        return GrpcPeers.check("grpc-peers", peers);
    }
}
