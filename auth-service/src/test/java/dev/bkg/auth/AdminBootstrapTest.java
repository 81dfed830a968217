package dev.bkg.auth;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.bkg.auth.domain.AdminBootstrap;
import dev.bkg.auth.domain.User;
import dev.bkg.testsupport.EmbeddedPostgresTestResource;
import dev.bkg.testsupport.Readiness;
import io.quarkus.elytron.security.common.BcryptUtil;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.vertx.RunOnVertxContext;
import io.quarkus.test.vertx.UniAsserter;

@QuarkusTest
@WithTestResource(EmbeddedPostgresTestResource.class)
class AdminBootstrapTest {

    static final String PASSWORD = "test-admin-password";

    /** Readiness turns UP only once the bootstrap is done (it runs asynchronously after start). */
    @BeforeEach
    void waitUntilReady() {
        Readiness.awaitStatus(200, Duration.ofSeconds(30));
    }

    @Test
    @RunOnVertxContext
    void createsTheAdminWithABcryptHashNeverThePlainPassword(UniAsserter asserter) {
        asserter.assertThat(() -> Panache.withSession(() -> User.<User>findById(AdminBootstrap.ADMIN)), admin -> {
            assertNotNull(admin, "admin was not created");
            assertTrue(admin.admin);
            assertNotEquals(PASSWORD, admin.passwordHash);
            assertTrue(admin.passwordHash.startsWith("$2"), "not a bcrypt hash: " + admin.passwordHash.substring(0, 4));
            assertTrue(BcryptUtil.matches(PASSWORD, admin.passwordHash));
        });
    }
}
