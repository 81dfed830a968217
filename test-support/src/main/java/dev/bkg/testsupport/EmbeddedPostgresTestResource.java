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
 * Gives a {@code @QuarkusTest} a real, throw-away PostgreSQL (no Docker, so no Dev Services here).
 * Use with {@code @WithTestResource(EmbeddedPostgresTestResource.class)}; a test that needs to stop
 * and start the database gets the server in a field marked {@link InjectEmbeddedPostgres}.
 */
public class EmbeddedPostgresTestResource implements QuarkusTestResourceLifecycleManager {

    private Path dataDirectory;
    private EmbeddedPostgresServer server;

    @Override
    public Map<String, String> start() {
        try {
            dataDirectory = Files.createTempDirectory("bkg-test-pg");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server = EmbeddedPostgresServer.start(0, dataDirectory, null);
        return Map.of(
                "quarkus.datasource.reactive.url", server.reactiveUrl(),
                "quarkus.datasource.username", EmbeddedPostgresServer.USER);
    }

    @Override
    public void inject(TestInjector testInjector) {
        testInjector.injectIntoFields(server,
                new TestInjector.AnnotatedAndMatchesType(InjectEmbeddedPostgres.class, EmbeddedPostgresServer.class));
    }

    @Override
    public void stop() {
        if (server != null) {
            server.close();
        }
        if (dataDirectory != null) {
            try (Stream<Path> files = Files.walk(dataDirectory)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
