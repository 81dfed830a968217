package dev.bkg.gateway.grpc;

import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import dev.bkg.peerhealth.GrpcPeers;
import grpc.health.v1.Health;
import io.quarkus.grpc.GrpcClient;
import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;

/**
 * The gateway is ready when the core services it cannot serve without answer SERVING. Plugin
 * services (inference, face) start and stop on demand, so their absence never makes the gateway
 * unready: their routes answer 503 instead.
 */
@Readiness
@ApplicationScoped
public class CorePeersReadiness implements AsyncHealthCheck {

    private final Map<String, Health> peers;

    CorePeersReadiness(@GrpcClient("auth") Health auth, @GrpcClient("pluginmanager") Health pluginManager,
            @GrpcClient("model") Health model, @GrpcClient("telemetry") Health telemetry) {
        this.peers = Map.of("auth", auth, "pluginmanager", pluginManager, "model", model, "telemetry", telemetry);
    }

    @Override
    public Uni<HealthCheckResponse> call() {
        return GrpcPeers.check("grpc-peers", peers);
    }
}
