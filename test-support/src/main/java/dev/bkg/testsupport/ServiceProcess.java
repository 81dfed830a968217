package dev.bkg.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** One real service of the mesh, run from its packaged jar as its own process on a fixed port. */
public final class ServiceProcess {

    private final String name;
    private final Path jar;
    private final Path log;
    private final Map<String, String> env;
    public final int port = freePort();
    private Process process;

    /** A service of the mesh by module name; its jar is looked up beside the current module. */
    public ServiceProcess(String name, Path logDirectory, Map<String, String> env) {
        this.name = name;
        this.jar = Path.of("../" + name + "/target/quarkus-app/quarkus-run.jar").toAbsolutePath().normalize();
        this.log = logDirectory.resolve(name + ".log");
        this.env = new HashMap<>(env);
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("these tests run the real " + name + ": build it first ("
                    + "./mvnw -pl " + name + " -am package -DskipTests); missing " + jar);
        }
    }

    /** Starts the service (again, on the same port) and waits until it is ready. */
    public void start() {
        ProcessBuilder builder = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
                "-XX:+UseSerialGC", "-jar", jar.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().putAll(env);
        builder.environment().put("QUARKUS_HTTP_PORT", String.valueOf(port));
        builder.environment().put("QUARKUS_HTTP_HOST", "127.0.0.1");
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited; see " + log);
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
        throw new IllegalStateException(name + " not ready within 90 s; see " + log);
    }

    /** Kills the service outright (SIGKILL): what a crash looks like to the gateway. */
    public void kill() {
        process.destroyForcibly();
        waitFor(30);
    }

    /** Stops it as an operator would (SIGTERM; SIGKILL after 20 s). */
    public void stop() {
        if (process == null) {
            return;
        }
        process.destroy();
        if (!waitFor(20)) {
            process.destroyForcibly();
            waitFor(10);
        }
    }

    private boolean waitFor(int seconds) {
        try {
            return process.waitFor(seconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * A free port below Linux's ephemeral range (32768–60999): a port handed out now and bound only
     * later (a plugin's, when a test starts it) is then never taken meanwhile as the local port of
     * some outgoing connection, which a port from {@code new ServerSocket(0)} can be (the plugin then
     * fails to bind). Never the same port twice in one JVM.
     */
    public static synchronized int freePort() {
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = 20_000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(12_000);
            if (HANDED_OUT.contains(port)) {
                continue;
            }
            try (ServerSocket socket = new ServerSocket(port)) {
                HANDED_OUT.add(port);
                return socket.getLocalPort();
            } catch (IOException taken) {
                // in use: try another
            }
        }
        throw new UncheckedIOException(new IOException("no free port in 20000–31999"));
    }

    private static final java.util.Set<Integer> HANDED_OUT = new java.util.HashSet<>();

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
