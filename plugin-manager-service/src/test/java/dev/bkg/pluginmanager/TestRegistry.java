package dev.bkg.pluginmanager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * A plugins.json for the tests, written to a temporary BKG_HOME: real processes — the tiny Python
 * test plugin in several behaviours, the real repoagent — plus one missing and one invalid entry.
 */
public class TestRegistry implements QuarkusTestResourceLifecycleManager {

    static final Path HOME = tempDir();
    static final Path HEALTH_FILE = HOME.resolve("tiny-health");
    static final Path REPO_ROOT = Path.of("..").toAbsolutePath().normalize();
    static final Path TINY = Path.of("src/test/resources/tiny-plugin.py").toAbsolutePath();

    @Override
    public Map<String, String> start() {
        String tiny = "\"python3 " + TINY + "\"";
        String fast = "\"restart\": {\"maxRestarts\": 2, \"backoffBaseMs\": 300, \"backoffCapMs\": 1000}, \"stopGraceSeconds\": 1";
        String json = "{\"plugins\": [\n"
                + plugin("tiny", tiny, "[\"tiny.echo\", \"tiny.fail\", \"tiny.bad\", \"tiny.later\"]",
                        "{\"TINY_HEALTH_FILE\": \"" + HEALTH_FILE + "\", \"TINY_CHILD\": \"1\"}", fast
                                + ", \"configSchema\": {\"type\": \"object\", \"additionalProperties\": false, \"properties\": {"
                                + "\"greeting\": {\"type\": \"string\", \"maxLength\": 20, \"x-env\": \"TINY_GREETING\"},"
                                + "\"repeat\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 10, \"default\": 1}}}")
                + ",\n" + plugin("stubborn", tiny, "[\"stubborn.echo\"]", "{\"TINY_IGNORE_TERM\": \"1\"}",
                        "\"stopGraceSeconds\": 1.5")
                + ",\n" + plugin("broken", tiny, "[]", "{\"TINY_EXIT_AT_ONCE\": \"1\"}",
                        "\"restart\": {\"maxRestarts\": 0}")
                + ",\n" + plugin("flood", tiny, "[]", "{\"TINY_FLOOD\": \"60000\"}", fast)
                + ",\n" + plugin("repoagent", "\"plugins/repoagent/run\"", "[\"repo.analyze\", \"repo.patch\"]",
                        "{\"REPOAGENT_ALLOWED_ROOTS\": \"" + HOME + "\"}", fast)
                + ",\n" + plugin("missing", "\"plugins/not-written-yet/run\"", "[\"missing.thing\"]", "{}", fast)
                + ",\n{\"name\": \"Bad Name\", \"entrypoint\": \"x\", \"port\": 1}"
                + ",\n{\"name\": \"noport\", \"entrypoint\": \"x\"}"
                + "\n]}";
        try {
            Files.writeString(HOME.resolve("plugins.json"), json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Map.of("bkg.plugins.registry", HOME.resolve("plugins.json").toString(),
                "bkg.plugins.workdir", REPO_ROOT.toString(),
                "bkg.home", HOME.toString(),
                "bkg.plugins.autostart", "false",
                "bkg.plugins.log-lines", "1000",
                "bkg.plugins.log-file-bytes", "200000",
                "bkg.plugins.log-files", "2");
    }

    private static String plugin(String name, String entrypoint, String capabilities, String env, String extra) {
        return "{\"name\": \"" + name + "\", \"description\": \"test plugin " + name + "\", \"entrypoint\": " + entrypoint
                + ", \"capabilities\": " + capabilities + ", \"port\": " + freePort()
                + ", \"healthcheck\": {\"path\": \"/health\", \"intervalSeconds\": 1}, \"env\": " + env
                + ", \"startTimeoutSeconds\": 20, " + extra + "}";
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("bkg-plugin-manager-test");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void stop() {
    }
}
