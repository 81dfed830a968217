package dev.bkg.model;

import java.util.List;

import dev.bkg.testsupport.EmbeddedPostgresTestResource;
import dev.bkg.testsupport.ServiceBootContract;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

@QuarkusTest
@WithTestResource(EmbeddedPostgresTestResource.class)
class ModelServiceBootTest extends ServiceBootContract {

    @Override
    protected List<String> expectedReadinessChecks() {
        return List.of("PostgreSQL", "model catalog");
    }
}
