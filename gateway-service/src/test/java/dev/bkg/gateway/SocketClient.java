package dev.bkg.gateway;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import io.vertx.core.json.JsonObject;

/** A real WebSocket client (the JDK's) that keeps every message it receives, for the tests to wait on. */
final class SocketClient implements WebSocket.Listener, AutoCloseable {

    final LinkedBlockingQueue<JsonObject> messages = new LinkedBlockingQueue<>();
    /** Every message, in arrival order (the queue is consumed by {@link #await}). */
    final List<JsonObject> received = new java.util.concurrent.CopyOnWriteArrayList<>();
    final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
    private final StringBuilder partial = new StringBuilder();
    private WebSocket socket;

    /** Connects with the credential as a subprotocol, as a browser does. */
    static SocketClient open(String url, String credential) {
        return connect(url, "bkg.v1", "bkg.bearer." + credential);
    }

    static SocketClient connect(String url, String... subprotocols) {
        SocketClient client = new SocketClient();
        WebSocket.Builder builder = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10));
        if (subprotocols.length > 0) {
            builder.subprotocols(subprotocols[0], java.util.Arrays.copyOfRange(subprotocols, 1, subprotocols.length));
        }
        client.socket = builder.buildAsync(URI.create(url), client).orTimeout(15, TimeUnit.SECONDS).join();
        return client;
    }

    /** The HTTP status a refused handshake got. */
    static int refusedStatus(String url, String... subprotocols) {
        try {
            connect(url, subprotocols).close();
        } catch (CompletionException e) {
            if (e.getCause() instanceof WebSocketHandshakeException refused) {
                return refused.getResponse().statusCode();
            }
            throw e;
        }
        throw new AssertionError("the handshake to " + url + " was accepted");
    }

    String subprotocol() {
        return socket.getSubprotocol();
    }

    /** The first message (from now on, in order) that matches, or an AssertionError after the timeout. */
    JsonObject await(Predicate<JsonObject> wanted, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                JsonObject message = left <= 0 ? null : messages.poll(left, TimeUnit.NANOSECONDS);
                if (message == null) {
                    throw new AssertionError("no message " + what + " within " + timeout);
                }
                if (wanted.test(message)) {
                    return message;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            JsonObject message = new JsonObject(partial.toString());
            received.add(message);
            messages.add(message);
            partial.setLength(0);
        }
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        closeCode.complete(statusCode);
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        closeCode.completeExceptionally(error);
    }

    @Override
    public void close() {
        if (!socket.isOutputClosed()) {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "done");
        }
    }
}
