package dev.bkg.pluginmanager.domain;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One plugin as plugins.json declares it, resolved against the environment (ports, ${VAR}s).
 *
 * @param command       the entrypoint split into arguments ({@code java} is this JVM)
 * @param workdir       where the process runs (the mesh root)
 * @param available     false when it cannot start here; {@code unavailableReason} says why
 * @param configSchema  JSON Schema of its config, or null when it has none
 */
public record PluginSpec(String id, String description, String entrypoint, List<String> command, Path workdir,
        boolean autostart, List<String> capabilities, String healthPath, Duration healthInterval, int port,
        Transport transport, Map<String, String> env, RestartPolicy restart, Duration stopGrace,
        Duration startTimeout, JsonNode configSchema, boolean available, String unavailableReason) {

    public enum Transport {
        GRPC, HTTP
    }

    /**
     * Restarts after crashes: the n-th consecutive crash waits base × 2^(n-1), never more than the
     * cap; after {@code maxRestarts} consecutive crashes the plugin stays CRASHED.
     */
    public record RestartPolicy(int maxRestarts, Duration backoffBase, Duration backoffCap) {

        public Duration delayBefore(int restartNumber) {
            long factor = 1L << Math.min(Math.max(restartNumber - 1, 0), 30);
            long millis = backoffBase.toMillis() * factor;
            return millis <= 0 || millis > backoffCap.toMillis() ? backoffCap : Duration.ofMillis(millis);
        }
    }
}
