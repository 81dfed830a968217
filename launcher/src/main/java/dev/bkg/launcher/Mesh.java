package dev.bkg.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * Starts the database and every service as its own process, waits until each one's
 * {@code /q/health/ready} says UP, and stops them all again (SIGTERM, then SIGKILL after a grace
 * period), the database last.
 */
final class Mesh implements AutoCloseable {

    /** Quarkus drains for quarkus.shutdown.timeout (10 s); a little more, then SIGKILL. */
    private static final Duration STOP_GRACE = Duration.ofSeconds(20);
    private static final String DEFAULT_JAVA_OPTS = "-XX:+UseSerialGC -XX:MaxRAMPercentage=10";

    private final Env env;
    private final Path home;
    private final RunState state;
    private final Map<ServiceSpec, Process> processes = new LinkedHashMap<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private Database database;
    private volatile boolean stopping;

    Mesh(Env env, RunState state) {
        this.env = env;
        this.home = env.home();
        this.state = state;
    }

    /** Everything up and ready, or a {@link LauncherException} that names what is not (the caller closes). */
    void start(String adminPassword) {
        checkBuilt();
        checkPortsFree();
        database = Database.open(env, home);
        state.put("database", database.describe());
        state.put("postgres.pid", database.pid());
        Path logs = createDirectories(home.resolve("logs"));
        for (ServiceSpec spec : ServiceSpec.MESH) {
            state.put(spec.name() + ".port", spec.port(env));
            if (spec.isPlugin()) {
                continue; // the plugin manager starts it (autostart in plugins/plugins.json)
            }
            Process process = launch(spec, adminPassword, logs.resolve(spec.name() + ".log"));
            processes.put(spec, process);
            state.put(spec.name() + ".pid", process.pid());
        }
        awaitReady(Duration.ofSeconds(env.readyTimeoutSeconds()));
    }

    private void checkBuilt() {
        Path root = env.root();
        List<String> missing = ServiceSpec.MESH.stream().filter(s -> !Files.isRegularFile(s.jar(root)))
                .map(s -> root.relativize(s.jar(root)).toString()).collect(Collectors.toList());
        if (!missing.isEmpty()) {
            throw new LauncherException("missing build: " + String.join(", ", missing)
                    + " (run ./mvnw -DskipTests install, or ./bkg up, which builds what is missing)");
        }
    }

    private void checkPortsFree() {
        for (ServiceSpec spec : ServiceSpec.MESH) {
            int port = spec.port(env);
            if (!Ports.isFree(host(spec), port)) {
                throw new LauncherException("port " + port + " for " + spec.name() + " is already in use"
                        + " (free it or choose another with " + spec.portEnv() + "=...)");
            }
        }
    }

    private String host(ServiceSpec spec) {
        return spec.isGateway() ? env.gatewayHost() : "127.0.0.1";
    }

    private Process launch(ServiceSpec spec, String adminPassword, Path log) {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        for (String opt : env.get("BKG_JAVA_OPTS", DEFAULT_JAVA_OPTS).trim().split("\\s+")) {
            command.add(opt);
        }
        // marks the process as this mesh's, so that `down` never signals a stranger that reused a pid
        command.add("-Dbkg.home=" + home);
        command.add("-jar");
        command.add(spec.jar(env.root()).toString());
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        Map<String, String> processEnv = builder.environment();
        processEnv.put("BKG_HOME", home.toString());
        processEnv.put("QUARKUS_HTTP_HOST", host(spec));
        processEnv.put("QUARKUS_HTTP_PORT", String.valueOf(spec.port(env)));
        for (ServiceSpec peer : ServiceSpec.MESH) {
            if (peer.grpcClientName() != null) {
                String prefix = "QUARKUS_GRPC_CLIENTS_" + peer.grpcClientName().toUpperCase() + "_";
                processEnv.put(prefix + "HOST", "127.0.0.1");
                processEnv.put(prefix + "PORT", String.valueOf(peer.port(env)));
            }
        }
        // brainml runs on demand (the plugin manager starts it), on its registry port
        processEnv.put("QUARKUS_GRPC_CLIENTS_BRAINML_HOST", "127.0.0.1");
        processEnv.put("QUARKUS_GRPC_CLIENTS_BRAINML_PORT", String.valueOf(env.port("BKG_BRAINML_PORT", 8088)));
        // and candle, the model runner
        processEnv.put("QUARKUS_GRPC_CLIENTS_CANDLE_HOST", "127.0.0.1");
        processEnv.put("QUARKUS_GRPC_CLIENTS_CANDLE_PORT", String.valueOf(env.port("BKG_CANDLE_PORT", 8087)));
        if (spec.needsDatabase()) {
            processEnv.putAll(database.serviceEnvironment());
        }
        if ("plugin-manager-service".equals(spec.name())) {
            // the plugins it runs: where their registry is, their ports, and the admin password,
            // which plugins.json hands to apikeys (auth-service) only
            processEnv.put("BKG_PLUGINS_REGISTRY", Path.of(env.get("BKG_PLUGINS_REGISTRY",
                    env.root().resolve("plugins/plugins.json").toString())).toAbsolutePath().toString());
            processEnv.put("BKG_PLUGINS_WORKDIR", env.root().toString());
            ServiceSpec.MESH.stream().filter(ServiceSpec::isPlugin)
                    .forEach(plugin -> processEnv.put(plugin.portEnv(), String.valueOf(plugin.port(env))));
            processEnv.put("BKG_ADMIN_PASSWORD", adminPassword);
        } else {
            processEnv.remove("BKG_ADMIN_PASSWORD");
        }
        try {
            return builder.start();
        } catch (IOException e) {
            throw new LauncherException(spec.name() + " did not start: " + e.getMessage());
        }
    }

    private void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<ServiceSpec> waiting = new ArrayList<>(ServiceSpec.MESH);
        while (!waiting.isEmpty()) {
            for (ServiceSpec spec : List.copyOf(waiting)) {
                Process process = processes.get(spec);
                if (process != null && !process.isAlive()) {
                    throw new LauncherException(spec.name() + " exited with code " + process.exitValue()
                            + " before it was ready; its last log lines:\n" + tail(spec, 25));
                }
                if (isReady(spec)) {
                    waiting.remove(spec);
                    System.out.println("  ready: " + spec.name() + " on port " + spec.port(env));
                }
            }
            if (!waiting.isEmpty() && System.nanoTime() > deadline) {
                StringBuilder message = new StringBuilder("not ready within " + timeout.toSeconds() + " s: ");
                message.append(waiting.stream().map(ServiceSpec::name).collect(Collectors.joining(", ")));
                for (ServiceSpec spec : waiting) {
                    message.append("\n--- ").append(spec.name()).append(" ---\n").append(tail(spec, 15));
                }
                throw new LauncherException(message.toString());
            }
            sleep(250);
        }
    }

    boolean isReady(ServiceSpec spec) {
        return isReady(http, "127.0.0.1", spec.port(env));
    }

    static boolean isReady(HttpClient http, String host, int port) {
        try {
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + "/q/health/ready"))
                    .timeout(Duration.ofSeconds(3)).GET().build();
            return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    String tail(ServiceSpec spec, int lines) {
        return tail(logFile(home, spec), lines);
    }

    /** A plugin's output is captured by the plugin manager, into logs/plugins/<plugin>.log. */
    static Path logFile(Path home, ServiceSpec spec) {
        return spec.isPlugin() ? home.resolve("logs/plugins").resolve(spec.plugin() + ".log")
                : home.resolve("logs").resolve(spec.name() + ".log");
    }

    static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log at " + file + ")";
        }
    }

    /** Reports services that exit while the mesh runs (the launcher keeps the others up). */
    void watch() {
        for (Map.Entry<ServiceSpec, Process> entry : processes.entrySet()) {
            // not a test: a callback when a service process exits on its own
            entry.getValue().onExit().thenAccept(p -> {
                if (!stopping) {
                    System.out.println("bkg: " + entry.getKey().name() + " exited with code " + p.exitValue()
                            + " (see ./bkg logs " + entry.getKey().name() + ")");
                }
            });
        }
    }

    /** Stops the services (gateway first, all in parallel: SIGTERM, then SIGKILL after the grace), then the database. */
    @Override
    public void close() {
        stopping = true;
        List<ServiceSpec> order = new ArrayList<>(processes.keySet());
        Collections.reverse(order);
        Map<ServiceSpec, List<ProcessHandle>> descendants = new LinkedHashMap<>();
        for (ServiceSpec spec : order) {
            Process process = processes.get(spec);
            descendants.put(spec, process.descendants().collect(Collectors.toList()));
            process.toHandle().destroy();
        }
        for (ServiceSpec spec : order) {
            stopWithin(processes.get(spec).toHandle(), descendants.get(spec), STOP_GRACE);
        }
        processes.clear();
        if (database != null) {
            database.close();
            database = null;
        }
    }

    /** Waits for a process that was sent SIGTERM; SIGKILLs it and its descendants after {@code grace}. */
    static void stopWithin(ProcessHandle process, List<ProcessHandle> descendants, Duration grace) {
        try {
            // not a test: the stop grace period of a process sent SIGTERM
            process.onExit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        descendants.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    }

    private static Path createDirectories(Path dir) {
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LauncherException("interrupted");
        }
    }
}
