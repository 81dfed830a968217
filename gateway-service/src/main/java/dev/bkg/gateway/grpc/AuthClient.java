package dev.bkg.gateway.grpc;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import jakarta.enterprise.context.ApplicationScoped;

import dev.bkg.gateway.api.ProblemException;
import dev.bkg.proto.auth.v1.CreateKeyRequest;
import dev.bkg.proto.auth.v1.CreateKeyResponse;
import dev.bkg.proto.auth.v1.ListKeysRequest;
import dev.bkg.proto.auth.v1.ListKeysResponse;
import dev.bkg.proto.auth.v1.LoginRequest;
import dev.bkg.proto.auth.v1.LoginResponse;
import dev.bkg.proto.auth.v1.LogoutRequest;
import dev.bkg.proto.auth.v1.MutinyAuthServiceGrpc.MutinyAuthServiceStub;
import dev.bkg.proto.auth.v1.RevokeKeyRequest;
import dev.bkg.proto.auth.v1.RevokeKeyResponse;
import dev.bkg.proto.auth.v1.ValidateRequest;
import dev.bkg.proto.auth.v1.ValidateResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.smallrye.mutiny.Uni;

/**
 * The gateway's one client of auth-service: a deadline on every call, and gRPC statuses turned
 * into the problems the REST API answers (auth-service down: 503 with Retry-After, never a hang).
 */
@ApplicationScoped
public class AuthClient {

    static final Duration DEADLINE = Duration.ofSeconds(5);
    static final int RETRY_AFTER_SECONDS = 5;

    private final MutinyAuthServiceStub auth;

    AuthClient(@GrpcClient("auth") MutinyAuthServiceStub auth) {
        this.auth = auth;
    }

    public Uni<ValidateResponse> validate(String credential) {
        return call(s -> s.validate(ValidateRequest.newBuilder().setCredential(credential).build()));
    }

    public Uni<LoginResponse> login(String username, String password, String clientAddress) {
        return call(s -> s.login(LoginRequest.newBuilder().setUsername(username).setPassword(password)
                .setClientAddress(clientAddress).build()));
    }

    public Uni<Void> logout(String token) {
        return call(s -> s.logout(LogoutRequest.newBuilder().setToken(token).build())).replaceWithVoid();
    }

    public Uni<CreateKeyResponse> createKey(CreateKeyRequest request) {
        return call(s -> s.createKey(request));
    }

    public Uni<ListKeysResponse> listKeys(String owner) {
        return call(s -> s.listKeys(ListKeysRequest.newBuilder().setOwner(owner == null ? "" : owner)
                .setIncludeRevoked(true).build()));
    }

    public Uni<RevokeKeyResponse> revokeKey(String id) {
        return call(s -> s.revokeKey(RevokeKeyRequest.newBuilder().setId(id).build()));
    }

    private <T> Uni<T> call(Function<MutinyAuthServiceStub, Uni<T>> rpc) {
        return rpc.apply(auth.withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS))
                .onFailure(StatusRuntimeException.class)
                .transform(e -> toProblem(((StatusRuntimeException) e).getStatus()));
    }

    static ProblemException toProblem(Status status) {
        String detail = status.getDescription() == null ? status.getCode().name() : status.getDescription();
        return switch (status.getCode()) {
            case INVALID_ARGUMENT, OUT_OF_RANGE -> ProblemException.badRequest(detail);
            case UNAUTHENTICATED -> ProblemException.unauthorized(detail);
            case PERMISSION_DENIED -> ProblemException.forbidden(detail);
            case NOT_FOUND -> new ProblemException(404, "Not Found", detail);
            case ALREADY_EXISTS, FAILED_PRECONDITION, ABORTED -> new ProblemException(409, "Conflict", detail);
            case RESOURCE_EXHAUSTED -> new ProblemException(429, "Too Many Requests", detail)
                    .header("Retry-After", RETRY_AFTER_SECONDS);
            case UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED -> ProblemException
                    .unavailable("auth-service is not reachable; retry shortly", RETRY_AFTER_SECONDS);
            default -> new ProblemException(502, "Bad Gateway", "auth-service failed: " + status.getCode());
        };
    }
}
