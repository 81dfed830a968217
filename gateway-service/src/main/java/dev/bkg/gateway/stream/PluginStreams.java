package dev.bkg.gateway.stream;

import java.util.EnumSet;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import dev.bkg.gateway.grpc.PluginManagerClient;
import dev.bkg.proto.pluginmanager.v1.LogLine;
import dev.bkg.proto.pluginmanager.v1.StatusEvent;
import dev.bkg.proto.pluginmanager.v1.StreamLogsRequest;
import dev.bkg.proto.pluginmanager.v1.StreamStatusRequest;
import io.grpc.Status;

/**
 * The plugin manager's log and status streams, each opened once per plugin by this gateway however
 * many sockets follow it. Log streams resume after the last line seen, so a reconnect neither
 * repeats nor loses lines the plugin manager still holds.
 */
@ApplicationScoped
public class PluginStreams {

    /** Key of the status stream of every plugin. */
    public static final String ALL_PLUGINS = "";

    private static final EnumSet<Status.Code> TERMINAL = EnumSet.of(Status.Code.NOT_FOUND,
            Status.Code.INVALID_ARGUMENT, Status.Code.PERMISSION_DENIED, Status.Code.UNIMPLEMENTED);

    private final Fanout<String, LogLine> logs;
    private final Fanout<String, StatusEvent> statuses;

    PluginStreams(PluginManagerClient pluginManager,
            @ConfigProperty(name = "bkg.gateway.ws.log-replay-lines", defaultValue = "200") int replayLines) {
        this.logs = new Fanout<>("plugin logs", (pluginId, seen) -> pluginManager.stream(stub -> stub.streamLogs(
                seen.isEmpty() ? StreamLogsRequest.newBuilder().setPluginId(pluginId).setTail(replayLines).build()
                        : StreamLogsRequest.newBuilder().setPluginId(pluginId)
                                .setAfterSeq(seen.get(seen.size() - 1).getSeq()).build())),
                () -> Replays.recent(replayLines), s -> TERMINAL.contains(s.getCode()));
        this.statuses = new Fanout<>("plugin status", (pluginId, seen) -> pluginManager.stream(stub -> stub.streamStatus(
                StreamStatusRequest.newBuilder().setPluginId(pluginId).build())),
                () -> Replays.latestBy(event -> event.getStatus().getPluginId()), s -> TERMINAL.contains(s.getCode()));
    }

    public Fanout<String, LogLine> logs() {
        return logs;
    }

    /** Keyed by plugin id, or {@link #ALL_PLUGINS}. */
    public Fanout<String, StatusEvent> statuses() {
        return statuses;
    }
}
