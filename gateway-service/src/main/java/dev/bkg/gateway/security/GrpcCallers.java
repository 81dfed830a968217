package dev.bkg.gateway.security;

import java.util.function.Function;

import jakarta.enterprise.context.ApplicationScoped;

import dev.bkg.gateway.api.ProblemException;
import dev.bkg.gateway.grpc.GrpcProblems;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

/**
 * Authentication of the gateway's public gRPC calls: the interceptor only carries the call's
 * credential ({@code authorization: Bearer <credential>} or {@code x-api-key} metadata) to the
 * service method, which asks {@link #call} for the principal with the scope it needs before it
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


    /**
     * A public gRPC method: authenticates the caller for {@code scope}, then runs {@code call};
     * problems (the caller's or the backend's) reach the client as gRPC statuses, and statuses
     * forwarded from a backend as they are.
     */
    public <T> Uni<T> call(String scope, String method, Function<CallerPrincipal, Uni<T>> call) {
        return caller(scope, method).flatMap(caller -> call.apply(caller)).onFailure(ProblemException.class).transform(GrpcCallers::asStatus);
    }

    /** A public server-streaming method, as {@link #call}. */
    public <T> Multi<T> stream(String scope, String method, Function<CallerPrincipal, Multi<T>> call) {
        return caller(scope, method).onItem().transformToMulti(caller -> call.apply(caller)).onFailure(ProblemException.class)
                .transform(GrpcCallers::asStatus);
    }

    private Uni<CallerPrincipal> caller(String scope, String method) {
        return authenticator.authenticate(CREDENTIAL.get(), scope, "gRPC " + method)
                .map(caller -> {
                    RateLimiter.Decision decision = limiter.forCaller(caller);
                    if (!decision.allowed()) {
                        throw Status.RESOURCE_EXHAUSTED.withDescription("rate limit of " + decision.limit()
                                + " requests a minute reached; retry in " + decision.resetSeconds() + " s").asRuntimeException();
                    }
                    return caller;
                });
    }

    private static Throwable asStatus(Throwable problem) {
        return GrpcProblems.toStatus((ProblemException) problem).asRuntimeException();
    }
}
