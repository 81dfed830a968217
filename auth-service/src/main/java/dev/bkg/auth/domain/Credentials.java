package dev.bkg.auth.domain;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.grpc.Status;
import io.quarkus.elytron.security.common.BcryptUtil;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.vertx.VertxContextSupport;
import io.smallrye.mutiny.Uni;

/**
 * Logins, sessions and the validation of presented credentials (API keys and session tokens).
 * Validation takes the same path for an unknown key id and a wrong secret, so a caller cannot
 * learn whether a key id exists; a key's expiry or revocation is told only to a holder of its secret.
 */
@ApplicationScoped
public class Credentials {

    private static final Logger AUDIT = Logger.getLogger("dev.bkg.auth.audit");
    /** Compared against when the key id is unknown, so that both paths cost the same. */
    private static final String DUMMY_HASH = Secrets.sha256("no such key");
    /** Checked against when the user is unknown, so that a login for a missing user costs a bcrypt too. */
    private static final String DUMMY_PASSWORD_HASH = BcryptUtil.bcryptHash("no such user");
    /** last_used_at is written at most this often per key, not on every request. */
    private static final Duration LAST_USED_RESOLUTION = Duration.ofMinutes(1);

    private final Duration sessionTtl;
    private final LoginThrottle throttle;

    Credentials(@ConfigProperty(name = "bkg.auth.session-ttl", defaultValue = "PT12H") Duration sessionTtl,
            LoginThrottle throttle) {
        this.sessionTtl = sessionTtl;
        this.throttle = throttle;
    }

    public record LoggedIn(String token, Session session, User user) {
    }

    public Uni<LoggedIn> login(String username, String password, String clientAddress) {
        if (username == null || username.isBlank() || password == null || password.isEmpty()) {
            return Uni.createFrom().failure(Status.INVALID_ARGUMENT
                    .withDescription("username and password are required").asRuntimeException());
        }
        Duration wait = throttle.tryAttempt(username, clientAddress);
        if (!wait.isZero()) {
            AUDIT.warnf("login throttled for user %s from %s", Users.printable(username), clientAddress);
            return Uni.createFrom().failure(Status.RESOURCE_EXHAUSTED
                    .withDescription("too many login attempts; retry in " + Math.max(1, wait.toSeconds()) + " s")
                    .asRuntimeException());
        }
        return Panache.withSession(() -> User.<User>findById(username)).flatMap(user -> VertxContextSupport.executeBlocking(
                () -> BcryptUtil.matches(password, user == null ? DUMMY_PASSWORD_HASH : user.passwordHash) && user != null)
                .flatMap(ok -> {
                    if (!ok) {
                        AUDIT.infof("login denied for user %s from %s", Users.printable(username), clientAddress);
                        return Uni.createFrom().failure(Status.UNAUTHENTICATED
                                .withDescription("wrong username or password").asRuntimeException());
                    }
                    String token = "bkgs_" + Secrets.randomToken();
                    Session session = new Session();
                    session.tokenHash = Secrets.sha256(token);
                    session.username = user.username;
                    session.createdAt = Instant.now().truncatedTo(ChronoUnit.MILLIS);
                    session.expiresAt = session.createdAt.plus(sessionTtl);
                    return Panache.withTransaction(session::persist).replaceWith(new LoggedIn(token, session, user));
                }));
    }

    public Uni<Long> logout(String token) {
        return Panache.withTransaction(() -> Session.delete("tokenHash", Secrets.sha256(token == null ? "" : token)));
    }

    public record SessionOf(Session session, User user) {
    }

    /** The live session behind a token, or UNAUTHENTICATED. */
    public Uni<SessionOf> session(String token) {
        String hash = Secrets.sha256(token == null ? "" : token);
        return Panache.withSession(() -> Session.<Session>findById(hash).flatMap(session -> {
            if (session == null || session.expiresAt.isBefore(Instant.now())) {
                return Uni.createFrom().failure(noSession());
            }
            return User.<User>findById(session.username).flatMap(user -> user == null
                    ? Uni.createFrom().failure(noSession())
                    : Uni.createFrom().item(new SessionOf(session, user)));
        }));
    }

    private static RuntimeException noSession() {
        return Status.UNAUTHENTICATED.withDescription("no such session, or it has expired").asRuntimeException();
    }

    /** What a presented credential is worth; never fails for a bad credential (that is {@code valid=false}). */
    public Uni<Validation> validate(String credential) {
        if (credential == null || credential.isBlank() || credential.length() > 512) {
            return Uni.createFrom().item(Validation.invalid("malformed"));
        }
        if (credential.startsWith(ApiKey.PREFIX)) {
            return validateKey(credential);
        }
        return session(credential).map(s -> Validation.session(s.session(), s.user()))
                .onFailure().recoverWithItem(e -> Validation.invalid("unknown"));
    }

    private Uni<Validation> validateKey(String credential) {
        String[] parts = ApiKey.parse(credential);
        if (parts == null) {
            return Uni.createFrom().item(Validation.invalid("malformed"));
        }
        String presentedHash = Secrets.sha256(parts[1]);
        return Panache.withTransaction(() -> ApiKey.<ApiKey>findById(parts[0]).flatMap(key -> {
            boolean matches = Secrets.hashesEqual(presentedHash, key == null ? DUMMY_HASH : key.secretHash);
            if (key == null || !matches) {
                return Uni.createFrom().item(Validation.invalid("unknown"));
            }
            Instant now = Instant.now();
            if (key.revokedAt != null) {
                AUDIT.infof("revoked key %s used", key.id);
                return Uni.createFrom().item(Validation.invalid("revoked"));
            }
            if (key.expiresAt != null && key.expiresAt.isBefore(now)) {
                AUDIT.infof("expired key %s used", key.id);
                return Uni.createFrom().item(Validation.invalid("expired"));
            }
            return User.<User>findById(key.owner).map(owner -> {
                if (owner == null) {
                    return Validation.invalid("unknown");
                }
                if (key.lastUsedAt == null || key.lastUsedAt.isBefore(now.minus(LAST_USED_RESOLUTION))) {
                    key.lastUsedAt = now.truncatedTo(ChronoUnit.MILLIS);
                }
                return Validation.key(key, owner);
            });
        }));
    }

    /** Who a principal subject names, and what it may do now. */
    public record Caller(String subject, User user, List<String> scopes) {
        public boolean holds(String scope) {
            return scopes.contains(scope) || isAdmin();
        }

        /** The credential holds the admin scope (a key of an admin user without it is not). */
        public boolean isAdmin() {
            return scopes.contains(Scopes.ADMIN);
        }
    }

    /**
     * The caller behind a subject the gateway vouched for ({@code user:<name>} or {@code key:<id>}):
     * a key's scopes, or the user's; UNAUTHENTICATED when it is empty, unknown, revoked or expired.
     */
    public Uni<Caller> caller(String subject) {
        RuntimeException unknown = Status.UNAUTHENTICATED.withDescription("the caller is not a current user or key")
                .asRuntimeException();
        if (subject != null && subject.startsWith("user:")) {
            return Panache.withSession(() -> User.<User>findById(subject.substring(5)))
                    .onItem().ifNull().failWith(unknown)
                    .map(user -> new Caller(subject, user, Scopes.of(user)));
        }
        if (subject != null && subject.startsWith("key:")) {
            return Panache.withSession(() -> ApiKey.<ApiKey>findById(subject.substring(4)).flatMap(key -> {
                if (key == null || key.revokedAt != null || (key.expiresAt != null && key.expiresAt.isBefore(Instant.now()))) {
                    return Uni.createFrom().failure(unknown);
                }
                return User.<User>findById(key.owner).onItem().ifNull().failWith(unknown)
                        .map(owner -> new Caller(subject, owner, key.scopeList()));
            }));
        }
        return Uni.createFrom().failure(unknown);
    }

    /** The outcome of a validation: a principal, or the reason why not. */
    public record Validation(boolean valid, String reason, ApiKey key, Session session, User user) {

        static Validation invalid(String reason) {
            return new Validation(false, reason, null, null, null);
        }

        static Validation key(ApiKey key, User owner) {
            return new Validation(true, "", key, null, owner);
        }

        static Validation session(Session session, User user) {
            return new Validation(true, "", null, session, user);
        }
    }
}
