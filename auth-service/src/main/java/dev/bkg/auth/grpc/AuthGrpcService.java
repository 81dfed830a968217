package dev.bkg.auth.grpc;

import java.time.Instant;

import dev.bkg.auth.domain.ApiKey;
import dev.bkg.auth.domain.Credentials;
import dev.bkg.auth.domain.KeyRegistry;
import dev.bkg.auth.domain.Scopes;
import dev.bkg.auth.domain.Users;
import dev.bkg.proto.auth.v1.ChangePasswordRequest;
import dev.bkg.proto.auth.v1.ChangePasswordResponse;
import dev.bkg.proto.auth.v1.CreateKeyRequest;
import dev.bkg.proto.auth.v1.CreateKeyResponse;
import dev.bkg.proto.auth.v1.CreateUserRequest;
import dev.bkg.proto.auth.v1.CreateUserResponse;
import dev.bkg.proto.auth.v1.DeleteUserRequest;
import dev.bkg.proto.auth.v1.DeleteUserResponse;
import dev.bkg.proto.auth.v1.GetSessionRequest;
import dev.bkg.proto.auth.v1.GetSessionResponse;
import dev.bkg.proto.auth.v1.KeyInfo;
import dev.bkg.proto.auth.v1.ListKeysRequest;
import dev.bkg.proto.auth.v1.ListKeysResponse;
import dev.bkg.proto.auth.v1.ListUsersRequest;
import dev.bkg.proto.auth.v1.ListUsersResponse;
import dev.bkg.proto.auth.v1.LoginRequest;
import dev.bkg.proto.auth.v1.LoginResponse;
import dev.bkg.proto.auth.v1.LogoutRequest;
import dev.bkg.proto.auth.v1.LogoutResponse;
import dev.bkg.proto.auth.v1.MutinyAuthServiceGrpc;
import dev.bkg.proto.auth.v1.Principal;
import dev.bkg.proto.auth.v1.RevokeKeyRequest;
import dev.bkg.proto.auth.v1.RevokeKeyResponse;
import dev.bkg.proto.auth.v1.User;
import dev.bkg.proto.auth.v1.ValidateRequest;
import dev.bkg.proto.auth.v1.ValidateResponse;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Uni;

/** The bkg.auth.v1.AuthService contract: maps messages to the domain and back, nothing more. */
@GrpcService
public class AuthGrpcService extends MutinyAuthServiceGrpc.AuthServiceImplBase {

    private final Credentials credentials;
    private final KeyRegistry keys;
    private final Users users;

    AuthGrpcService(Credentials credentials, KeyRegistry keys, Users users) {
        this.credentials = credentials;
        this.keys = keys;
        this.users = users;
    }

    @Override
    public Uni<LoginResponse> login(LoginRequest request) {
        return credentials.login(request.getUsername(), request.getPassword(), request.getClientAddress())
                .map(in -> LoginResponse.newBuilder()
                        .setToken(in.token())
                        .setExpiresAtEpochMs(in.session().expiresAt.toEpochMilli())
                        .setUser(user(in.user()))
                        .addAllScopes(Scopes.of(in.user()))
                        .build());
    }

    @Override
    public Uni<LogoutResponse> logout(LogoutRequest request) {
        return credentials.logout(request.getToken()).replaceWith(LogoutResponse.getDefaultInstance());
    }

    @Override
    public Uni<GetSessionResponse> getSession(GetSessionRequest request) {
        return credentials.session(request.getToken()).map(s -> GetSessionResponse.newBuilder()
                .setUser(user(s.user()))
                .addAllScopes(Scopes.of(s.user()))
                .setExpiresAtEpochMs(s.session().expiresAt.toEpochMilli())
                .setCreatedEpochMs(s.session().createdAt.toEpochMilli())
                .build());
    }

    @Override
    public Uni<ValidateResponse> validate(ValidateRequest request) {
        return credentials.validate(request.getCredential()).map(v -> {
            if (!v.valid()) {
                return ValidateResponse.newBuilder().setValid(false).setReason(v.reason()).build();
            }
            Principal.Builder principal = Principal.newBuilder().setUser(user(v.user()));
            long expires;
            if (v.key() != null) {
                ApiKey key = v.key();
                principal.setKind(Principal.Kind.KEY).setSubject("key:" + key.id).setKeyId(key.id)
                        .addAllScopes(key.scopeList()).setRateLimitPerMinute(key.rateLimitPerMinute);
                expires = key.expiresAt == null ? 0 : key.expiresAt.toEpochMilli();
            } else {
                principal.setKind(Principal.Kind.SESSION).setSubject("user:" + v.user().username)
                        .addAllScopes(Scopes.of(v.user()));
                expires = v.session().expiresAt.toEpochMilli();
            }
            return ValidateResponse.newBuilder().setValid(true).setPrincipal(principal).setExpiresAtEpochMs(expires).build();
        });
    }

    @Override
    public Uni<CreateKeyResponse> createKey(CreateKeyRequest request) {
        Instant expires = request.getExpiresAtEpochMs() == 0 ? null : Instant.ofEpochMilli(request.getExpiresAtEpochMs());
        return keys.create(request.getName(), request.getScopesList(), expires, request.getRateLimitPerMinute(),
                request.getOwner(), request.getGrantorScopesList())
                .map(created -> CreateKeyResponse.newBuilder().setKey(created.key()).setInfo(keyInfo(created.info())).build());
    }

    @Override
    public Uni<ListKeysResponse> listKeys(ListKeysRequest request) {
        String owner = request.getOwner().isEmpty() ? null : request.getOwner();
        return keys.list(owner, request.getIncludeRevoked()).map(list -> ListKeysResponse.newBuilder()
                .addAllKeys(list.stream().map(AuthGrpcService::keyInfo).toList()).build());
    }

    @Override
    public Uni<RevokeKeyResponse> revokeKey(RevokeKeyRequest request) {
        return keys.revoke(request.getId(), null).map(key -> RevokeKeyResponse.newBuilder().setKey(keyInfo(key)).build());
    }

    @Override
    public Uni<CreateUserResponse> createUser(CreateUserRequest request) {
        return users.create(request.getUsername(), request.getPassword(), request.getAdmin(), request.getRolesList())
                .map(u -> CreateUserResponse.newBuilder().setUser(user(u)).build());
    }

    @Override
    public Uni<ListUsersResponse> listUsers(ListUsersRequest request) {
        return users.list().map(list -> ListUsersResponse.newBuilder()
                .addAllUsers(list.stream().map(AuthGrpcService::user).toList()).build());
    }

    @Override
    public Uni<DeleteUserResponse> deleteUser(DeleteUserRequest request) {
        return users.delete(request.getUsername()).map(d -> DeleteUserResponse.newBuilder()
                .setRevokedKeys((int) d.revokedKeys()).setEndedSessions((int) d.endedSessions()).build());
    }

    @Override
    public Uni<ChangePasswordResponse> changePassword(ChangePasswordRequest request) {
        return users.changePassword(request.getUsername(), request.getCurrentPassword(), request.getNewPassword(),
                request.getAdminOverride())
                .map(ended -> ChangePasswordResponse.newBuilder().setEndedSessions(ended.intValue()).build());
    }

    static User user(dev.bkg.auth.domain.User user) {
        return User.newBuilder().setUsername(user.username).setAdmin(user.admin).addAllRoles(user.roleList())
                .setCreatedEpochMs(user.createdAt.toEpochMilli()).build();
    }

    static KeyInfo keyInfo(ApiKey key) {
        KeyInfo.Builder info = KeyInfo.newBuilder().setId(key.id).setName(key.name).setPrefix(key.prefix)
                .addAllScopes(key.scopeList()).setCreatedEpochMs(key.createdAt.toEpochMilli())
                .setRevoked(key.revokedAt != null).setRateLimitPerMinute(key.rateLimitPerMinute).setOwner(key.owner);
        if (key.expiresAt != null) {
            info.setExpiresAtEpochMs(key.expiresAt.toEpochMilli());
        }
        if (key.lastUsedAt != null) {
            info.setLastUsedEpochMs(key.lastUsedAt.toEpochMilli());
        }
        if (key.revokedAt != null) {
            info.setRevokedAtEpochMs(key.revokedAt.toEpochMilli());
        }
        return info.build();
    }

}
