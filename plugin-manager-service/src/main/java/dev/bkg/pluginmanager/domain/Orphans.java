package dev.bkg.pluginmanager.domain;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import org.jboss.logging.Logger;

/**
 * Plugins left running by a manager that died (kill -9, crash): found through their pid files and
 * stopped before anything starts, so that a restarted manager never runs a plugin twice — and then
 * starts them again (a plugin someone started stays started). A pid is only touched when its
 * process started at the recorded instant (pids get reused).
 */
final class Orphans {

    private static final Logger LOG = Logger.getLogger(Orphans.class);

    private Orphans() {
    }

    /** Stops every orphan; answers the ids of the plugins that were still running. */
    static Set<String> stopAll(Path runDir, Duration grace) {
        Set<String> stopped = new TreeSet<>();
        if (runDir == null || !Files.isDirectory(runDir)) {
            return stopped;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(runDir, "*.pid")) {
            for (Path file : files) {
                if (stop(file, grace)) {
                    stopped.add(file.getFileName().toString().replace(".pid", ""));
                }
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            LOG.warnf("cannot look for orphaned plugins in %s: %s", runDir, e.getMessage());
        }
        return stopped;
    }

    private static boolean stop(Path file, Duration grace) throws IOException {
        String[] fields = Files.readString(file).trim().split(" ");
        long pid;
        try {
            pid = Long.parseLong(fields[0]);
        } catch (NumberFormatException e) {
            return false;
        }
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        String recordedStart = fields.length > 1 ? fields[1] : "";
        if (handle.isEmpty() || !handle.get().isAlive()
                || !handle.get().info().startInstant().map(Object::toString).orElse("").equals(recordedStart)) {
            return false;
        }
        String plugin = file.getFileName().toString().replace(".pid", "");
        LOG.warnf("plugin %s (pid %d) outlived an earlier plugin manager: stopping it", plugin, pid);
        ProcessGroups.signal(pid, "TERM");
        long deadline = System.nanoTime() + grace.toNanos();
        while (handle.get().isAlive() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return true;
            }
        }
        if (handle.get().isAlive()) {
            ProcessGroups.signal(pid, "KILL");
        }
        return true;
    }
}
