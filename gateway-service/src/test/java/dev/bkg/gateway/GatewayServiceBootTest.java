package dev.bkg.gateway;

import java.util.List;

import dev.bkg.testsupport.ServiceBootContract;

import io.quarkus.test.junit.QuarkusTest;

@QuarkusTest
class GatewayServiceBootTest extends ServiceBootContract {

    @Override
    protected List<String> expectedReadinessChecks() {
        return List.of("grpc-peers");
    }
}
