package dev.bkg.pluginmanager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** The repoagent plugin's own unit tests (Python unittest) run as part of `./mvnw verify`. */
class RepoagentPythonTest {

    @Test
    void repoagentsUnitTestsPass() throws Exception {
        Path plugin = Path.of("../plugins/repoagent").toAbsolutePath().normalize();
        Process run = new ProcessBuilder("python3", "-m", "unittest", "-v").directory(plugin.toFile())
                .redirectErrorStream(true).start();
        String output = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(run.waitFor(5, TimeUnit.MINUTES), "the tests finish");
        assertEquals(0, run.exitValue(), output);
        assertTrue(output.contains("OK"), output);
    }
}
