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

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.bkg.embeddedpostgres.EmbeddedPostgresServer;
import dev.bkg.proto.model.v1.ModelServiceGrpc;
import dev.bkg.testsupport.LocalFileServer;
import dev.bkg.testsupport.RunnerTestModels;
import dev.bkg.testsupport.ServiceProcess;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * The gateway's real backends, each its own process from its packaged jar, over one real embedded
 * PostgreSQL: auth-service, telemetry-service, model-service (its model directory in the test's
 * folder, loopback downloads allowed), and plugin-manager-service with the project's own
 * plugins/plugins.json plus two test plugins (the plugin manager's tiny Python test plugin): "burner"
 * spinning one thread and "pacer" writing log lines at a steady rate, nothing autostarted: the tests start repoagent and burner, real Python
 * processes, and the plugin manager reports their figures to telemetry-service. The gateway's
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
    private ServiceProcess telemetry;
    private ServiceProcess model;
    private ServiceProcess inference;
    private ServiceProcess brainml;
    private int candlePort;
    private LocalFileServer files;

    @Override
    public Map<String, String> start() {
        try {
            dir = Files.createTempDirectory("bkg-gateway-test");
            Files.createDirectories(dir.resolve("brainml")); // its log beside llmserver's, same jar
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        postgres = EmbeddedPostgresServer.start(0, dir.resolve("db"), null);
        Map<String, String> database = Map.of("QUARKUS_DATASOURCE_REACTIVE_URL", postgres.reactiveUrl(),
                "QUARKUS_DATASOURCE_USERNAME", EmbeddedPostgresServer.USER);
        telemetry = new ServiceProcess("telemetry-service", dir, Map.of());
        Map<String, String> reporting = Map.of("QUARKUS_GRPC_CLIENTS_TELEMETRY_HOST", "127.0.0.1",
                "QUARKUS_GRPC_CLIENTS_TELEMETRY_PORT", String.valueOf(telemetry.port));
        auth = new ServiceProcess("auth-service", dir, with(with(database, reporting),
                Map.of("BKG_ADMIN_PASSWORD", ADMIN_PASSWORD)));
        model = new ServiceProcess("model-service", dir, with(with(database, reporting), Map.of(
                "BKG_MODELS_DIR", dir.resolve("models").toString(),
                "BKG_MODELS_DOWNLOAD_ALLOWED_HOSTS", "127.0.0.1")));
        // candle (the model runner) is not started here: the plugin manager starts it on demand, and
        // hands it (as every plugin) its own environment, model-service's address included
        candlePort = ServiceProcess.freePort();
        pluginManager = new ServiceProcess("plugin-manager-service", dir, with(with(database, reporting), Map.of(
                "BKG_PLUGINS_REGISTRY", registryWithTestPlugins().toString(),
                "BKG_PLUGINS_WORKDIR", REPO_ROOT.toString(),
                "BKG_HOME", dir.toString(),
                "BKG_PLUGINS_AUTOSTART", "false",
                "BKG_REPOAGENT_PORT", String.valueOf(ServiceProcess.freePort()),
                "BKG_CANDLE_PORT", String.valueOf(candlePort),
                "QUARKUS_GRPC_CLIENTS_MODEL_HOST", "127.0.0.1",
                "QUARKUS_GRPC_CLIENTS_MODEL_PORT", String.valueOf(model.port))));
        telemetry.start();
        auth.start();
        pluginManager.start();
        model.start();
        installRunnerTestModels();
        inference = new ServiceProcess("inference-service", dir, with(with(database, reporting), Map.of(
                "QUARKUS_GRPC_CLIENTS_MODEL_HOST", "127.0.0.1",
                "QUARKUS_GRPC_CLIENTS_MODEL_PORT", String.valueOf(model.port),
                "BKG_INFERENCE_ROLE", "llm",
                "BKG_HOME", dir.toString())));
        brainml = new ServiceProcess("inference-service", dir.resolve("brainml"),
                with(with(database, reporting), Map.of(
                        "QUARKUS_GRPC_CLIENTS_MODEL_HOST", "127.0.0.1",
                        "QUARKUS_GRPC_CLIENTS_MODEL_PORT", String.valueOf(model.port),
                        "BKG_INFERENCE_ROLE", "index",
                        "BKG_HOME", dir.toString())));
        inference.start(); // ready once it has fetched and loaded the default embedding model
        brainml.start(); // the same jar in role index: ready once its collections are loaded
        Map<String, String> clients = new java.util.HashMap<>();
        Map.of("telemetry", telemetry, "model", model, "auth", auth, "inference", inference, "brainml", brainml,
                "pluginmanager", pluginManager).forEach((client, service) -> {
                    clients.put("quarkus.grpc.clients." + client + ".host", "127.0.0.1");
                    clients.put("quarkus.grpc.clients." + client + ".test-port", String.valueOf(service.port));
                });
        // no face-service here (FaceBackends has one): its routes answer 503, as with face-service down
        clients.put("quarkus.grpc.clients.face.host", "127.0.0.1");
        clients.put("quarkus.grpc.clients.face.test-port", String.valueOf(ServiceProcess.freePort()));
        clients.put("quarkus.grpc.clients.candle.host", "127.0.0.1");
        clients.put("quarkus.grpc.clients.candle.test-port", String.valueOf(candlePort));
        return clients;
    }

    /** The model runner's small graphs (RunnerTestModels), downloaded into model-service from a local server. */
    private void installRunnerTestModels() {
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", model.port).usePlaintext().build();
        try {
            files = new LocalFileServer();
            RunnerTestModels.install(ModelServiceGrpc.newBlockingStub(channel), files, java.time.Duration.ofSeconds(60));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            channel.shutdownNow();
        }
    }

    /** The project's plugins.json plus "burner" and "pacer", written to the test's directory. */
    private Path registryWithTestPlugins() {
        try {
            ObjectMapper json = new ObjectMapper();
            ObjectNode registry = (ObjectNode) json.readTree(REPO_ROOT.resolve("plugins/plugins.json").toFile());
            ObjectNode burner = registry.withArray("plugins").addObject();
            burner.put("name", "burner").put("description", "a test plugin spinning one thread")
                    .put("entrypoint", "python3 " + REPO_ROOT.resolve("plugin-manager-service/src/test/resources/tiny-plugin.py"))
                    .put("port", ServiceProcess.freePort()).put("stopGraceSeconds", 1).put("startTimeoutSeconds", 20);
            burner.putArray("capabilities").add("burner.echo");
            burner.putObject("healthcheck").put("path", "/health").put("intervalSeconds", 2);
            burner.putObject("env").put("TINY_BURN", "1");
            ObjectNode pacer = registry.withArray("plugins").addObject();
            pacer.put("name", "pacer").put("description", "a test plugin writing log lines at a steady rate")
                    .put("entrypoint", "python3 " + REPO_ROOT.resolve("plugin-manager-service/src/test/resources/tiny-plugin.py"))
                    .put("port", ServiceProcess.freePort()).put("stopGraceSeconds", 1).put("startTimeoutSeconds", 20);
            pacer.putArray("capabilities");
            pacer.putObject("healthcheck").put("path", "/health").put("intervalSeconds", 2);
            pacer.putObject("env").put("TINY_PACE_LINES", String.valueOf(SocketPressureTest.LINES))
                    .put("TINY_PACE_RATE", String.valueOf(SocketPressureTest.LINES_PER_SECOND))
                    .put("TINY_PACE_PAD", String.valueOf(SocketPressureTest.PADDING));
            Path file = dir.resolve("plugins.json");
            json.writeValue(file.toFile(), registry);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Path directory() {
        return dir;
    }

    EmbeddedPostgresServer postgres() {
        return postgres;
    }

    ServiceProcess telemetry() {
        return telemetry;
    }

    ServiceProcess auth() {
        return auth;
    }

    ServiceProcess pluginManager() {
        return pluginManager;
    }

    ServiceProcess model() {
        return model;
    }

    ServiceProcess brainml() {
        return brainml;
    }

    ServiceProcess inference() {
        return inference;
    }

    private static Map<String, String> with(Map<String, String> a, Map<String, String> b) {
        java.util.HashMap<String, String> all = new java.util.HashMap<>(a);
        all.putAll(b);
        return all;
    }

    @Override
    public void inject(TestInjector testInjector) {
        testInjector.injectIntoFields(this, new TestInjector.AnnotatedAndMatchesType(Inject.class, getClass()));
    }

    @Override
    public void stop() {
        if (pluginManager != null) {
            pluginManager.stop(); // stops its plugins first
        }
        if (auth != null) {
            auth.stop();
        }
        if (telemetry != null) {
            telemetry.stop();
        }
        if (inference != null) {
            inference.stop();
        }
        if (brainml != null) {
            brainml.stop();
        }
        if (model != null) {
            model.stop();
        }
        if (files != null) {
            files.close();
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
