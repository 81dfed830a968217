package dev.bkg.gateway.ws;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.quarkus.websockets.next.CloseReason;
import io.quarkus.websockets.next.WebSocketConnection;

/** Settings every socket shares. */
@ApplicationScoped
public class SocketLimits {

    private final int maxPendingMessages;

    SocketLimits(@ConfigProperty(name = "bkg.gateway.ws.max-pending-messages", defaultValue = "1000") int maxPendingMessages) {
        this.maxPendingMessages = maxPendingMessages;
    }

    /** Messages a socket may have unwritten before its new ones are dropped (and counted for it). */
    public int maxPendingMessages() {
        return maxPendingMessages;
    }

    /** A numeric query parameter of the handshake; null when absent; IllegalArgumentException when not a number. */
    static Long queryLong(WebSocketConnection socket, String name) {
        String query = socket.handshakeRequest().query();
        for (String pair : query == null ? new String[0] : query.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).equals(name)) {
                try {
                    return Long.parseLong(pair.substring(eq + 1));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(name + " must be a whole number");
                }
            }
        }
        return null;
    }

    /** Closes a socket whose handshake asked for something invalid (4400, like a 400). */
    static void reject(WebSocketConnection socket, String reason) {
        socket.close(new CloseReason(4400, reason)).subscribe().with(v -> { }, e -> { });
    }
}
