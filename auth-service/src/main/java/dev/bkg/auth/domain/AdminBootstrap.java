package dev.bkg.auth.domain;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.jboss.logging.Logger;

import io.quarkus.elytron.security.common.BcryptUtil;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.vertx.VertxContextSupport;
import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;

/**
 * Creates the user {@code admin} on the first start, with the password from {@code BKG_ADMIN_PASSWORD}
 * (the launcher generates one when the person sets none). An existing admin is never overwritten.
 * A database that is not there yet delays the bootstrap (retried with backoff) and keeps the
 * service not-ready; it never crashes the service.
 */
@Readiness
@ApplicationScoped
public class AdminBootstrap implements AsyncHealthCheck {

    public static final String ADMIN = "admin";
    private static final Logger LOG = Logger.getLogger(AdminBootstrap.class);

    private final Optional<String> adminPassword;
    private final AtomicBoolean done = new AtomicBoolean();

    AdminBootstrap(@ConfigProperty(name = "bkg.admin.password") Optional<String> adminPassword) {
        this.adminPassword = adminPassword.filter(p -> !p.isBlank());
    }

    void onStart(@Observes StartupEvent event) throws Throwable {
        if (adminPassword.isEmpty()) {
            LOG.warn("BKG_ADMIN_PASSWORD is not set: no admin user is created until it is");
            return;
        }
        // bcrypt is deliberately slow: hash here, not on the event loop
        String hash = BcryptUtil.bcryptHash(adminPassword.get());
        VertxContextSupport.subscribeWith(() -> createAdminIfMissing(hash)
                .onFailure().invoke(e -> LOG.warnf("admin bootstrap waits for the database: %s", e.getMessage()))
                .onFailure().retry().withBackOff(Duration.ofSeconds(1), Duration.ofSeconds(15)).indefinitely()
                .toMulti(),
                created -> {
                    done.set(true);
                    LOG.info(created ? "created the bootstrap user 'admin'" : "user 'admin' exists; left as it is");
                });
    }

    private Uni<Boolean> createAdminIfMissing(String hash) {
        return Panache.withTransaction(() -> User.<User>findById(ADMIN).flatMap(existing -> {
            if (existing != null) {
                return Uni.createFrom().item(false);
            }
            User admin = new User();
            admin.username = ADMIN;
            admin.passwordHash = hash;
            admin.admin = true;
            admin.createdAt = Instant.now();
            return admin.persist().replaceWith(true);
        }));
    }

    /** True once the admin exists (or when no password was given, so there is nothing to wait for). */
    public boolean isComplete() {
        return adminPassword.isEmpty() || done.get();
    }

    @Override
    public Uni<HealthCheckResponse> call() {
        return Uni.createFrom().item(HealthCheckResponse.named("admin-bootstrap").status(isComplete()).build());
    }
}
