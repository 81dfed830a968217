package dev.bkg.gateway.ws;

import dev.bkg.gateway.api.PluginViews;
import dev.bkg.gateway.stream.PluginStreams;
import dev.bkg.gateway.stream.SocketFeed;
import dev.bkg.gateway.stream.SocketLimits;
import dev.bkg.proto.pluginmanager.v1.LogLine;
import io.quarkus.websockets.next.OnClose;
import io.quarkus.websockets.next.OnOpen;
import io.quarkus.websockets.next.WebSocket;
import io.quarkus.websockets.next.WebSocketConnection;
import io.smallrye.common.annotation.NonBlocking;

/**
 * {@code /ws/plugins/{id}/logs}: the plugin's last lines (bkg.gateway.ws.log-replay-lines), then its
 * lines live, as {@code {"type":"log","seq",...}}. {@code ?afterSeq=N} (a client reconnecting)
 * replays only lines after N. Needs plugins:read ({@link dev.bkg.gateway.security.WebSocketAuth}).
 */
@WebSocket(path = "/ws/plugins/{id}/logs")
public class PluginLogsSocket {

    private static final SocketFeed.Messages<LogLine> MESSAGES = SocketFeed.messages("log", PluginViews.Line::of);

    private final PluginStreams streams;
    private final SocketLimits limits;

    PluginLogsSocket(PluginStreams streams, SocketLimits limits) {
        this.streams = streams;
        this.limits = limits;
    }

    @OnOpen
    @NonBlocking
    void open(WebSocketConnection socket) {
        Long after;
        try {
            after = SocketLimits.queryLong(socket, "afterSeq");
        } catch (IllegalArgumentException e) {
            SocketLimits.reject(socket, e.getMessage());
            return;
        }
        long afterSeq = after == null ? -1 : after;
        SocketFeed.start(socket, streams.logs(), socket.pathParam("id"), line -> line.getSeq() > afterSeq,
                MESSAGES, limits.maxPendingMessages());
    }

    @OnClose
    @NonBlocking
    void close(WebSocketConnection socket) {
        SocketFeed.stop(socket);
    }
}
