package dev.bkg.auth.domain;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.grpc.Status;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.smallrye.mutiny.Uni;

/** Creates, lists and revokes API keys. The full key exists only in the reply that creates it. */
@ApplicationScoped
public class KeyRegistry {

    private static final Logger AUDIT = Logger.getLogger("dev.bkg.auth.audit");
    static final int MAX_NAME = 100;
    static final int MAX_RATE_LIMIT = 1_000_000;

    public record Created(String key, ApiKey info) {
    }

    /**
     * A new key for {@code owner} with {@code scopes}, each of which the owner must hold and, when
     * {@code grantorScopes} is not empty, so must the credential creating it (or it holds admin).
     */
    public Uni<Created> create(String name, List<String> scopes, Instant expiresAt, int rateLimitPerMinute, String owner,
            List<String> grantorScopes) {
        if (name == null || name.isBlank() || name.length() > MAX_NAME || name.chars().anyMatch(Character::isISOControl)) {
            return invalid("name must be 1-" + MAX_NAME + " characters without control characters");
        }
        if (scopes.isEmpty()) {
            return invalid("at least one scope is required: " + String.join(", ", Scopes.ALL));
        }
        for (String scope : scopes) {
            if (!Scopes.isKnown(scope)) {
                return invalid("unknown scope '" + scope + "'; known: " + String.join(", ", Scopes.ALL));
            }
        }
        if (expiresAt != null && expiresAt.isBefore(Instant.now())) {
            return invalid("expiresAt is in the past");
        }
        if (rateLimitPerMinute < 0 || rateLimitPerMinute > MAX_RATE_LIMIT) {
            return invalid("rateLimitPerMinute must be 0 (the default) to " + MAX_RATE_LIMIT);
        }
        if (!grantorScopes.isEmpty() && !grantorScopes.contains(Scopes.ADMIN)) {
            for (String scope : scopes) {
                if (!grantorScopes.contains(scope)) {
                    return Uni.createFrom().failure(Status.PERMISSION_DENIED
                            .withDescription("the calling credential may not grant scope '" + scope + "' (it does not hold it)")
                            .asRuntimeException());
                }
            }
        }
        return Panache.withTransaction(() -> User.<User>findById(owner == null ? "" : owner).flatMap(user -> {
            if (user == null) {
                return invalid("owner '" + Users.printable(owner) + "' is not a user");
            }
            List<String> allowed = Scopes.of(user);
            for (String scope : scopes) {
                if (!allowed.contains(scope)) {
                    return Uni.createFrom().<Created>failure(Status.PERMISSION_DENIED
                            .withDescription("owner may not grant scope '" + scope + "'").asRuntimeException());
                }
            }
            String secret = Secrets.randomToken();
            ApiKey key = new ApiKey();
            key.id = Secrets.randomId();
            key.name = name;
            key.prefix = ApiKey.PREFIX + key.id + "_" + secret.substring(0, 4);
            key.secretHash = Secrets.sha256(secret);
            key.scopes = String.join(",", scopes.stream().distinct().toList());
            key.owner = user.username;
            key.createdAt = Instant.now().truncatedTo(ChronoUnit.MILLIS);
            key.expiresAt = expiresAt;
            key.rateLimitPerMinute = rateLimitPerMinute;
            return key.persist().replaceWith(new Created(ApiKey.PREFIX + key.id + "_" + secret, key));
        })).invoke(created -> AUDIT.infof("key %s created by %s with scopes %s", created.info().id,
                created.info().owner, created.info().scopes));
    }

    /** Newest first; {@code owner} null lists every user's keys. */
    public Uni<List<ApiKey>> list(String owner, boolean includeRevoked) {
        String query = (owner == null ? "1 = 1" : "owner = ?1") + (includeRevoked ? "" : " and revokedAt is null")
                + " order by createdAt desc";
        return Panache.withSession(() -> owner == null ? ApiKey.<ApiKey>list(query) : ApiKey.<ApiKey>list(query, owner));
    }

    /** Revokes a key (idempotent); {@code owner} non-null restricts it to that user's keys. */
    public Uni<ApiKey> revoke(String id, String owner) {
        return Panache.withTransaction(() -> ApiKey.<ApiKey>findById(id == null ? "" : id).flatMap(key -> {
            if (key == null || (owner != null && !owner.equals(key.owner))) {
                return Uni.createFrom().<ApiKey>failure(Status.NOT_FOUND.withDescription("no such key").asRuntimeException());
            }
            if (key.revokedAt == null) {
                key.revokedAt = Instant.now().truncatedTo(ChronoUnit.MILLIS);
                AUDIT.infof("key %s revoked", key.id);
            }
            return Uni.createFrom().item(key);
        }));
    }

    private static <T> Uni<T> invalid(String message) {
        return Uni.createFrom().failure(Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException());
    }
}
