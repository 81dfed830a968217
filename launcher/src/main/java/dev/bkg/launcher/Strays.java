package dev.bkg.launcher;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Processes of this mesh still running without a launcher to stop them (the launcher or the plugin
 * manager was killed with SIGKILL): services and the launcher (their command line carries
 * {@code -Dbkg.home=<home>}), the embedded PostgreSQL (its data directory), and plugins of any
 * language (the plugin manager's pid files under {@code run/plugins}, each with its process's start
 * instant, so that a reused pid is never taken for one).
 */
final class Strays {

    private Strays() {
    }

    static List<ProcessHandle> of(Path home) {
        String service = "-Dbkg.home=" + home;
        String database = home.resolve("db").toString();
        // not this process, nor the ./bkg that started it (up --detach waits for its child launcher)
        Set<Long> mine = new java.util.HashSet<>();
        for (Optional<ProcessHandle> p = Optional.of(ProcessHandle.current()); p.isPresent(); p = p.get().parent()) {
            mine.add(p.get().pid());
        }
        Set<ProcessHandle> found = new LinkedHashSet<>();
        ProcessHandle.allProcesses().filter(p -> !mine.contains(p.pid()) && p.isAlive())
                .filter(p -> p.info().commandLine().map(c -> c.contains(service) || c.contains(database)).orElse(false))
                .forEach(found::add);
        found.addAll(plugins(home));
        return new ArrayList<>(found);
    }

    /** The plugins a plugin manager recorded and that still run. */
    static List<ProcessHandle> plugins(Path home) {
        List<ProcessHandle> out = new ArrayList<>();
        Path dir = home.resolve("run/plugins");
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.pid")) {
            for (Path file : files) {
                String[] fields = Files.readString(file).trim().split(" ");
                Optional<ProcessHandle> process;
                try {
                    process = ProcessHandle.of(Long.parseLong(fields[0]));
                } catch (NumberFormatException e) {
                    continue;
                }
                String started = fields.length > 1 ? fields[1] : "";
                process.filter(ProcessHandle::isAlive)
                        .filter(p -> p.info().startInstant().map(Object::toString).orElse("").equals(started))
                        .ifPresent(out::add);
            }
        } catch (IOException e) {
            // no pid files readable: nothing recorded
        }
        return out;
    }

    /** "pid 1234 (java … auth-service/target/quarkus-app/quarkus-run.jar)": enough to recognise it. */
    static String describe(ProcessHandle process) {
        String command = process.info().commandLine().orElse("?");
        return "pid " + process.pid() + " (" + (command.length() > 120 ? "…" + command.substring(command.length() - 119) : command)
                + ")";
    }

    /**
     * Stops them: SIGTERM to each and to its process group (plugins lead their own), SIGKILL to what
     * is left after the grace period, children included.
     */
    static void stop(List<ProcessHandle> strays, java.time.Duration grace) {
        List<List<ProcessHandle>> families = new ArrayList<>();
        for (ProcessHandle process : strays) {
            families.add(process.descendants().toList());
            signalGroup(process.pid(), "TERM");
            process.destroy();
        }
        for (int i = 0; i < strays.size(); i++) {
            Mesh.stopWithin(strays.get(i), families.get(i), grace);
            signalGroup(strays.get(i).pid(), "KILL");
        }
    }

    private static void signalGroup(long pid, String signal) {
        try {
            new ProcessBuilder("kill", "-" + signal, "--", "-" + pid).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
        } catch (IOException e) {
            // no kill command: the process itself was signalled
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
