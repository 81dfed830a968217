package dev.bkg.pluginmanager.domain;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Plugins run in their own session and process group ({@code setsid}), so that one signal reaches
 * the plugin and every child it started. Java has no API for process groups; {@code kill} does it.
 */
final class ProcessGroups {

    static final Path SETSID = Path.of("/usr/bin/setsid");

    private ProcessGroups() {
    }

    static boolean canIsolate() {
        return Files.isExecutable(SETSID);
    }

    /** Sends {@code signal} (TERM, KILL) to the group led by {@code pid}, and to {@code pid} itself. */
    static void signal(long pid, String signal) {
        run("kill", "-" + signal, "--", "-" + pid);
        run("kill", "-" + signal, String.valueOf(pid));
    }

    /** Kills what is left of a group whose leader has exited (children it left behind). */
    static void killRemains(long pgid) {
        run("kill", "-KILL", "--", "-" + pgid);
    }

    private static void run(String... command) {
        try {
            Process kill = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            kill.waitFor(5, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new IllegalStateException("cannot run kill: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
