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
    private final Map<ServiceSpec, Process> processes = Collections.synchronizedMap(new LinkedHashMap<>());
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private Database database;
    private volatile boolean stopping;
    private String adminPassword;
    private final Map<ServiceSpec, Restarts> restarts = new java.util.concurrent.ConcurrentHashMap<>();
    private int databaseRestarts;
    private final java.util.concurrent.ScheduledExecutorService supervisor = java.util.concurrent.Executors
            .newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "bkg-supervisor");
                t.setDaemon(true);
                return t;
            });

    static final Duration RESTART_BASE = Duration.ofSeconds(1);
    static final Duration RESTART_CAP = Duration.ofSeconds(30);
    /** A run this long forgives the earlier crashes: the next restart waits RESTART_BASE again. */
    static final Duration STABLE_RUN = Duration.ofMinutes(1);
    static final int CRASH_LOOP_EXITS = 5;
    static final Duration CRASH_LOOP_WINDOW = Duration.ofMinutes(5);

    Mesh(Env env, RunState state) {
        this.env = env;
        this.home = env.home();
        this.state = state;
    }

    /** Everything up and ready, or a {@link LauncherException} that names what is not (the caller closes). */
    void start(String adminPassword) {
        this.adminPassword = adminPassword;
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
                List<ProcessHandle> strays = Strays.of(home);
                throw new LauncherException("port " + port + " for " + spec.name() + " is already in use" + (strays.isEmpty()
                        ? " (free it or choose another with " + spec.portEnv() + "=...)"
                        : "; processes of this mesh are still running from an earlier run — ./bkg down stops them: "
                                + strays.stream().map(Strays::describe).collect(Collectors.joining(", "))));
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

    /**
     * Keeps the mesh up as a supervisor does: a core service that exits is started again after a
     * backoff (1 s doubling to 30 s; back to 1 s once a run lasted a minute), its restarts and last
     * exit recorded for ./bkg status; five exits within five minutes are reported as a crash loop
     * (and still retried at the cap). The embedded PostgreSQL is checked every two seconds and
     * started again over its data if its server died. Plugins are the plugin manager's to supervise.
     */
    void supervise() {
        processes.forEach(this::watch);
        if (database != null) {
            supervisor.scheduleWithFixedDelay(this::checkDatabase, 2, 2, TimeUnit.SECONDS);
        }
    }

    private void watch(ServiceSpec spec, Process process) {
        // not a test: a callback when a service process exits
        process.onExit().thenAccept(p -> exited(spec, p));
    }

    private synchronized void exited(ServiceSpec spec, Process process) {
        if (stopping || processes.get(spec) != process) {
            return;
        }
        Restarts r = restarts.computeIfAbsent(spec, s -> new Restarts());
        long now = System.currentTimeMillis();
        r.count++;
        r.lastExit = process.exitValue();
        r.consecutive = now - r.startedAtMs > STABLE_RUN.toMillis() ? 1 : r.consecutive + 1;
        r.exits.addLast(now);
        while (now - r.exits.peekFirst() > CRASH_LOOP_WINDOW.toMillis()) {
            r.exits.removeFirst();
        }
        boolean looping = r.exits.size() >= CRASH_LOOP_EXITS;
        long delay = Math.min(RESTART_CAP.toMillis(), RESTART_BASE.toMillis() << Math.min(10, r.consecutive - 1));
        state.put(spec.name() + ".restarts", r.count);
        state.put(spec.name() + ".last-exit", r.lastExit);
        state.put(spec.name() + ".state", looping ? "crash-looping" : "restarting");
        System.out.println("bkg: " + spec.name() + " exited with code " + r.lastExit + "; restart " + r.count + " in "
                + delay + " ms" + (looping ? " — it keeps crashing (" + r.exits.size() + " exits in "
                        + CRASH_LOOP_WINDOW.toMinutes() + " min; see ./bkg logs " + spec.name() + ")" : ""));
        supervisor.schedule(() -> restart(spec), delay, TimeUnit.MILLISECONDS);
    }

    private synchronized void restart(ServiceSpec spec) {
        if (stopping) {
            return;
        }
        Restarts r = restarts.get(spec);
        r.startedAtMs = System.currentTimeMillis();
        try {
            Process process = launch(spec, adminPassword, home.resolve("logs").resolve(spec.name() + ".log"));
            processes.put(spec, process);
            state.put(spec.name() + ".pid", process.pid());
            state.put(spec.name() + ".state", r.exits.size() >= CRASH_LOOP_EXITS ? "crash-looping" : "running");
            watch(spec, process);
        } catch (LauncherException e) {
            System.out.println("bkg: " + e.getMessage() + "; trying again in " + RESTART_CAP.toSeconds() + " s");
            supervisor.schedule(() -> restart(spec), RESTART_CAP.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void checkDatabase() {
        if (stopping) {
            return;
        }
        try {
            if (database.restartIfDead()) {
                databaseRestarts++;
                state.put("postgres.pid", database.pid());
                state.put("postgres.restarts", databaseRestarts);
                System.out.println("bkg: the embedded PostgreSQL had stopped; started again over its data (restart "
                        + databaseRestarts + ")");
            }
        } catch (RuntimeException e) {
            System.out.println("bkg: the embedded PostgreSQL does not start again yet (" + e + "); trying again in 2 s");
        }
    }

    /** A core service's record under supervision. */
    private static final class Restarts {
        int count;
        int consecutive;
        int lastExit;
        long startedAtMs;
        final java.util.ArrayDeque<Long> exits = new java.util.ArrayDeque<>();
    }

    /** Stops the services (gateway first, all in parallel: SIGTERM, then SIGKILL after the grace), then the database. */
    @Override
    public void close() {
        synchronized (this) {
            stopping = true; // no restart starts after this
        }
        supervisor.shutdownNow();
        List<ServiceSpec> order;
        synchronized (processes) {
            order = new ArrayList<>(processes.keySet());
        }
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
