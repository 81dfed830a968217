package dev.bkg.gateway;

import java.util.HashMap;
import java.util.Map;

import dev.bkg.embeddedpostgres.EmbeddedPostgresServer;
import dev.bkg.testsupport.ServiceProcess;

/**
 * {@link Backends} plus face-service as its own process from its packaged jar, on the same
 * database and model-service (its models come from there): only the face tests pay for it.
 */
public class FaceBackends extends Backends {

    private ServiceProcess face;

    @Override
    public Map<String, String> start() {
        Map<String, String> clients = new HashMap<>(super.start());
        face = new ServiceProcess("face-service", directory(), Map.of(
                "QUARKUS_DATASOURCE_REACTIVE_URL", postgres().reactiveUrl(),
                "QUARKUS_DATASOURCE_USERNAME", EmbeddedPostgresServer.USER,
                "QUARKUS_GRPC_CLIENTS_MODEL_HOST", "127.0.0.1",
                "QUARKUS_GRPC_CLIENTS_MODEL_PORT", String.valueOf(model().port),
                "BKG_TELEMETRY_REPORT_ENABLED", "false",
                "BKG_HOME", directory().toString()));
        face.start(); // ready once its models are loaded and its gallery read
        clients.put("quarkus.grpc.clients.face.host", "127.0.0.1");
        clients.put("quarkus.grpc.clients.face.test-port", String.valueOf(face.port));
        return clients;
    }

    ServiceProcess face() {
        return face;
    }

    @Override
    public void stop() {
        if (face != null) {
            face.stop();
        }
        super.stop();
    }
}
