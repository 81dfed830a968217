package dev.bkg.peerhealth;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

import grpc.health.v1.HealthOuterClass.HealthCheckRequest;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse.ServingStatus;
import grpc.health.v1.Health;
import io.smallrye.mutiny.Uni;

/**
 * Readiness from a service's gRPC peers: each peer's standard gRPC health service must answer
 * SERVING within a short deadline. Each service declares its peers in a small {@code @Readiness}
 * bean that injects their {@code @GrpcClient} health clients and calls {@link #check}.
 */
public final class GrpcPeers {

    /** Long enough for a busy peer on a 2-core machine, short enough that a probe never hangs. */
    public static final Duration DEADLINE = Duration.ofSeconds(2);

    private GrpcPeers() {
    }

    /** UP when every peer is SERVING; the response data names each peer's state (or why it is down). */
    public static Uni<HealthCheckResponse> check(String checkName, Map<String, Health> peers) {
        List<Uni<PeerState>> probes = new ArrayList<>();
        peers.forEach((name, stub) -> probes.add(probe(name, stub)));
        if (probes.isEmpty()) {
            return Uni.createFrom().item(HealthCheckResponse.up(checkName));
        }
        return Uni.join().all(probes).andFailFast().map(states -> {
            HealthCheckResponseBuilder builder = HealthCheckResponse.named(checkName).up();
            Map<String, String> sorted = new TreeMap<>();
            for (PeerState state : states) {
                sorted.put(state.name(), state.description());
                if (!state.serving()) {
                    builder.down();
                }
            }
            sorted.forEach(builder::withData);
            return builder.build();
        });
    }

    private static Uni<PeerState> probe(String name, Health peer) {
        return peer.check(HealthCheckRequest.newBuilder().build())
                .ifNoItem().after(DEADLINE).fail()
                .map(reply -> new PeerState(name, reply.getStatus() == ServingStatus.SERVING,
                        reply.getStatus().name()))
                .onFailure().invoke(failure -> PeerReconnect.afterFailure(peer, failure))
                .onFailure().recoverWithItem(failure -> new PeerState(name, false, "DOWN: " + reason(failure)));
    }

    private static String reason(Throwable failure) {
        String message = failure.getMessage();
        return message == null ? failure.getClass().getSimpleName() : message;
    }

    private record PeerState(String name, boolean serving, String description) {
    }
}
