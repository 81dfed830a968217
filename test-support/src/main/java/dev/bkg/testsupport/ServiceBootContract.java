package dev.bkg.testsupport;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import grpc.health.v1.Health;
import grpc.health.v1.HealthOuterClass.HealthCheckRequest;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse.ServingStatus;
import io.quarkus.grpc.GrpcClient;

/**
 * What every service proves about itself: it is live and ready (with the readiness checks it
 * owes: its database, its gRPC peers), it serves Prometheus metrics and it answers the standard
 * gRPC health service on its single HTTP port. A service's test extends this with
 * {@code @QuarkusTest} and names the readiness checks it expects.
 */
public abstract class ServiceBootContract {

    /** In test mode Quarkus points this client at the service's own server. */
    @GrpcClient("health")
    Health health;

    /** Substrings of the readiness check names this service must report (e.g. "PostgreSQL"). */
    protected abstract List<String> expectedReadinessChecks();

    @Test
    void isLiveAndReadyWithTheChecksItOwes() {
        given().when().get("/q/health/live").then().statusCode(200).body("status", is("UP"));
        var ready = given().when().get("/q/health/ready").then().statusCode(200).body("status", is("UP"));
        for (String check : expectedReadinessChecks()) {
            ready.body("checks.name", hasItem(containsString(check)));
        }
    }

    /**
     * /q/metrics parses with Prometheus's own parser (promtool), the mesh's own metrics pass its
     * linter, and every series carries service="<this service>" (one labelling rule for the mesh).
     */
    @Test
    void servesValidPrometheusMetricsLabelledWithTheService() {
        health.check(HealthCheckRequest.newBuilder().build()).await().atMost(Duration.ofSeconds(10)); // a gRPC call to count
        String page = given().when().get("/q/metrics").then().statusCode(200).extract().asString();
        PrometheusExposition metrics = PrometheusExposition.parse(page);
        assertEquals(List.of(), metrics.ownLintProblems());
        assertTrue(metrics.samples().containsKey("jvm_threads_live_threads"), "JVM figures are exported");
        String service = org.eclipse.microprofile.config.ConfigProvider.getConfig()
                .getValue("quarkus.application.name", String.class);
        List<String> unlabelled = metrics.samples().values().stream().flatMap(List::stream)
                .filter(s -> !service.equals(s.labels().get("service"))).map(PrometheusExposition.Sample::name)
                .distinct().toList();
        assertEquals(List.of(), unlabelled, "series without service=\"" + service + "\"");
    }

    @Test
    void answersTheStandardGrpcHealthCheckOnTheHttpPort() {
        ServingStatus status = health.check(HealthCheckRequest.newBuilder().build())
                .await().atMost(Duration.ofSeconds(10)).getStatus();
        assertEquals(ServingStatus.SERVING, status);
    }
}
