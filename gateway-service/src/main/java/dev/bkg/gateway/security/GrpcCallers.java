package dev.bkg.gateway.security;

import jakarta.enterprise.context.ApplicationScoped;

import dev.bkg.gateway.api.ProblemException;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import io.smallrye.mutiny.Uni;

/**
 * Authentication of the gateway's public gRPC calls: the interceptor only carries the call's
 * credential ({@code authorization: Bearer <credential>} or {@code x-api-key} metadata) to the
 * service method, which asks {@link #caller} for the principal with the scope it needs before it
 * does anything (the check is asynchronous, which a gRPC interceptor cannot wait for). Failures
 * are UNAUTHENTICATED, PERMISSION_DENIED, RESOURCE_EXHAUSTED (rate limit) or UNAVAILABLE.
 */
@GlobalInterceptor
@ApplicationScoped
public class GrpcCallers implements ServerInterceptor {

    private static final Context.Key<String> CREDENTIAL = Context.key("bkg.credential");
    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> API_KEY = Metadata.Key.of("x-api-key", Metadata.ASCII_STRING_MARSHALLER);

    private final Authenticator authenticator;
    private final RateLimiter limiter;

    GrpcCallers(Authenticator authenticator, RateLimiter limiter) {
        this.authenticator = authenticator;
        this.limiter = limiter;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String credential = Authenticator.credentialFrom(name -> headers.get(
                "x-api-key".equals(name) ? API_KEY : AUTHORIZATION));
        return Contexts.interceptCall(Context.current().withValue(CREDENTIAL, credential), call, headers, next);
    }

    /** The caller of the current call, if it holds {@code scope}; call it at the start of the service method. */
    public Uni<CallerPrincipal> caller(String scope, String method) {
        return authenticator.authenticate(CREDENTIAL.get(), scope, "gRPC " + method)
                .map(caller -> {
                    RateLimiter.Decision decision = limiter.forCaller(caller);
                    if (!decision.allowed()) {
                        throw Status.RESOURCE_EXHAUSTED.withDescription("rate limit of " + decision.limit()
                                + " requests a minute reached; retry in " + decision.resetSeconds() + " s").asRuntimeException();
                    }
                    return caller;
                })
                .onFailure(ProblemException.class).transform(e -> toStatus((ProblemException) e).asRuntimeException());
    }

    static Status toStatus(ProblemException problem) {
        Status status = switch (problem.status()) {
            case 401 -> Status.UNAUTHENTICATED;
            case 403 -> Status.PERMISSION_DENIED;
            case 429 -> Status.RESOURCE_EXHAUSTED;
            case 503 -> Status.UNAVAILABLE;
            default -> Status.INTERNAL;
        };
        return status.withDescription(problem.getMessage());
    }
}
