package dev.bkg.gateway.stream;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.grpc.Status;
import io.quarkus.websockets.next.CloseReason;
import io.quarkus.websockets.next.UserData;
import io.quarkus.websockets.next.WebSocketConnection;

/**
 * A {@link Fanout} listener writing to one WebSocket as JSON text messages, each with a "type".
 * A slow socket cannot hold up the others or grow the gateway's memory: past
 * {@code maxPending} unwritten messages its items are dropped and counted, and once it catches
 * up it first gets {@code {"type":"skipped","count":N}}. Backend trouble reaches it as
 * {@code {"type":"upstream","state":"reconnecting"|"live"}}; a terminal status closes it with a
 * close code (4404 unknown id, 4400 bad request, 1011 otherwise).
 */
public final class SocketFeed<T> implements Fanout.Listener<T> {

    /** Times as ISO-8601 text, as the REST API writes them. */
    private static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules()
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
    private static final UserData.TypedKey<Runnable> LEAVE = new UserData.TypedKey<>("bkg.feed.leave");

    private final WebSocketConnection socket;
    private final String type;
    private final Function<T, Object> view;
    private final int maxPending;
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicLong skipped = new AtomicLong();

    private SocketFeed(WebSocketConnection socket, String type, Function<T, Object> view, int maxPending) {
        this.socket = socket;
        this.type = type;
        this.view = view;
        this.maxPending = maxPending;
    }

    /** Feeds {@code socket} from {@code key} of {@code fanout} until the socket closes ({@link #stop}). */
    public static <K, T> void start(WebSocketConnection socket, Fanout<K, T> fanout, K key,
            Predicate<T> replayed, String type, Function<T, Object> view, int maxPending) {
        SocketFeed<T> feed = new SocketFeed<>(socket, type, view, maxPending);
        socket.userData().put(LEAVE, fanout.join(key, replayed, feed));
    }

    /** Called when the socket closes: leaves the fan-out (the last listener closes the backend stream). */
    public static void stop(WebSocketConnection socket) {
        Runnable leave = socket.userData().remove(LEAVE);
        if (leave != null) {
            leave.run();
        }
    }

    @Override
    public void item(T item) {
        if (pending.get() >= maxPending) {
            skipped.incrementAndGet();
            return;
        }
        long lost = skipped.getAndSet(0);
        if (lost > 0) {
            write(message("skipped", Map.of("count", lost)));
        }
        write(typed(type, view.apply(item)));
    }

    @Override
    public void upstream(boolean live) {
        write(message("upstream", Map.of("state", live ? "live" : "reconnecting")));
    }

    @Override
    public void end(Status status) {
        int code = switch (status.getCode()) {
            case NOT_FOUND -> 4404;
            case INVALID_ARGUMENT -> 4400;
            case PERMISSION_DENIED -> 4403;
            default -> 1011;
        };
        String reason = status.getDescription() == null ? status.getCode().name() : status.getDescription();
        // a close reason is at most 123 bytes
        socket.close(new CloseReason(code, reason.length() > 120 ? reason.substring(0, 120) : reason))
                .subscribe().with(v -> { }, e -> { });
    }

    /** A view as the JSON text message every socket sends: its fields plus {@code "type"}. */
    public static String typed(String type, Object view) {
        ObjectNode message = JSON.valueToTree(view);
        message.put("type", type);
        return message.toString();
    }

    private static String message(String type, Map<String, Object> fields) {
        ObjectNode message = JSON.valueToTree(fields);
        message.put("type", type);
        return message.toString();
    }

    private void write(String text) {
        if (!socket.isOpen()) {
            return;
        }
        pending.incrementAndGet();
        socket.sendText(text).subscribe().with(v -> pending.decrementAndGet(), e -> pending.decrementAndGet());
    }
}
