package dev.bkg.launcher;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The real {@code ./bkg} of this checkout run against a throw-away BKG_HOME, with the environment a
 * test chooses (free ports, passwords): what the launcher's integration tests drive.
 */
final class MeshUnderTest {

    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    final Path home;
    final Map<String, String> env = new HashMap<>();

    MeshUnderTest(Path home) {
        this.home = home;
    }

    /** Every service, and the plugins started on demand, on a free port. */
    void useFreePorts() {
        for (ServiceSpec spec : ServiceSpec.MESH) {
            env.put(spec.portEnv(), String.valueOf(Ports.free()));
        }
        for (String plugin : List.of("BKG_BRAINML_PORT", "BKG_CANDLE_PORT", "BKG_REPOAGENT_PORT")) {
            env.put(plugin, String.valueOf(Ports.free()));
        }
    }

    int port(String portEnv) {
        return Integer.parseInt(env.get(portEnv));
    }

    ProcessBuilder command(List<String> command) {
        ProcessBuilder builder = new ProcessBuilder(command).directory(ROOT.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("BKG_"));
        builder.environment().put("BKG_HOME", home.toString());
        builder.environment().put("BKG_NO_BUILD", "1");
        builder.environment().putAll(env);
        return builder;
    }

    Result bkg(Duration timeout, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(ROOT.resolve("bkg").toString()));
        command.addAll(List.of(args));
        return run(command(command), timeout);
    }

    Result run(ProcessBuilder builder, Duration timeout) throws Exception {
        Path out = Files.createTempFile(home, "bkg", ".out");
        Process process = builder.redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail(String.join(" ", builder.command()) + " did not finish within " + timeout + ":\n" + Files.readString(out));
        }
        return new Result(process.exitValue(), Files.readString(out));
    }

    /** Any process whose command line names this BKG_HOME: services, launcher, PostgreSQL. */
    List<String> processes() {
        String marker = home.toString();
        return ProcessHandle.allProcesses()
                .filter(p -> p.pid() != ProcessHandle.current().pid())
                .filter(p -> p.info().commandLine().map(c -> c.contains(marker)).orElse(false))
                .map(p -> p.pid() + " " + p.info().commandLine().orElse("")).collect(Collectors.toList());
    }

    record Result(int exit, String output) {
    }
}
