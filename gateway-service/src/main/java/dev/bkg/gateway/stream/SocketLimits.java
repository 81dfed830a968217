package dev.bkg.gateway.stream;

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

    /** A query parameter of the handshake; null when absent. */
    public static String query(WebSocketConnection socket, String name) {
        String query = socket.handshakeRequest().query();
        for (String pair : query == null ? new String[0] : query.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).equals(name)) {
                return pair.substring(eq + 1);
            }
        }
        return null;
    }

    /** A numeric query parameter of the handshake; null when absent; IllegalArgumentException when not a number. */
    public static Long queryLong(WebSocketConnection socket, String name) {
        String value = query(socket, name);
        try {
            return value == null ? null : Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number");
        }
    }

    /** A true/false query parameter of the handshake (absent: false); IllegalArgumentException otherwise. */
    public static boolean queryFlag(WebSocketConnection socket, String name) {
        String value = query(socket, name);
        if (value == null || value.equals("false")) {
            return false;
        }
        if (value.equals("true")) {
            return true;
        }
        throw new IllegalArgumentException(name + " must be true or false");
    }

    /** Closes a socket whose handshake asked for something invalid (4400, like a 400). */
    public static void reject(WebSocketConnection socket, String reason) {
        socket.close(new CloseReason(4400, reason)).subscribe().with(v -> { }, e -> { });
    }
}
