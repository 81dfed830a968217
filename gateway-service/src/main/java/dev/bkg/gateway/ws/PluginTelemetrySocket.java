package dev.bkg.gateway.ws;

import java.util.Map;

import dev.bkg.gateway.grpc.PluginManagerClient;
import dev.bkg.gateway.stream.SocketFeed;
import dev.bkg.gateway.stream.SocketLimits;
import dev.bkg.gateway.stream.TelemetryStreams;
import dev.bkg.proto.pluginmanager.v1.GetPluginRequest;
import dev.bkg.proto.telemetry.v1.Sample;
import io.grpc.Status;
import io.quarkus.websockets.next.CloseReason;
import io.quarkus.websockets.next.OnClose;
import io.quarkus.websockets.next.OnOpen;
import io.quarkus.websockets.next.WebSocket;
import io.quarkus.websockets.next.WebSocketConnection;
import io.smallrye.common.annotation.NonBlocking;

/**
 * {@code /ws/plugins/{id}/telemetry}: the plugin's latest figure of each metric, then every new
 * sample (about one per metric per second), as {@code {"type":"sample","metric","value","t","labels"}}.
 * Needs telemetry:read. An unknown plugin closes with 4404; telemetry-service restarting shows as
 * {@code {"type":"upstream","state":"reconnecting"}} and the socket stays open.
 */
@WebSocket(path = "/ws/plugins/{id}/telemetry")
public class PluginTelemetrySocket {

    private final TelemetryStreams streams;
    private final PluginManagerClient manager;
    private final SocketLimits limits;

    PluginTelemetrySocket(TelemetryStreams streams, PluginManagerClient manager, SocketLimits limits) {
        this.streams = streams;
        this.manager = manager;
        this.limits = limits;
    }

    private static final SocketFeed.Messages<Sample> MESSAGES = SocketFeed.messages("sample", SampleView::of);

    public record SampleView(String metric, double value, long t, Map<String, String> labels) {
        static SampleView of(Sample s) {
            return new SampleView(s.getMetric(), s.getValue(), s.getTimestampEpochMs(), s.getLabelsMap());
        }
    }

    @OnOpen
    @NonBlocking
    void open(WebSocketConnection socket) {
        String id = socket.pathParam("id");
        manager.forward(s -> s.getPlugin(GetPluginRequest.newBuilder().setPluginId(id).build())).subscribe().with(
                known -> {
                    if (socket.isOpen()) {
                        SocketFeed.start(socket, streams.live(), id, sample -> true, MESSAGES,
                                limits.maxPendingMessages());
                    }
                    if (!socket.isOpen()) {
                        SocketFeed.stop(socket); // closed while we asked the plugin manager
                    }
                },
                failure -> {
                    Status status = Status.fromThrowable(failure);
                    boolean unknown = status.getCode() == Status.Code.NOT_FOUND;
                    socket.close(new CloseReason(unknown ? 4404 : 1011, unknown ? "no such plugin"
                            : "plugin-manager-service unavailable")).subscribe().with(v -> { }, e -> { });
                });
    }

    @OnClose
    @NonBlocking
    void close(WebSocketConnection socket) {
        SocketFeed.stop(socket);
    }
}
