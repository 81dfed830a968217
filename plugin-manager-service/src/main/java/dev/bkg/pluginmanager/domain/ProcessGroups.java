package dev.bkg.pluginmanager.domain;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

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

    /**
     * Starts {@code kill} and returns without waiting for it (the JDK reaps it): callers hold the
     * supervisor's lock, and a loaded machine can take seconds to run a process to its end.
     */
    private static void run(String... command) {
        try {
            new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run kill: " + e.getMessage(), e);
        }
    }
}
