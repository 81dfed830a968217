package dev.bkg.gateway.ws;

import dev.bkg.gateway.stream.PluginStreams;
import dev.bkg.gateway.stream.SocketFeed;
import dev.bkg.gateway.stream.SocketLimits;
import io.quarkus.websockets.next.OnClose;
import io.quarkus.websockets.next.OnOpen;
import io.quarkus.websockets.next.WebSocket;
import io.quarkus.websockets.next.WebSocketConnection;
import io.smallrye.common.annotation.NonBlocking;

/** {@code /ws/plugins/status}: every plugin's current status, then every change (the overview page). */
@WebSocket(path = "/ws/plugins/status")
public class AllPluginsStatusSocket {

    private final PluginStreams streams;
    private final SocketLimits limits;

    AllPluginsStatusSocket(PluginStreams streams, SocketLimits limits) {
        this.streams = streams;
        this.limits = limits;
    }

    @OnOpen
    @NonBlocking
    void open(WebSocketConnection socket) {
        SocketFeed.start(socket, streams.statuses(), PluginStreams.ALL_PLUGINS, event -> true, StatusChange.MESSAGES,
                limits.maxPendingMessages());
    }

    @OnClose
    @NonBlocking
    void close(WebSocketConnection socket) {
        SocketFeed.stop(socket);
    }
}
