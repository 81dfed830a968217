package dev.bkg.gateway.ws;

import jakarta.enterprise.context.ApplicationScoped;

import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.quarkus.websockets.next.CloseReason;
import io.quarkus.websockets.next.OnError;
import io.quarkus.websockets.next.WebSocketConnection;
import io.smallrye.mutiny.Uni;

/**
 * Failures of every socket that the client caused, closed with the close code that says so rather
 * than 1011 (a server error): a message or frame over the server's size limit gets 1009, a
 * malformed frame 1002.
 */
@ApplicationScoped
public class SocketErrors {

    /** Vert.x refuses a message over quarkus.websockets-next.server.max-message-size (256 KiB) with this. */
    @OnError
    Uni<Void> tooLarge(IllegalStateException e, WebSocketConnection socket) {
        boolean overTheLimit = String.valueOf(e.getMessage()).contains("max message size");
        return socket.close(overTheLimit ? new CloseReason(1009, "a message over the 256 KiB limit")
                : new CloseReason(1011, "unexpected failure"));
    }

    @OnError
    Uni<Void> badFrame(CorruptedWebSocketFrameException e, WebSocketConnection socket) {
        String reason = e.getMessage() == null ? "bad frame" : e.getMessage();
        return socket.close(new CloseReason(e.closeStatus().code(), reason.length() > 120 ? reason.substring(0, 120) : reason));
    }
}
