package dev.bkg.model;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.hasItem;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.bkg.embeddedpostgres.EmbeddedPostgresServer;
import dev.bkg.testsupport.EmbeddedPostgresTestResource;
import dev.bkg.testsupport.InjectEmbeddedPostgres;
import dev.bkg.testsupport.Readiness;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

@QuarkusTest
@WithTestResource(EmbeddedPostgresTestResource.class)
class DatabaseOutageTest {

    @InjectEmbeddedPostgres
    EmbeddedPostgresServer postgres;

    @Test
    void reportsNotReadyWhileItsDatabaseIsDownStaysAliveAndRecoversWhenItReturns() {
        Readiness.awaitStatus(200, Duration.ofSeconds(30));
        postgres.stop();
        try {
            Readiness.awaitStatus(503, Duration.ofSeconds(30));
            given().when().get("/q/health/ready").then()
                    .body("checks.findAll { it.status == 'DOWN' }.name", hasItem(containsString("PostgreSQL")));
            given().when().get("/q/health/live").then().statusCode(200);
        } finally {
            postgres.start();
        }
        Readiness.awaitStatus(200, Duration.ofSeconds(30));
    }
}
