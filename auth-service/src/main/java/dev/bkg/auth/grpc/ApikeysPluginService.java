package dev.bkg.auth.grpc;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.eclipse.microprofile.health.Readiness;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import dev.bkg.auth.domain.AdminBootstrap;
import dev.bkg.auth.domain.ApiKey;
import dev.bkg.auth.domain.Credentials;
import dev.bkg.auth.domain.KeyRegistry;
import dev.bkg.auth.domain.Scopes;
import dev.bkg.proto.plugin.v1.Capability;
import dev.bkg.proto.plugin.v1.DescribeRequest;
import dev.bkg.proto.plugin.v1.DescribeResponse;
import dev.bkg.proto.plugin.v1.HealthRequest;
import dev.bkg.proto.plugin.v1.HealthResponse;
import dev.bkg.proto.plugin.v1.InvokeRequest;
import dev.bkg.proto.plugin.v1.InvokeResponse;
import dev.bkg.proto.plugin.v1.MutinyPluginGrpc;
import io.grpc.Status;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Uni;

/**
 * auth-service as the plugin {@code apikeys} on the plugin contract: the seed's auth.* capabilities
 * on JSON payloads, for callers of the capability bus. The key capabilities act for the caller the
 * gateway authenticated (the request's principal) with the same rules as /api/auth/keys: the
 * keys:manage scope, a new key's scopes among the caller's, one's own keys unless admin.
 */
@GrpcService
public class ApikeysPluginService extends MutinyPluginGrpc.PluginImplBase {

    /** Times as ISO-8601 text, as the REST API writes them; unknown payload fields are an error. */
    private static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules()
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    record LoginPayload(String username, String password) {
    }

    record ValidatePayload(String credential) {
    }

    record CreateKeyPayload(String name, List<String> scopes, String expiresAt, Integer rateLimitPerMinute) {
    }

    record ListKeysPayload(Boolean all, Boolean includeRevoked) {
    }

    record RevokeKeyPayload(String id) {
    }

    record Key(String id, String name, String prefix, List<String> scopes, String owner, Instant created,
            Instant expiresAt, Instant lastUsed, boolean revoked, Instant revokedAt) {
        static Key of(ApiKey k) {
            return new Key(k.id, k.name, k.prefix, k.scopeList(), k.owner, k.createdAt, k.expiresAt, k.lastUsedAt,
                    k.revokedAt != null, k.revokedAt);
        }
    }

    private final AdminBootstrap bootstrap;
    private final Credentials credentials;
    private final KeyRegistry keys;

    ApikeysPluginService(@Readiness AdminBootstrap bootstrap, Credentials credentials, KeyRegistry keys) {
        this.bootstrap = bootstrap;
        this.credentials = credentials;
        this.keys = keys;
    }

    @Override
    public Uni<DescribeResponse> describe(DescribeRequest request) {
        return Uni.createFrom().item(DescribeResponse.newBuilder()
                .setName("apikeys")
                .setVersion("0.2.0")
                .addCapabilities(capability("auth.login", "{username, password} → a session token {token, expiresAt, scopes}"))
                .addCapabilities(capability("auth.createKey", "{name, scopes, expiresAt?, rateLimitPerMinute?} → the key, shown once"))
                .addCapabilities(capability("auth.revokeKey", "{id} → the revoked key (one's own, any for an admin)"))
                .addCapabilities(capability("auth.listKeys", "{all?, includeRevoked?} → {keys}, never their secrets"))
                .addCapabilities(capability("auth.validate", "{credential} → {valid, reason | subject, username, scopes}"))
                .build());
    }

    @Override
    public Uni<HealthResponse> health(HealthRequest request) {
        boolean ready = bootstrap.isComplete();
        return Uni.createFrom().item(HealthResponse.newBuilder()
                .setStatus(ready ? HealthResponse.Status.SERVING : HealthResponse.Status.NOT_SERVING)
                .setMessage(ready ? "" : "waiting for the database to create the admin user")
                .build());
    }

    @Override
    public Uni<InvokeResponse> invoke(InvokeRequest request) {
        String payload = request.getPayloadJson().isBlank() ? "{}" : request.getPayloadJson();
        // deferred: a bad payload fails the Uni with INVALID_ARGUMENT instead of throwing out of the call
        return Uni.createFrom().deferred(() -> dispatch(request.getCapability(), payload, request.getPrincipal()))
                .map(reply -> InvokeResponse.newBuilder().setPayloadJson(write(reply)).build());
    }

    private Uni<Object> dispatch(String capability, String payload, String principal) {
        return switch (capability) {
            case "auth.login" -> login(parse(payload, LoginPayload.class));
            case "auth.validate" -> validate(parse(payload, ValidatePayload.class));
            case "auth.createKey" -> createKey(parse(payload, CreateKeyPayload.class), principal);
            case "auth.listKeys" -> listKeys(parse(payload, ListKeysPayload.class), principal);
            case "auth.revokeKey" -> revokeKey(parse(payload, RevokeKeyPayload.class), principal);
            default -> Uni.createFrom().failure(Status.UNIMPLEMENTED
                    .withDescription("apikeys does not provide '" + capability + "'").asRuntimeException());
        };
    }

    private Uni<Object> login(LoginPayload p) {
        // the bus carries no client address: bus logins share one throttle bucket per user
        return credentials.login(p.username(), p.password(), "capability-bus").map(in -> Map.of(
                "token", in.token(), "expiresAt", in.session().expiresAt, "username", in.user().username,
                "scopes", Scopes.of(in.user())));
    }

    private Uni<Object> validate(ValidatePayload p) {
        return credentials.validate(p.credential()).map(v -> {
            if (!v.valid()) {
                return Map.of("valid", false, "reason", v.reason());
            }
            boolean key = v.key() != null;
            return Map.of("valid", true, "kind", key ? "key" : "session",
                    "subject", key ? "key:" + v.key().id : "user:" + v.user().username,
                    "username", v.user().username, "scopes", key ? v.key().scopeList() : Scopes.of(v.user()));
        });
    }

    private Uni<Object> createKey(CreateKeyPayload p, String principal) {
        Instant expires;
        try {
            expires = p.expiresAt() == null ? null : Instant.parse(p.expiresAt());
        } catch (DateTimeParseException e) {
            throw invalid("expiresAt must be an ISO-8601 instant, e.g. 2027-01-01T00:00:00Z");
        }
        return managing(principal, caller -> keys.create(p.name(), p.scopes() == null ? List.of() : p.scopes(), expires,
                p.rateLimitPerMinute() == null ? 0 : p.rateLimitPerMinute(), caller.user().username, caller.scopes())
                .map(created -> Map.of("id", created.info().id, "key", created.key(), "info", Key.of(created.info()))));
    }

    private Uni<Object> listKeys(ListKeysPayload p, String principal) {
        boolean all = Boolean.TRUE.equals(p.all());
        return managing(principal, caller -> {
            if (all && !caller.isAdmin()) {
                throw Status.PERMISSION_DENIED.withDescription("only an admin may list every user's keys").asRuntimeException();
            }
            return keys.list(all ? null : caller.user().username, Boolean.TRUE.equals(p.includeRevoked()))
                    .map(list -> Map.of("keys", list.stream().map(Key::of).toList()));
        });
    }

    private Uni<Object> revokeKey(RevokeKeyPayload p, String principal) {
        if (p.id() == null || p.id().isBlank()) {
            throw invalid("id is required");
        }
        return managing(principal, caller -> keys.revoke(p.id(), caller.isAdmin() ? null : caller.user().username)
                .map(Key::of));
    }

    /** Runs a key operation for the caller, who must hold keys:manage. */
    private Uni<Object> managing(String principal, Function<Credentials.Caller, Uni<Object>> operation) {
        return credentials.caller(principal).flatMap(caller -> {
            if (!caller.holds("keys:manage")) {
                return Uni.createFrom().failure(Status.PERMISSION_DENIED
                        .withDescription("this needs the scope 'keys:manage'").asRuntimeException());
            }
            return operation.apply(caller);
        });
    }

    private static <T> T parse(String json, Class<T> type) {
        try {
            T value = JSON.readValue(json, type);
            if (value == null) {
                throw invalid("the payload must be a JSON object");
            }
            return value;
        } catch (JsonProcessingException e) {
            throw invalid("the payload is not a " + type.getSimpleName().replace("Payload", "") + " request: "
                    + e.getOriginalMessage());
        }
    }

    private static String write(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static RuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }

    private static Capability capability(String name, String description) {
        return Capability.newBuilder().setName(name).setDescription(description).build();
    }
}
