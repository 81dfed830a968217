package dev.bkg.inference.grpc;

import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import dev.bkg.inference.domain.InferenceSettings;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;

/**
 * One jar, three plugins: a process serves only the typed gRPC services of its role
 * ({@code bkg.inference.role}); the others answer UNIMPLEMENTED, naming the role that serves them.
 * The plugin contract, health and reflection are served in every role.
 */
@GlobalInterceptor
@ApplicationScoped
public class RoleFilter implements ServerInterceptor {

    static final Map<String, String> ROLE_OF_SERVICE = Map.of(
            "bkg.inference.v1.ChatService", "llm",
            "bkg.inference.v1.EmbeddingService", "llm",
            "bkg.inference.v1.RunnerService", "runner",
            "bkg.inference.v1.IndexService", "index");

    private final String role;

    RoleFilter(InferenceSettings settings) {
        if (!InferencePluginService.PLUGIN_BY_ROLE.containsKey(settings.role())) {
            throw new IllegalArgumentException("bkg.inference.role must be one of llm, runner, index; was " + settings.role());
        }
        this.role = settings.role();
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String serves = ROLE_OF_SERVICE.get(call.getMethodDescriptor().getServiceName());
        if (serves != null && !serves.equals(role)) {
            call.close(Status.UNIMPLEMENTED.withDescription(call.getMethodDescriptor().getServiceName()
                    + " is served by inference-service in role " + serves + "; this one runs role " + role), new Metadata());
            return new ServerCall.Listener<>() {
            };
        }
        return next.startCall(call, headers);
    }
}
