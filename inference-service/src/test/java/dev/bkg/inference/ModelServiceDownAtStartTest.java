package dev.bkg.inference;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.bkg.proto.inference.v1.EmbedRequest;
import dev.bkg.proto.inference.v1.EmbeddingServiceGrpc.EmbeddingServiceBlockingStub;
import dev.bkg.testsupport.ModelServiceBackend;
import dev.bkg.testsupport.Readiness;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * model-service down when inference-service starts: not ready (saying why), retrying, and ready
 * with its default model once model-service comes up — here 20 s after the test began.
 */
@QuarkusTest
@WithTestResource(ModelServiceDownAtStartTest.LateModelService.class)
class ModelServiceDownAtStartTest {

    /** Starts model-service in the background, 20 s late. */
    public static class LateModelService extends ModelServiceBackend {
        @Override
        protected void startModelService() {
            Thread late = new Thread(() -> {
                try {
                    Thread.sleep(20_000);
                } catch (InterruptedException e) {
                    return;
                }
                model.start();
            }, "late-model-service");
            late.setDaemon(true);
            late.start();
        }
    }

    @GrpcClient("self")
    EmbeddingServiceBlockingStub embeddings;

    @Test
    void notReadyWhileModelServiceIsDownThenReadyWhenItComes() {
        given().when().get("/q/health/ready").then().statusCode(503)
                .body("checks.find { it.name == 'embedding model' }.status", org.hamcrest.Matchers.equalTo("DOWN"));
        Readiness.awaitStatus(200, Duration.ofSeconds(150));
        given().when().get("/q/health/ready").then().statusCode(200)
                .body("checks.find { it.name == 'embedding model' }.data.model", containsString("all-minilm-l6-v2"));
        assertEquals(384, embeddings.embed(EmbedRequest.newBuilder().addAllTexts(List.of("back in business")).build())
                .getDimensions());
    }
}
