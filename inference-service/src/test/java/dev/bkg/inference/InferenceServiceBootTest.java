package dev.bkg.inference;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;

import dev.bkg.testsupport.ModelServiceBackend;
import dev.bkg.testsupport.Readiness;
import dev.bkg.testsupport.ServiceBootContract;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

@QuarkusTest
@WithTestResource(ModelServiceBackend.class)
class InferenceServiceBootTest extends ServiceBootContract {

    /** Ready once the default embedding model is fetched from model-service and loaded. */
    @BeforeEach
    void awaitTheDefaultModel() {
        Readiness.awaitStatus(200, Duration.ofSeconds(120));
    }

    @Override
    protected List<String> expectedReadinessChecks() {
        return List.of("PostgreSQL", "grpc-peers", "embedding model");
    }
}
