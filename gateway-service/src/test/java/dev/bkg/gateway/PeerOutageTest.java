package dev.bkg.gateway;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.startsWith;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

@QuarkusTest
@TestProfile(PeerOutageTest.AuthServiceDown.class)
class PeerOutageTest {

    /** auth-service "lives" on a port where nothing listens; the other peers resolve to the gateway itself. */
    public static class AuthServiceDown implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.grpc.clients.auth.test-port", "1");
        }
    }

    @Test
    void isNotReadyAndNamesThePeerWhileAuthServiceIsDownButStaysLive() {
        given().when().get("/q/health/ready").then().statusCode(503)
                .body("status", is("DOWN"))
                .body("checks.find { it.name == 'grpc-peers' }.data.auth", startsWith("DOWN"))
                .body("checks.find { it.name == 'grpc-peers' }.data.model", is("SERVING"));
        given().when().get("/q/health/live").then().statusCode(200);
    }
}
