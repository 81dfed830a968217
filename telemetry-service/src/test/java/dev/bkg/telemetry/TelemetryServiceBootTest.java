package dev.bkg.telemetry;

import java.util.List;

import dev.bkg.testsupport.ServiceBootContract;

import io.quarkus.test.junit.QuarkusTest;

@QuarkusTest
class TelemetryServiceBootTest extends ServiceBootContract {

    @Override
    protected List<String> expectedReadinessChecks() {
        return List.of();
    }
}
