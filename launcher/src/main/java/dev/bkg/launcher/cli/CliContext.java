package dev.bkg.launcher.cli;

import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What a CLI command works with, so that tests can give their own: the environment, {@code BKG_HOME},
 * standard input and output, whether input and output are a terminal, and the gateway URL of the
 * mesh running under this home (empty when none runs).
 */
public record CliContext(Map<String, String> env, Path home, InputStream in, PrintStream out, PrintStream err,
        boolean inputIsTerminal, boolean outputIsTerminal, Supplier<Optional<String>> runningGateway) {

    /** The variable's value, or null when it is unset or blank. */
    String env(String name) {
        String value = env.get(name);
        return value == null || value.isBlank() ? null : value;
    }
}
