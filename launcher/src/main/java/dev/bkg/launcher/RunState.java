package dev.bkg.launcher;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Properties;

/**
 * What a running launcher tells the other commands, under {@code $BKG_HOME/run}: a lock held for
 * the launcher's whole life (the OS drops it when the process dies, even on SIGKILL, so a stale
 * file never blocks a new {@code up}) and a properties file with the state, ports and pids.
 */
final class RunState {

    static final String STARTING = "STARTING";
    static final String READY = "READY";
    static final String FAILED = "FAILED";

    private final Path dir;
    private final Properties values = new Properties();

    RunState(Path home) {
        this.dir = home.resolve("run");
    }

    /** Takes the launcher lock, or says who holds it. Kept until this process exits. */
    FileLock lock() {
        try {
            Files.createDirectories(dir);
            FileChannel channel = FileChannel.open(dir.resolve("launcher.lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock == null) {
                channel.close();
            }
            return lock;
        } catch (OverlappingFileLockException e) {
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** True while some launcher holds the lock (this process does not). */
    boolean launcherRunning() {
        FileLock lock = lock();
        if (lock == null) {
            return true;
        }
        try {
            lock.release();
            lock.channel().close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return false;
    }

    synchronized void put(String key, Object value) {
        values.setProperty(key, String.valueOf(value));
        save();
    }

    /** Written to a temporary file and moved in, so a reader never sees half a file. */
    private void save() {
        try {
            Files.createDirectories(dir);
            Path tmp = dir.resolve("mesh.properties.tmp");
            try (Writer writer = Files.newBufferedWriter(tmp)) {
                values.store(writer, "written by the bkg launcher; read by ./bkg status and ./bkg down");
            }
            Files.move(tmp, dir.resolve("mesh.properties"), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The last state a launcher wrote, if any. */
    Optional<Properties> read() {
        Path file = dir.resolve("mesh.properties");
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        Properties props = new Properties();
        try (Reader reader = Files.newBufferedReader(file)) {
            props.load(reader);
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.of(props);
    }

    void clear() {
        try {
            Files.deleteIfExists(dir.resolve("mesh.properties"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
