package dev.bkg.auth.domain;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.grpc.Status;
import io.quarkus.elytron.security.common.BcryptUtil;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.vertx.VertxContextSupport;
import io.smallrye.mutiny.Uni;

/** The users: created by admins, passwords bcrypt-hashed off the event loop. */
@ApplicationScoped
public class Users {

    private static final Logger AUDIT = Logger.getLogger("dev.bkg.auth.audit");
    private static final Pattern USERNAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    static final int MIN_PASSWORD = 8;
    static final int MAX_PASSWORD = 256;

    /** A user name as it may appear in a log line: only when it has a user name's shape. */
    static String printable(String username) {
        return username != null && USERNAME.matcher(username).matches() ? username : "<malformed>";
    }

    public Uni<User> create(String username, String password, boolean admin, List<String> roles) {
        if (username == null || !USERNAME.matcher(username).matches()) {
            return invalid("username must be 1-64 characters: letters, digits, '.', '_', '-' (starting with a letter or digit)");
        }
        String problem = passwordProblem(password);
        if (problem != null) {
            return invalid(problem);
        }
        for (String role : roles) {
            if (!Scopes.isKnown(role)) {
                return invalid("unknown role '" + role + "'; roles are scopes: " + String.join(", ", Scopes.ALL));
            }
        }
        return VertxContextSupport.executeBlocking(() -> BcryptUtil.bcryptHash(password))
                .flatMap(hash -> Panache.withTransaction(() -> User.<User>findById(username).flatMap(existing -> {
                    if (existing != null) {
                        return Uni.createFrom().failure(Status.ALREADY_EXISTS
                                .withDescription("user '" + username + "' exists").asRuntimeException());
                    }
                    User user = new User();
                    user.username = username;
                    user.passwordHash = hash;
                    user.admin = admin;
                    user.roles = String.join(",", roles);
                    user.createdAt = Instant.now().truncatedTo(ChronoUnit.MILLIS);
                    return user.<User>persist();
                })))
                .invoke(user -> AUDIT.infof("user %s created (admin=%s)", user.username, user.admin));
    }

    public Uni<List<User>> list() {
        return Panache.withSession(() -> User.<User>listAll());
    }

    public record Deleted(long revokedKeys, long endedSessions) {
    }

    public Uni<Deleted> delete(String username) {
        return Panache.withTransaction(() -> User.<User>findById(username == null ? "" : username).flatMap(user -> {
            if (user == null) {
                return Uni.createFrom().failure(Status.NOT_FOUND.withDescription("no such user").asRuntimeException());
            }
            Uni<Long> admins = user.admin ? User.count("admin", true) : Uni.createFrom().item(2L);
            return admins.flatMap(count -> {
                if (count <= 1) {
                    return Uni.createFrom().failure(Status.FAILED_PRECONDITION
                            .withDescription("the last admin cannot be deleted").asRuntimeException());
                }
                Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
                return ApiKey.update("revokedAt = ?1 where owner = ?2 and revokedAt is null", now, username)
                        .flatMap(keys -> Session.delete("username", username)
                                .flatMap(sessions -> user.delete().replaceWith(new Deleted(keys, sessions))));
            });
        })).invoke(d -> AUDIT.infof("user %s deleted; %d keys revoked", username, d.revokedKeys()));
    }

    /** Sets a new password (checking the current one unless an admin overrides) and ends the user's sessions. */
    public Uni<Long> changePassword(String username, String currentPassword, String newPassword, boolean adminOverride) {
        String problem = passwordProblem(newPassword);
        if (problem != null) {
            return invalid(problem);
        }
        return Panache.withSession(() -> User.<User>findById(username == null ? "" : username))
                .flatMap(user -> {
                    if (user == null) {
                        return Uni.createFrom().failure(Status.NOT_FOUND.withDescription("no such user").asRuntimeException());
                    }
                    return VertxContextSupport.executeBlocking(() -> {
                        if (!adminOverride && (currentPassword == null || !BcryptUtil.matches(currentPassword, user.passwordHash))) {
                            return null;
                        }
                        return BcryptUtil.bcryptHash(newPassword);
                    });
                })
                .flatMap(hash -> {
                    if (hash == null) {
                        return Uni.createFrom().failure(Status.PERMISSION_DENIED
                                .withDescription("the current password is wrong").asRuntimeException());
                    }
                    return Panache.withTransaction(() -> User.update("passwordHash = ?1 where username = ?2", hash, username)
                            .flatMap(n -> Session.delete("username", username)));
                });
    }

    private static String passwordProblem(String password) {
        if (password == null || password.length() < MIN_PASSWORD) {
            return "password must have at least " + MIN_PASSWORD + " characters";
        }
        if (password.length() > MAX_PASSWORD) {
            return "password must have at most " + MAX_PASSWORD + " characters";
        }
        return null;
    }

    private static <T> Uni<T> invalid(String message) {
        return Uni.createFrom().failure(Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException());
    }
}
