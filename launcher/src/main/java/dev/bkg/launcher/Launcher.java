package dev.bkg.launcher;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

import dev.bkg.launcher.cli.Cli;
import dev.bkg.launcher.cli.CliContext;

/**
 * {@code ./bkg}: runs the whole mesh on one machine. {@code up [--detach]}, {@code status},
 * {@code down}; and the client commands of {@link Cli} ({@code pull}, {@code chat}, {@code ps},
 * {@code models}, {@code keys}) against the running mesh's gateway. Exit codes: 0 done, 1 failed (the
 * message says why), 2 usage, 3 the mesh is already running ({@code up}) or not running ({@code status},
 * the client commands).
 */
public final class Launcher {

    private final Env env;
    private final RunState state;

    Launcher(Env env) {
        this.env = env;
        this.state = new RunState(env.home());
    }

    public static void main(String[] args) {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        int code;
        try {
            code = new Launcher(Env.current()).run(args);
        } catch (LauncherException e) {
            System.err.println("bkg: " + e.getMessage());
            code = 1;
        }
        // not a test: ./bkg's documented exit status (0 ok, 1 failed, 3 not running / already running)
        System.exit(code);
    }

    int run(String[] args) {
        String command = args.length == 0 ? "help" : args[0];
        if (Cli.handles(command)) {
            return Cli.run(List.of(args), cliContext());
        }
        boolean detach = List.of(args).contains("--detach");
        return switch (command) {
            case "up" -> detach ? upDetached() : up();
            case "status" -> status();
            case "down" -> down();
            default -> {
                System.err.println("usage: ./bkg up [--detach] | status | down | logs [name] | " + Cli.USAGE);
                yield 2;
            }
        };
    }

    /** The client commands write UTF-8 (a model's reply is any text, whatever the locale says). */
    private CliContext cliContext() {
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        boolean console = System.console() != null;
        return new CliContext(env.values(), env.home(), System.in, out, err, console || stdinIsTerminal(), console,
                this::runningGatewayUrl);
    }

    /** System.console() needs both ends to be a terminal; piped output with typed input is still a chat. */
    private static boolean stdinIsTerminal() {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/0")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    /**
     * The gateway of the mesh running under this home, as {@code status} finds it: the launcher's lock
     * is held, and its run state names the gateway's URL (once ready) or port (while starting).
     */
    private Optional<String> runningGatewayUrl() {
        if (!state.launcherRunning()) {
            return Optional.empty();
        }
        Optional<Properties> props = state.read();
        if (props.isEmpty()) {
            return Optional.empty();
        }
        String url = props.get().getProperty("gateway.url");
        if (url != null && !url.isBlank()) {
            // the banner's "localhost" may resolve to ::1 first; the gateway listens on IPv4
            return Optional.of(url.trim().replaceFirst("^http://localhost:", "http://127.0.0.1:"));
        }
        String port = props.get().getProperty("gateway-service.port");
        return port == null || port.isBlank() ? Optional.empty() : Optional.of("http://127.0.0.1:" + port.trim());
    }

    /** Runs the mesh in this process until it is stopped (Ctrl-C, SIGTERM or ./bkg down). */
    private int up() {
        FileLock lock = state.lock();
        if (lock == null) {
            return alreadyRunning();
        }
        long started = System.nanoTime();
        AdminPassword admin = AdminPassword.resolve(env, env.home());
        Mesh mesh = new Mesh(env, state);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("bkg: stopping the mesh");
            mesh.close();
            state.clear();
            System.out.println("bkg: stopped");
        }, "bkg-stop"));
        state.clear();
        state.put("launcher.pid", ProcessHandle.current().pid());
        state.put("state", RunState.STARTING);
        System.out.println("bkg: starting the mesh (state in " + env.home() + ")");
        try {
            mesh.start(admin.value());
        } catch (LauncherException e) {
            state.put("state", RunState.FAILED);
            state.put("error", e.getMessage().lines().findFirst().orElse(""));
            throw e;
        }
        state.put("gateway.url", dashboardUrl());
        state.put("state", RunState.READY);
        mesh.supervise();
        printBanner(admin, Duration.ofNanos(System.nanoTime() - started), "Ctrl-C or ./bkg down stops everything.");
        try {
            Thread.currentThread().join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /** Starts a launcher in its own session, its output in logs/launcher.log, and returns once all are ready. */
    private int upDetached() {
        if (state.launcherRunning()) {
            return alreadyRunning();
        }
        long started = System.nanoTime();
        AdminPassword admin = AdminPassword.resolve(env, env.home());
        state.clear();
        Path log = env.home().resolve("logs/launcher.log");
        Process child;
        try {
            Files.createDirectories(log.getParent());
            List<String> command = new ArrayList<>(List.of("setsid",
                    ProcessHandle.current().info().command().orElse("java"), "-Dbkg.home=" + env.home(),
                    "-cp", System.getProperty("java.class.path"), Launcher.class.getName(), "up"));
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            // the child keeps using the same password without ever printing it to its log
            builder.environment().put("BKG_ADMIN_PASSWORD", admin.value());
            child = builder.start();
        } catch (IOException e) {
            throw new LauncherException("could not start the launcher in the background: " + e.getMessage());
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(env.readyTimeoutSeconds() + 60L).toNanos();
        while (true) {
            Optional<Properties> props = state.read();
            String current = props.map(p -> p.getProperty("state", "")).orElse("");
            if (RunState.READY.equals(current)) {
                printBanner(admin, Duration.ofNanos(System.nanoTime() - started), "./bkg down stops everything.");
                return 0;
            }
            if (!child.isAlive() || RunState.FAILED.equals(current) || System.nanoTime() > deadline) {
                if (child.isAlive()) {
                    child.destroy();
                }
                // not a test: wait for the destroyed detached child, so no launcher outlives a failed `up --detach`
                child.onExit().join();
                System.err.println("bkg: the mesh did not come up; the launcher's log (" + log + ") ends with:");
                System.err.println(Mesh.tail(log, 40));
                return 1;
            }
            Mesh.sleep(200);
        }
    }

    private int alreadyRunning() {
        Optional<Properties> props = state.read();
        String pid = props.map(p -> p.getProperty("launcher.pid", "?")).orElse("?");
        System.err.println("bkg: the mesh is already running (launcher pid " + pid + ", state "
                + props.map(p -> p.getProperty("state", "?")).orElse("?") + ", home " + env.home()
                + "); see ./bkg status, or stop it with ./bkg down");
        return 3;
    }

    private String dashboardUrl() {
        String host = env.gatewayHost().equals("0.0.0.0") ? "localhost" : env.gatewayHost();
        return "http://" + host + ":" + env.port("BKG_GATEWAY_PORT", 8080) + "/";
    }

    private void printBanner(AdminPassword admin, Duration took, String howToStop) {
        Properties props = state.read().orElseGet(Properties::new);
        System.out.printf("%nbkg mesh is up: %d services ready in %.1f s%n", ServiceSpec.MESH.size(),
                took.toMillis() / 1000.0);
        System.out.println("  dashboard:  " + dashboardUrl());
        System.out.println("  admin user: admin");
        System.out.println("  password:   " + admin.describe());
        System.out.println("  database:   " + props.getProperty("database", "?"));
        System.out.println("  logs:       ./bkg logs [service]   (files in " + env.home().resolve("logs") + ")");
        System.out.println(howToStop);
    }

    /**
     * A line per service: port, pid, whether it is ready now, its restarts and last exit. The first
     * line says READY only when every service (and autostarted plugin) is ready, DEGRADED otherwise
     * (exit 1), STARTING while the launcher brings the mesh up.
     */
    private int status() {
        Optional<Properties> props = state.read();
        boolean running = state.launcherRunning();
        if (!running || props.isEmpty()) {
            System.out.println("bkg mesh is not running (home " + env.home() + ")");
            return 3;
        }
        Properties p = props.get();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        List<String> rows = new ArrayList<>();
        List<String> notReady = new ArrayList<>();
        for (ServiceSpec spec : ServiceSpec.MESH) {
            String port = p.getProperty(spec.name() + ".port", "-");
            long pid = Long.parseLong(p.getProperty(spec.name() + ".pid", "-1"));
            // plugins are the plugin manager's children: their readiness tells whether they run
            boolean alive = spec.isPlugin() || pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
            String ready = !alive ? "down" : Mesh.isReady(http, "127.0.0.1", Integer.parseInt(port)) ? "ready" : "not ready";
            String supervised = p.getProperty(spec.name() + ".state", "");
            if (!"ready".equals(ready)) {
                notReady.add(spec.name());
                if (supervised.equals("restarting") || supervised.equals("crash-looping")) {
                    ready += " (" + supervised + ")";
                }
            }
            String name = spec.isPlugin() ? spec.name() + " (plugin " + spec.plugin() + ")" : spec.name();
            String exit = p.getProperty(spec.name() + ".last-exit", "-");
            rows.add(String.format("%-40s %6s %8s %8s %9s  %s", name, port, pid > 0 && !spec.isPlugin() ? pid : "-",
                    p.getProperty(spec.name() + ".restarts", spec.isPlugin() ? "-" : "0"), exit, ready));
        }
        long pgPid = Long.parseLong(p.getProperty("postgres.pid", "-1"));
        boolean pgAlive = pgPid <= 0 || ProcessHandle.of(pgPid).map(ProcessHandle::isAlive).orElse(false);
        if (!pgAlive) {
            notReady.add("postgresql");
        }
        rows.add(String.format("%-40s %6s %8s %8s %9s  %s", "postgresql", "-", pgPid > 0 ? pgPid : "-",
                p.getProperty("postgres.restarts", "0"), "-", (pgAlive ? "" : "down: ") + p.getProperty("database", "?")));
        String launcherState = p.getProperty("state", "?");
        String mesh = !RunState.READY.equals(launcherState) ? launcherState
                : notReady.isEmpty() ? RunState.READY : "DEGRADED (not ready: " + String.join(", ", notReady) + ")";
        System.out.printf("bkg mesh: %s (launcher pid %s)%n", mesh, p.getProperty("launcher.pid"));
        System.out.printf("%-40s %6s %8s %8s %9s  %s%n", "SERVICE", "PORT", "PID", "RESTARTS", "LAST EXIT", "STATE");
        rows.forEach(System.out::println);
        return mesh.equals(RunState.READY) ? 0 : 1;
    }

    /**
     * Stops the launcher (which stops the services and the database), then every process of this
     * mesh still running: services and a database left by a launcher killed with SIGKILL, and plugins
     * left by a plugin manager killed so.
     */
    private int down() {
        Optional<Properties> props = state.read();
        List<ProcessHandle> strays = Strays.of(env.home());
        if (props.isEmpty() && !state.launcherRunning() && strays.isEmpty()) {
            System.out.println("bkg mesh is not running");
            return 0;
        }
        Properties p = props.orElseGet(Properties::new);
        ours(p.getProperty("launcher.pid"), "-Dbkg.home=" + env.home()).ifPresent(launcher -> {
            System.out.println("bkg: stopping the launcher (pid " + launcher.pid() + ")");
            launcher.destroy();
            Mesh.stopWithin(launcher, List.of(), Duration.ofSeconds(60));
        });
        List<ProcessHandle> leftovers = Strays.of(env.home());
        for (ProcessHandle process : leftovers) {
            System.out.println("bkg: stopping left-over process " + Strays.describe(process));
        }
        Strays.stop(leftovers, Duration.ofSeconds(20));
        state.clear();
        System.out.println("bkg mesh stopped");
        return 0;
    }

    /** The live process with this pid, if its command line shows it is this mesh's (pids get reused). */
    private static Optional<ProcessHandle> ours(String pid, String marker) {
        if (pid == null || pid.isBlank() || pid.startsWith("-")) {
            return Optional.empty();
        }
        return ProcessHandle.of(Long.parseLong(pid.trim()))
                .filter(ProcessHandle::isAlive)
                .filter(h -> h.info().commandLine().map(c -> c.contains(marker)).orElse(false));
    }
}
