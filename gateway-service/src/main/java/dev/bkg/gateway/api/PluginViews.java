package dev.bkg.gateway.api;

import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.bkg.proto.pluginmanager.v1.LogLine;
import dev.bkg.proto.pluginmanager.v1.PluginConfig;
import dev.bkg.proto.pluginmanager.v1.PluginInfo;
import dev.bkg.proto.pluginmanager.v1.PluginStatus;

/** The JSON shapes of /api/plugins, made from the plugin manager's messages. */
public final class PluginViews {

    private static final ObjectMapper JSON = new ObjectMapper();

    private PluginViews() {
    }

    public record Status(String pluginId, String state, Long pid, Instant since, int restarts, int lastExitCode,
            String message, Instant nextRestartAt) {
        public static Status of(PluginStatus s) {
            return new Status(s.getPluginId(), s.getState().name(), s.getPid() == 0 ? null : s.getPid(),
                    instant(s.getSinceEpochMs()), s.getRestarts(), s.getLastExitCode(), s.getMessage(),
                    instant(s.getNextRestartEpochMs()));
        }
    }

    public record Healthcheck(String path, int intervalSeconds) {
    }

    public record RestartPolicy(int maxRestarts, long backoffBaseMs, long backoffCapMs) {
    }

    public record Plugin(String id, String name, String description, boolean autostart, List<String> capabilities,
            int port, String transport, Healthcheck healthcheck, RestartPolicy restartPolicy, long stopGraceMs,
            JsonNode configSchema, boolean available, String unavailableReason, Status status) {
        public static Plugin of(PluginInfo p) {
            return new Plugin(p.getId(), p.getName(), p.getDescription(), p.getAutostart(), p.getCapabilitiesList(),
                    p.getPort(), p.getTransport().name().toLowerCase(),
                    new Healthcheck(p.getHealthcheck().getPath(), p.getHealthcheck().getIntervalSeconds()),
                    new RestartPolicy(p.getRestartPolicy().getMaxRestarts(), p.getRestartPolicy().getBackoffBaseMs(),
                            p.getRestartPolicy().getBackoffCapMs()),
                    p.getStopGraceMs(), json(p.getConfigSchemaJson()), p.getAvailable(),
                    p.getUnavailableReason().isEmpty() ? null : p.getUnavailableReason(), Status.of(p.getStatus()));
        }
    }

    public record Line(long seq, Instant timestamp, String stream, String level, String text) {
        public static Line of(LogLine l) {
            return new Line(l.getSeq(), Instant.ofEpochMilli(l.getTimestampEpochMs()), l.getStream().name(),
                    l.getLevel(), l.getText());
        }
    }

    public record Config(String pluginId, JsonNode config, int version, Instant updatedAt, String updatedBy) {
        public static Config of(PluginConfig c) {
            return new Config(c.getPluginId(), json(c.getConfigJson()), c.getVersion(), instant(c.getUpdatedEpochMs()),
                    c.getUpdatedBy().isEmpty() ? null : c.getUpdatedBy());
        }
    }

    static JsonNode json(String text) {
        if (text == null || text.isEmpty()) {
            return null;
        }
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            return JSON.getNodeFactory().textNode(text);
        }
    }

    static Instant instant(long epochMs) {
        return epochMs == 0 ? null : Instant.ofEpochMilli(epochMs);
    }
}
