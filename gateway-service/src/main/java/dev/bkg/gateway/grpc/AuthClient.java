package dev.bkg.gateway.grpc;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import jakarta.enterprise.context.ApplicationScoped;

import dev.bkg.peerhealth.PeerReconnect;
import dev.bkg.proto.auth.v1.ChangePasswordRequest;
import dev.bkg.proto.auth.v1.ChangePasswordResponse;
import dev.bkg.proto.auth.v1.CreateKeyRequest;
import dev.bkg.proto.auth.v1.CreateKeyResponse;
import dev.bkg.proto.auth.v1.CreateUserRequest;
import dev.bkg.proto.auth.v1.CreateUserResponse;
import dev.bkg.proto.auth.v1.DeleteUserRequest;
import dev.bkg.proto.auth.v1.DeleteUserResponse;
import dev.bkg.proto.auth.v1.ListKeysRequest;
import dev.bkg.proto.auth.v1.ListKeysResponse;
import dev.bkg.proto.auth.v1.ListUsersRequest;
import dev.bkg.proto.auth.v1.ListUsersResponse;
import dev.bkg.proto.auth.v1.LoginRequest;
import dev.bkg.proto.auth.v1.LoginResponse;
import dev.bkg.proto.auth.v1.LogoutRequest;
import dev.bkg.proto.auth.v1.MutinyAuthServiceGrpc.MutinyAuthServiceStub;
import dev.bkg.proto.auth.v1.RevokeKeyRequest;
import dev.bkg.proto.auth.v1.RevokeKeyResponse;
import dev.bkg.proto.auth.v1.ValidateRequest;
import dev.bkg.proto.auth.v1.ValidateResponse;
import io.grpc.Status;
import io.quarkus.grpc.GrpcClient;
import io.smallrye.mutiny.Uni;

/**
 * The gateway's one client of auth-service: a deadline on every call, and gRPC statuses turned
 * into the problems the REST API answers (auth-service down: 503 with Retry-After, never a hang).
 */
@ApplicationScoped
public class AuthClient {

    static final Duration DEADLINE = Duration.ofSeconds(5);
    static final Duration RECONNECT_WAIT = Duration.ofSeconds(1);

    private final MutinyAuthServiceStub auth;

    AuthClient(@GrpcClient("auth") MutinyAuthServiceStub auth) {
        this.auth = auth;
    }

    /**
     * Validation is idempotent, so one UNAVAILABLE is retried: the first failure after auth-service
     * comes back only woke the channel from its backoff (see PeerReconnect). While auth-service is
     * down an uncached credential therefore gets its 503 after about {@link #RECONNECT_WAIT}.
     */
    public Uni<ValidateResponse> validate(String credential) {
        ValidateRequest request = ValidateRequest.newBuilder().setCredential(credential).build();
        return call(s -> s.validate(request), true);
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

    public Uni<ListUsersResponse> listUsers() {
        return call(s -> s.listUsers(ListUsersRequest.getDefaultInstance()));
    }

    public Uni<CreateUserResponse> createUser(CreateUserRequest request) {
        return call(s -> s.createUser(request));
    }

    public Uni<DeleteUserResponse> deleteUser(String username) {
        return call(s -> s.deleteUser(DeleteUserRequest.newBuilder().setUsername(username).build()));
    }

    public Uni<ChangePasswordResponse> changePassword(ChangePasswordRequest request) {
        return call(s -> s.changePassword(request));
    }

    private <T> Uni<T> call(Function<MutinyAuthServiceStub, Uni<T>> rpc) {
        return call(rpc, false);
    }

    private <T> Uni<T> call(Function<MutinyAuthServiceStub, Uni<T>> rpc, boolean retryOnceIfUnavailable) {
        Uni<T> result = rpc.apply(auth.withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS));
        if (retryOnceIfUnavailable) {
            // the first failure wakes the channel; the retry waits (briefly) for that reconnect
            result = result.onFailure().invoke(failure -> PeerReconnect.afterFailure(auth, failure))
                    .onFailure(failure -> Status.fromThrowable(failure).getCode() == Status.Code.UNAVAILABLE)
                    .recoverWithUni(() -> rpc.apply(auth.withWaitForReady()
                            .withDeadlineAfter(RECONNECT_WAIT.toMillis(), TimeUnit.MILLISECONDS)));
        }
        return GrpcProblems.asProblems(result, auth, "auth-service");
    }
}
