package dev.bkg.gateway;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

import dev.bkg.embeddedpostgres.EmbeddedPostgresServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * The gateway's real backends, each its own process from its packaged jar, over one real embedded
 * PostgreSQL: auth-service, and plugin-manager-service with the project's own plugins/plugins.json
 * (nothing autostarted; the tests start the repoagent plugin, a real Python process). The gateway's
 * tests go gateway → gRPC → service → database/process, as in production. Tests that take a
 * backend down get this resource in a field marked {@link Inject}.
 */
public class Backends implements QuarkusTestResourceLifecycleManager {

    public static final String ADMIN_PASSWORD = "gateway-test-admin-password";
    static final Path REPO_ROOT = Path.of("..").toAbsolutePath().normalize();

    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.FIELD)
    public @interface Inject {
    }

    private Path dir;
    private EmbeddedPostgresServer postgres;
    private ServiceProcess auth;
    private ServiceProcess pluginManager;

    @Override
    public Map<String, String> start() {
        try {
            dir = Files.createTempDirectory("bkg-gateway-test");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        postgres = EmbeddedPostgresServer.start(0, dir.resolve("db"), null);
        Map<String, String> database = Map.of("QUARKUS_DATASOURCE_REACTIVE_URL", postgres.reactiveUrl(),
                "QUARKUS_DATASOURCE_USERNAME", EmbeddedPostgresServer.USER);
        auth = new ServiceProcess("auth-service", dir, with(database, Map.of("BKG_ADMIN_PASSWORD", ADMIN_PASSWORD)));
        pluginManager = new ServiceProcess("plugin-manager-service", dir, with(database, Map.of(
                "BKG_PLUGINS_REGISTRY", REPO_ROOT.resolve("plugins/plugins.json").toString(),
                "BKG_PLUGINS_WORKDIR", REPO_ROOT.toString(),
                "BKG_HOME", dir.toString(),
                "BKG_PLUGINS_AUTOSTART", "false",
                "BKG_REPOAGENT_PORT", String.valueOf(ServiceProcess.freePort()))));
        auth.start();
        pluginManager.start();
        return Map.of("quarkus.grpc.clients.auth.host", "127.0.0.1",
                "quarkus.grpc.clients.auth.test-port", String.valueOf(auth.port),
                "quarkus.grpc.clients.pluginmanager.host", "127.0.0.1",
                "quarkus.grpc.clients.pluginmanager.test-port", String.valueOf(pluginManager.port));
    }

    ServiceProcess auth() {
        return auth;
    }

    ServiceProcess pluginManager() {
        return pluginManager;
    }

    private static Map<String, String> with(Map<String, String> a, Map<String, String> b) {
        java.util.HashMap<String, String> all = new java.util.HashMap<>(a);
        all.putAll(b);
        return all;
    }

    @Override
    public void inject(TestInjector testInjector) {
        testInjector.injectIntoFields(this, new TestInjector.AnnotatedAndMatchesType(Inject.class, Backends.class));
    }

    @Override
    public void stop() {
        if (pluginManager != null) {
            pluginManager.stop(); // stops its plugins first
        }
        if (auth != null) {
            auth.stop();
        }
        if (postgres != null) {
            postgres.close();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
