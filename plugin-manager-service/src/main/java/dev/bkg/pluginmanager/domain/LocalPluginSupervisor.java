package dev.bkg.pluginmanager.domain;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

/**
 * Runs one plugin as a local process and keeps it running: start (spawn, then wait for its health
 * path → RUNNING, or UNHEALTHY after the start timeout), periodic health checks, crash detection
 * with restarts after an exponential backoff (CRASHED after the last allowed one), and stop
 * (SIGTERM to its process group, SIGKILL after the grace period). Every state change is published.
 * All state is guarded by this object's lock, which is never held while waiting (signals are sent
 * without waiting for {@code kill}); readers get an immutable snapshot without it. Timers run on the
 * shared scheduler.
 */
public final class LocalPluginSupervisor implements PluginSupervisor {

    private static final Logger LOG = Logger.getLogger(LocalPluginSupervisor.class);
    /** Consecutive failed health checks before a RUNNING plugin is called UNHEALTHY. */
    static final int FAILURE_THRESHOLD = 3;
    /** A plugin RUNNING this long has its crash count forgiven. */
    static final Duration STABLE_AFTER = Duration.ofSeconds(60);

    private final PluginSpec spec;
    private final PluginLog log;
    private final StatusEvents events;
    private final ScheduledExecutorService scheduler;
    private final HttpClient http;
    private final Map<String, String> baseEnvironment;
    private final Supplier<Map<String, String>> configEnvironment;
    private final Path pidFile;

    private PluginState state = PluginState.STOPPED;
    private long sinceMs = System.currentTimeMillis();
    private Process process;
    private int generation;
    private int restarts;
    private int lastExitCode;
    private String message = "";
    private long nextRestartMs;
    private long runningSinceMs;
    private int failedChecks;
    private ScheduledFuture<?> timer;
    private ScheduledFuture<?> killTimer;
    private CompletableFuture<PluginStatus> stopped = new CompletableFuture<>();
    private CompletableFuture<PluginStatus> settled = new CompletableFuture<>();
    private volatile PluginStatus current;

    public LocalPluginSupervisor(PluginSpec spec, PluginLog log, StatusEvents events, ScheduledExecutorService scheduler,
            HttpClient http, Map<String, String> baseEnvironment, Supplier<Map<String, String>> configEnvironment,
            Path runDir) {
        this.spec = spec;
        this.log = log;
        this.events = events;
        this.scheduler = scheduler;
        this.http = http;
        this.baseEnvironment = baseEnvironment;
        this.configEnvironment = configEnvironment;
        this.pidFile = runDir == null ? null : runDir.resolve(spec.id() + ".pid");
        if (!spec.available()) {
            message = spec.unavailableReason();
        }
        snapshot();
    }

    @Override
    public PluginSpec spec() {
        return spec;
    }

    @Override
    public PluginLog log() {
        return log;
    }

    /** Local plugins listen on the loopback interface only. */
    @Override
    public String host() {
        return "127.0.0.1";
    }

    /**
     * The latest status, read without the lock: callers on event loops (list, get, the bus) never
     * wait for a start, a stop or a health check in progress.
     */
    @Override
    public PluginStatus status() {
        return current;
    }

    /** Takes a new snapshot of the state; called under the lock after every change. */
    private PluginStatus snapshot() {
        current = new PluginStatus(spec.id(), state, process != null && state.processAlive() ? process.pid() : 0, sinceMs,
                restarts, lastExitCode, message, state == PluginState.BACKOFF ? nextRestartMs : 0);
        return current;
    }

    /**
     * Starts the plugin unless it is already up (idempotent). A manual start forgets earlier crashes.
     * The future completes once it is RUNNING, UNHEALTHY or has exited.
     */
    @Override
    public synchronized CompletableFuture<PluginStatus> start() {
        if (!spec.available()) {
            throw new IllegalStateException("plugin '" + spec.id() + "' is not available: " + spec.unavailableReason());
        }
        switch (state) {
            case STARTING:
                return settled;
            case RUNNING:
            case UNHEALTHY:
                return CompletableFuture.completedFuture(status());
            case STOPPING:
                return stopped.thenCompose(s -> start());
            default:
                restarts = 0;
                cancelTimer();
                spawn();
                snapshot();
                return settled;
        }
    }

    /** Stops the plugin (idempotent); {@code force} skips the grace period. Completes once STOPPED. */
    @Override
    public synchronized CompletableFuture<PluginStatus> stop(boolean force) {
        switch (state) {
            case STOPPED:
            case CRASHED:
                return CompletableFuture.completedFuture(status());
            case BACKOFF:
                cancelTimer();
                transition(PluginState.STOPPED, "stopped while waiting to restart");
                return CompletableFuture.completedFuture(status());
            case STOPPING:
                if (force) {
                    kill();
                }
                return stopped;
            default:
                cancelTimer();
                stopped = new CompletableFuture<>();
                transition(PluginState.STOPPING, force ? "killing" : "stopping (SIGTERM)");
                log.system(force ? "stopping: SIGKILL" : "stopping: SIGTERM, SIGKILL after " + spec.stopGrace().toMillis() + " ms");
                if (force) {
                    kill();
                } else {
                    ProcessGroups.signal(process.pid(), "TERM");
                    killTimer = scheduler.schedule(this::killAfterGrace, spec.stopGrace().toMillis(), TimeUnit.MILLISECONDS);
                }
                return stopped;
        }
    }

    @Override
    public CompletableFuture<PluginStatus> restart() {
        return stop(false).thenCompose(s -> start());
    }

    private synchronized void killAfterGrace() {
        if (state == PluginState.STOPPING) {
            log.system("still running after the grace period: SIGKILL");
            kill();
        }
    }

    private void kill() {
        if (process != null) {
            List<ProcessHandle> descendants = process.descendants().toList();
            ProcessGroups.signal(process.pid(), "KILL");
            descendants.forEach(ProcessHandle::destroyForcibly); // children that left the group
        }
    }

    private void spawn() {
        List<String> command = new ArrayList<>();
        if (ProcessGroups.canIsolate()) {
            command.add(ProcessGroups.SETSID.toString());
        }
        command.addAll(spec.command());
        ProcessBuilder builder = new ProcessBuilder(command).directory(spec.workdir().toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Map<String, String> env = builder.environment();
        env.clear();
        env.putAll(baseEnvironment);
        env.putAll(configEnvironment.get());
        env.putAll(spec.env());
        env.put("PORT", String.valueOf(spec.port()));
        env.put("QUARKUS_HTTP_PORT", String.valueOf(spec.port()));
        env.put("QUARKUS_HTTP_HOST", "127.0.0.1");
        env.put("BKG_PLUGIN_ID", spec.id());
        generation++;
        int gen = generation;
        settled = new CompletableFuture<>();
        failedChecks = 0;
        try {
            process = builder.start();
        } catch (IOException e) {
            process = null;
            log.system("cannot start " + spec.entrypoint() + ": " + e.getMessage());
            lastExitCode = -1;
            crashed("cannot start: " + e.getMessage());
            return;
        }
        log.system("started pid " + process.pid() + ": " + String.join(" ", spec.command()));
        writePidFile(process);
        transition(PluginState.STARTING, "waiting for " + spec.healthPath() + " on port " + spec.port());
        log.copyLines(process.getInputStream(), PluginLog.Stream.STDOUT, "plugin-" + spec.id() + "-stdout-" + gen);
        log.copyLines(process.getErrorStream(), PluginLog.Stream.STDERR, "plugin-" + spec.id() + "-stderr-" + gen);
        Process started = process;
        started.onExit().thenAccept(p -> exited(gen, p));
        long deadline = System.currentTimeMillis() + spec.startTimeout().toMillis();
        timer = scheduler.schedule(() -> probeStart(gen, deadline), 200, TimeUnit.MILLISECONDS);
    }

    private void probeStart(int gen, long deadline) {
        healthy().thenAccept(ok -> {
            synchronized (this) {
                if (gen != generation || state != PluginState.STARTING) {
                    return;
                }
                if (ok) {
                    runningSinceMs = System.currentTimeMillis();
                    transition(PluginState.RUNNING, "");
                    log.system("healthy: RUNNING");
                    settled.complete(status());
                    scheduleCheck(gen);
                } else if (System.currentTimeMillis() > deadline) {
                    String why = "no healthy answer from " + spec.healthPath() + " within " + spec.startTimeout().toSeconds() + " s";
                    transition(PluginState.UNHEALTHY, why);
                    log.system(why + ": UNHEALTHY");
                    settled.complete(status());
                    scheduleCheck(gen);
                } else {
                    timer = scheduler.schedule(() -> probeStart(gen, deadline), 250, TimeUnit.MILLISECONDS);
                }
            }
        });
    }

    private void scheduleCheck(int gen) {
        timer = scheduler.schedule(() -> check(gen), spec.healthInterval().toMillis(), TimeUnit.MILLISECONDS);
    }

    private void check(int gen) {
        healthy().thenAccept(ok -> {
            synchronized (this) {
                if (gen != generation || (state != PluginState.RUNNING && state != PluginState.UNHEALTHY)) {
                    return;
                }
                if (ok) {
                    failedChecks = 0;
                    if (state == PluginState.UNHEALTHY) {
                        runningSinceMs = System.currentTimeMillis();
                        transition(PluginState.RUNNING, "");
                        log.system("health check passes again: RUNNING");
                    } else if (restarts > 0 && System.currentTimeMillis() - runningSinceMs > STABLE_AFTER.toMillis()) {
                        restarts = 0;
                        snapshot();
                    }
                } else if (++failedChecks >= FAILURE_THRESHOLD && state == PluginState.RUNNING) {
                    String why = failedChecks + " health checks of " + spec.healthPath() + " failed";
                    transition(PluginState.UNHEALTHY, why);
                    log.system(why + ": UNHEALTHY");
                }
                scheduleCheck(gen);
            }
        });
    }

    private CompletableFuture<Boolean> healthy() {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + spec.port() + spec.healthPath()))
                .timeout(Duration.ofSeconds(2)).GET().build();
        return http.sendAsync(request, HttpResponse.BodyHandlers.discarding())
                .handle((response, failure) -> failure == null && response.statusCode() / 100 == 2);
    }

    private synchronized void exited(int gen, Process p) {
        if (gen != generation) {
            return;
        }
        lastExitCode = p.exitValue();
        cancelTimer();
        if (killTimer != null) {
            killTimer.cancel(false);
        }
        deletePidFile();
        if (ProcessGroups.canIsolate()) {
            ProcessGroups.killRemains(p.pid()); // a plugin's children never outlive it
        }
        log.flush();
        if (state == PluginState.STOPPING) {
            log.system("exited with code " + lastExitCode + ": STOPPED");
            transition(PluginState.STOPPED, "");
            stopped.complete(status());
            settled.complete(status());
            return;
        }
        List<String> last = log.lastTexts(5);
        log.system("exited on its own with code " + lastExitCode);
        crashed("exited with code " + lastExitCode + (last.isEmpty() ? "" : "; last lines: " + String.join(" | ", last)));
    }

    /** After an unexpected exit: BACKOFF then a restart, or CRASHED once the restarts are used up. */
    private void crashed(String why) {
        if (restarts >= spec.restart().maxRestarts()) {
            transition(PluginState.CRASHED, why + (restarts > 0 ? " (gave up after " + restarts + " restarts)" : ""));
            log.system("CRASHED: no more restarts");
            settled.complete(status());
            return;
        }
        restarts++;
        Duration delay = spec.restart().delayBefore(restarts);
        nextRestartMs = System.currentTimeMillis() + delay.toMillis();
        transition(PluginState.BACKOFF, why);
        log.system("restart " + restarts + " of " + spec.restart().maxRestarts() + " in " + delay.toMillis() + " ms");
        settled.complete(status());
        timer = scheduler.schedule(this::restartAfterBackoff, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    private synchronized void restartAfterBackoff() {
        if (state == PluginState.BACKOFF) {
            spawn();
        }
    }

    private void transition(PluginState next, String why) {
        PluginState previous = state;
        state = next;
        message = why == null ? "" : why;
        sinceMs = System.currentTimeMillis();
        if (previous != next) {
            LOG.infof("plugin %s: %s -> %s%s", spec.id(), previous, next, message.isEmpty() ? "" : " (" + message + ")");
        }
        events.publish(snapshot(), previous);
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    /** The pid and its start time, so that a later manager finds its orphan and never a stranger reusing the pid. */
    private void writePidFile(Process p) {
        if (pidFile == null) {
            return;
        }
        try {
            Files.createDirectories(pidFile.getParent());
            Files.writeString(pidFile, p.pid() + " " + p.info().startInstant().map(Object::toString).orElse("") + "\n");
        } catch (IOException e) {
            LOG.warnf("cannot write %s: %s", pidFile, e.getMessage());
        }
    }

    private void deletePidFile() {
        if (pidFile != null) {
            try {
                Files.deleteIfExists(pidFile);
            } catch (IOException e) {
                LOG.warnf("cannot delete %s: %s", pidFile, e.getMessage());
            }
        }
    }
}
