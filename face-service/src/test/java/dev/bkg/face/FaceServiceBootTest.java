package dev.bkg.face;

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
class FaceServiceBootTest extends ServiceBootContract {

    /** Ready once the face models are fetched from model-service and loaded, and the gallery is read. */
    @BeforeEach
    void awaitTheModels() {
        Readiness.awaitStatus(200, Duration.ofSeconds(120));
    }

    @Override
    protected List<String> expectedReadinessChecks() {
        return List.of("PostgreSQL", "grpc-peers", "face-models");
    }
}
