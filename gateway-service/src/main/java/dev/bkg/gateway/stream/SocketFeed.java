package dev.bkg.gateway.stream;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Metrics;
import io.quarkus.websockets.next.CloseReason;
import io.quarkus.websockets.next.UserData;
import io.quarkus.websockets.next.WebSocketConnection;

/**
 * A {@link Fanout} listener writing to one WebSocket as JSON text messages, each with a "type".
 * A slow socket cannot hold up the others or grow the gateway's memory: past
 * {@code maxPending} unwritten messages its items are dropped and counted, and once it catches
 * up it gets {@code {"type":"skipped","count":N}} before anything else. Backend trouble reaches it as
 * {@code {"type":"upstream","state":"reconnecting"|"live"}}; a terminal status closes it with a
 * close code (4404 unknown id, 4400 bad request, 1011 otherwise).
 */
public final class SocketFeed<T> implements Fanout.Listener<T> {

    /** Times as ISO-8601 text, as the REST API writes them. */
    private static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules()
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
    /** Messages dropped for slow readers, all sockets together (Prometheus bkg_ws_skipped_messages_total). */
    private static final Counter SKIPPED = Counter.builder("bkg.ws.skipped.messages")
            .description("Messages dropped for WebSocket readers too slow to take them").register(Metrics.globalRegistry);
    private static final UserData.TypedKey<Runnable> LEAVE = new UserData.TypedKey<>("bkg.feed.leave");

    /**
     * How one socket family writes an item: its view as JSON plus {@code "type"}. Declare one per
     * family (a constant): a batch is encoded once for all the sockets that share it.
     */
    public static final class Messages<T> implements Function<List<T>, List<String>> {
        private final String type;
        private final Function<T, Object> view;

        private Messages(String type, Function<T, Object> view) {
            this.type = type;
            this.view = view;
        }

        /** The batch's items as JSON messages, one per item. */
        @Override
        public List<String> apply(List<T> items) {
            List<String> texts = new ArrayList<>(items.size());
            for (T item : items) {
                texts.add(typed(type, view.apply(item)));
            }
            return texts;
        }

        /** The whole batch as one message {@code {"type":"batch","messages":[...]}}, for sockets opened with ?batch=true. */
        private final Function<List<T>, String> asOneMessage = this::oneMessage;

        private String oneMessage(List<T> items) {
            StringBuilder text = new StringBuilder(items.size() * 200).append("{\"type\":\"batch\",\"messages\":[");
            for (T item : items) {
                text.append(typed(type, view.apply(item))).append(',');
            }
            text.setLength(text.length() - 1);
            return text.append("]}").toString();
        }
    }

    public static <T> Messages<T> messages(String type, Function<T, Object> view) {
        return new Messages<>(type, view);
    }

    private final WebSocketConnection socket;
    private final Messages<T> messages;
    private final boolean oneMessagePerBatch;
    private final int maxPending;
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicLong skipped = new AtomicLong();

    private SocketFeed(WebSocketConnection socket, Messages<T> messages, boolean oneMessagePerBatch, int maxPending) {
        this.socket = socket;
        this.messages = messages;
        this.oneMessagePerBatch = oneMessagePerBatch;
        this.maxPending = maxPending;
    }

    /**
     * Feeds {@code socket} from {@code key} of {@code fanout} until the socket closes ({@link #stop}).
     * A socket opened with {@code ?batch=true} gets the items that arrive together as one message
     * {@code {"type":"batch","messages":[...]}}: far fewer frames for a busy stream (the dashboard
     * does this); otherwise one message per item.
     */
    public static <K, T> void start(WebSocketConnection socket, Fanout<K, T> fanout, K key,
            Predicate<T> replayed, Messages<T> messages, int maxPending) {
        boolean batched;
        try {
            batched = SocketLimits.queryFlag(socket, "batch");
        } catch (IllegalArgumentException e) {
            SocketLimits.reject(socket, e.getMessage());
            return;
        }
        SocketFeed<T> feed = new SocketFeed<>(socket, messages, batched, maxPending);
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
    public void items(Fanout.Batch<T> batch) {
        if (oneMessagePerBatch) {
            if (pending.get() >= maxPending) {
                skip(batch.items().size());
            } else {
                writeSkippedNotice();
                write(batch.shared(messages.asOneMessage));
            }
            return;
        }
        for (String text : batch.shared(messages)) {
            if (pending.get() >= maxPending) {
                skip(1);
                continue;
            }
            writeSkippedNotice();
            write(text);
        }
    }

    private void skip(int items) {
        skipped.addAndGet(items);
        SKIPPED.increment(items);
    }

    private void writeSkippedNotice() {
        long lost = skipped.getAndSet(0);
        if (lost > 0) {
            write(message("skipped", Map.of("count", lost)));
        }
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

    /** No isOpen() check: it takes the connection's lock on every line; a closed socket's write just fails. */
    private void write(String text) {
        pending.incrementAndGet();
        socket.sendText(text).subscribe().with(v -> written(), e -> pending.decrementAndGet());
    }

    /** A reader that has caught up hears what it missed at once, not only with the next item (a quiet stream has none). */
    private void written() {
        if (pending.decrementAndGet() == 0 && skipped.get() > 0) {
            writeSkippedNotice();
        }
    }
}
