package dev.bkg.gateway;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import dev.bkg.embeddedpostgres.EmbeddedPostgresServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * The real auth-service, as its own process from its packaged jar, over a real embedded
 * PostgreSQL: the gateway's tests go gateway → gRPC → auth-service → database, as in production.
 * Tests that take auth-service down get this resource in a field marked {@link Inject}.
 */
public class AuthServiceProcess implements QuarkusTestResourceLifecycleManager {

    public static final String ADMIN_PASSWORD = "gateway-test-admin-password";
    static final Path JAR = Path.of("../auth-service/target/quarkus-app/quarkus-run.jar").toAbsolutePath().normalize();

    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.FIELD)
    public @interface Inject {
    }

    private Path dir;
    private EmbeddedPostgresServer postgres;
    private Process process;
    private int port;

    @Override
    public Map<String, String> start() {
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException("the gateway's tests run the real auth-service: build it first ("
                    + "./mvnw -pl auth-service -am package -DskipTests); missing " + JAR);
        }
        try {
            dir = Files.createTempDirectory("bkg-gateway-test");
            try (ServerSocket socket = new ServerSocket(0)) {
                port = socket.getLocalPort();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        postgres = EmbeddedPostgresServer.start(0, dir.resolve("db"), null);
        startService();
        return Map.of("quarkus.grpc.clients.auth.host", "127.0.0.1",
                "quarkus.grpc.clients.auth.test-port", String.valueOf(port));
    }

    /** Starts auth-service (again) on the same port and database and waits until it is ready. */
    public void startService() {
        ProcessBuilder builder = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
                "-XX:+UseSerialGC", "-jar", JAR.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("auth-service.log").toFile()));
        builder.environment().put("QUARKUS_HTTP_PORT", String.valueOf(port));
        builder.environment().put("QUARKUS_HTTP_HOST", "127.0.0.1");
        builder.environment().put("QUARKUS_DATASOURCE_REACTIVE_URL", postgres.reactiveUrl());
        builder.environment().put("QUARKUS_DATASOURCE_USERNAME", EmbeddedPostgresServer.USER);
        builder.environment().put("BKG_ADMIN_PASSWORD", ADMIN_PASSWORD);
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("auth-service exited; see " + dir.resolve("auth-service.log"));
            }
            try {
                HttpRequest ready = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/health/ready")).build();
                if (http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            sleep(200);
        }
        throw new IllegalStateException("auth-service not ready within 90 s; see " + dir.resolve("auth-service.log"));
    }

    /** Kills auth-service outright (SIGKILL): what a crash looks like to the gateway. */
    public void killService() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void inject(TestInjector testInjector) {
        testInjector.injectIntoFields(this, new TestInjector.AnnotatedAndMatchesType(Inject.class, AuthServiceProcess.class));
    }

    @Override
    public void stop() {
        if (process != null) {
            process.destroy();
            try {
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
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

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
