package dev.bkg.embeddedpostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * A real PostgreSQL server (zonky's packaged binaries) for the local launcher and the tests, used
 * when no external database URL is configured. It listens on loopback only, where the superuser
 * {@code postgres} needs no password. Its data lives in the given directory, so it survives a
 * stop and a start (the launcher keeps it under {@code $BKG_HOME/db}).
 */
public final class EmbeddedPostgresServer implements AutoCloseable {

    public static final String USER = "postgres";
    public static final String DATABASE = "postgres";

    private final Path dataDirectory;
    private final Path logFile;
    private int port;
    private EmbeddedPostgres postgres;
    private boolean stoppedOnPurpose;

    private EmbeddedPostgresServer(Path dataDirectory, int port, Path logFile) {
        this.dataDirectory = dataDirectory;
        this.port = port;
        this.logFile = logFile;
    }

    /**
     * Starts a server on {@code port} (0 picks a free one) over {@code dataDirectory} (created if
     * new), its output appended to {@code logFile} (null: this process's output). The caller stops
     * it: no JVM shutdown hook does, so that the launcher can stop the services first.
     */
    public static EmbeddedPostgresServer start(int port, Path dataDirectory, Path logFile) {
        EmbeddedPostgresServer server = new EmbeddedPostgresServer(dataDirectory, port, logFile);
        server.start();
        return server;
    }

    /** Starts the server again after {@link #stop()}, on the same port and data. */
    public synchronized void start() {
        if (postgres != null) {
            return;
        }
        stoppedOnPurpose = false;
        try {
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                    .setDataDirectory(dataDirectory)
                    .setCleanDataDirectory(false)
                    .setRegisterShutdownHook(false)
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    // seven services with their connection pools share one server
                    .setServerConfig("max_connections", "300");
            if (port > 0) {
                builder.setPort(port);
            }
            if (logFile != null) {
                builder.setOutputRedirector(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                        .setErrorRedirector(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
            }
            postgres = builder.start();
            port = postgres.getPort();
        } catch (IOException e) {
            throw new UncheckedIOException("embedded PostgreSQL did not start: " + e.getMessage(), e);
        }
    }

    /** Stops the server (fast shutdown) and waits until its postmaster process is gone; the data stays. */
    public synchronized void stop() {
        stoppedOnPurpose = true;
        if (postgres == null) {
            return;
        }
        long pid = pid();
        try {
            postgres.close();
            // pg_ctl returns once the pid file is gone, a moment before the process itself is
            // (not a test: a bounded wait, at most 30 s, for the postmaster to exit)
            if (pid > 0) {
                ProcessHandle.of(pid).ifPresent(p -> p.onExit().orTimeout(30, TimeUnit.SECONDS).join());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("embedded PostgreSQL did not stop cleanly: " + e.getMessage(), e);
        } finally {
            postgres = null;
        }
    }

    /**
     * Starts the server again, on the same port and data, when its postmaster died (kill -9, a
     * crash): PostgreSQL recovers from its write-ahead log, so nothing committed is lost. False when
     * it was running (or stopped on purpose).
     */
    public synchronized boolean restartIfDead() {
        if (stoppedOnPurpose) {
            return false;
        }
        long pid = pid();
        if (postgres != null && pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            return false;
        }
        if (postgres != null) {
            // its pg_ctl stop finds no server; closing releases the data directory's lock for the new one
            try {
                postgres.close();
            } catch (IOException | RuntimeException e) {
                // the server is gone already
            }
            postgres = null;
        }
        // a start that fails (the dead server's backends hold its shared memory a moment longer) leaves
        // postgres null, to be tried again by the next call
        start();
        return true;
    }

    /** The postmaster's process id, from its pid file (its children are PostgreSQL's own workers). */
    public long pid() {
        return postmasterPid(dataDirectory);
    }

    /** The pid of the postmaster running over {@code dataDirectory}, or -1 when none is recorded. */
    public static long postmasterPid(Path dataDirectory) {
        try {
            List<String> lines = Files.readAllLines(dataDirectory.resolve("postmaster.pid"));
            return lines.isEmpty() ? -1 : Long.parseLong(lines.get(0).trim());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    public Path dataDirectory() {
        return dataDirectory;
    }

    public int port() {
        return port;
    }

    /** The URL the Quarkus reactive PostgreSQL client takes ({@code quarkus.datasource.reactive.url}). */
    public String reactiveUrl() {
        return "postgresql://127.0.0.1:" + port + "/" + DATABASE;
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + DATABASE;
    }

    @Override
    public void close() {
        stop();
    }
}
