package dev.bkg.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

import dev.bkg.embeddedpostgres.EmbeddedPostgresServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * What a service that runs models (inference, face) needs, real: an embedded PostgreSQL and model-service as its own process
 * from its packaged jar (its model directory in a temporary folder, its built-in models installed
 * at its first start), reached over gRPC as in production.
 */
public class ModelServiceBackend implements QuarkusTestResourceLifecycleManager {

    private Path dir;
    private EmbeddedPostgresServer postgres;
    protected ServiceProcess model;

    @Override
    public Map<String, String> start() {
        try {
            dir = Files.createTempDirectory("bkg-model-backend");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        postgres = EmbeddedPostgresServer.start(0, dir.resolve("db"), null);
        model = new ServiceProcess("model-service", dir, Map.of(
                "QUARKUS_DATASOURCE_REACTIVE_URL", postgres.reactiveUrl(),
                "QUARKUS_DATASOURCE_USERNAME", EmbeddedPostgresServer.USER,
                "BKG_MODELS_DIR", dir.resolve("models").toString(),
                // test models are pulled from a local server (HuggingFaceRepoServer), a loopback address
                "BKG_MODELS_DOWNLOAD_ALLOWED_HOSTS", "127.0.0.1",
                "BKG_TELEMETRY_REPORT_ENABLED", "false"));
        startModelService();
        return Map.of("quarkus.datasource.reactive.url", postgres.reactiveUrl(),
                "quarkus.datasource.username", EmbeddedPostgresServer.USER,
                "quarkus.grpc.clients.model.host", "127.0.0.1",
                "quarkus.grpc.clients.model.port", String.valueOf(model.port),
                "quarkus.grpc.clients.model.test-port", String.valueOf(model.port));
    }

    /** Starts model-service and waits for it; a subclass may start it later. */
    protected void startModelService() {
        model.start();
    }

    @Override
    public void stop() {
        if (model != null) {
            model.stop();
        }
        if (postgres != null) {
            postgres.close();
        }
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                // a temporary folder: best effort
            }
        }
    }
}
