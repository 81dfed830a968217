package dev.bkg.gateway.stream;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import io.grpc.Status;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.smallrye.mutiny.subscription.Cancellable;

/**
 * One backend stream per key (a plugin's logs, a plugin's status, ...) shared by every listener of
 * that key in this gateway: the first listener opens the gRPC stream, the last one to leave closes
 * it. A new listener first gets what the {@link Replay} kept, then the live items. When the backend
 * stream fails or ends it is reopened with backoff (0.5 s doubling to 10 s), resuming after what
 * the replay holds, and listeners are told "reconnecting" then "live"; a status in
 * {@code terminal} (e.g. NOT_FOUND: no such plugin) ends the key's listeners instead.
 * <p>
 * Items reach listeners in batches, from one delivery thread, never from the backend stream's
 * event loop: items that arrive within {@link #LINGER} (or while the previous batch is being handed
 * out) go together, so a thousand sockets cost one encoding per item ({@link Batch#shared}) and,
 * as Vert.x flushes a connection once per burst of writes from another thread, one flush per
 * socket per batch rather than per item.
 */
public final class Fanout<K, T> {

    private static final Logger LOG = Logger.getLogger(Fanout.class);
    private static final Duration FIRST_RETRY = Duration.ofMillis(500);
    private static final Duration MAX_RETRY = Duration.ofSeconds(10);
    /** A reopened stream that has not failed for this long counts as live (a quiet stream sends nothing). */
    private static final Duration LIVE_AFTER = Duration.ofSeconds(1);
    /** How long a first item waits for others to share its batch: a latency a person never sees. */
    static final Duration LINGER = Duration.ofMillis(10);
    /** Hands batches to listeners for every fan-out of this gateway: one thread keeps each key's order. */
    private static final ScheduledExecutorService DELIVERY = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "bkg-fanout");
        thread.setDaemon(true);
        return thread;
    });

    /** What a listener is told; called on the delivery and backend threads, so it must not block. */
    public interface Listener<T> {
        void items(Batch<T> batch);

        void upstream(boolean live);

        void end(Status status);
    }

    /** Items handed to every listener of a key at once, with what listeners derive from them, computed once. */
    public static final class Batch<T> {
        private final List<T> items;
        private final Map<Function<List<T>, ?>, Object> shared = new ConcurrentHashMap<>(2);

        Batch(List<T> items) {
            this.items = items;
        }

        public List<T> items() {
            return items;
        }

        /** {@code derive(items)}, computed by the first listener that asks and shared by the others. */
        @SuppressWarnings("unchecked")
        public <R> R shared(Function<List<T>, R> derive) {
            return (R) shared.computeIfAbsent(derive, d -> derive.apply(items));
        }
    }

    /** What a topic keeps for listeners that join later. Guarded by its topic. */
    public interface Replay<T> {
        void add(T item);

        List<T> items();
    }

    private final String name;
    private final BiFunction<K, List<T>, Multi<T>> open;
    private final Supplier<Replay<T>> replays;
    private final Predicate<Status> terminal;
    private final ScheduledExecutorService timer = Infrastructure.getDefaultWorkerPool();
    private final Map<K, Topic> topics = new HashMap<>();

    /**
     * {@code open} gives the backend stream for a key, given what the replay already holds (empty
     * on the first open; a reopen resumes after it).
     */
    public Fanout(String name, BiFunction<K, List<T>, Multi<T>> open, Supplier<Replay<T>> replays,
            Predicate<Status> terminal) {
        this.name = name;
        this.open = open;
        this.replays = replays;
        this.terminal = terminal;
    }

    /**
     * Adds a listener to {@code key}; it first gets the replayed items {@code replayed} accepts.
     * The returned action removes it (idempotent).
     */
    public Runnable join(K key, Predicate<T> replayed, Listener<T> listener) {
        Topic topic;
        synchronized (topics) {
            topic = topics.computeIfAbsent(key, Topic::new);
            topic.add(listener, replayed);
        }
        return () -> leave(topic, listener);
    }

    /** Open backend streams (one per key with listeners). */
    public int openStreams() {
        synchronized (topics) {
            return topics.size();
        }
    }

    private void leave(Topic topic, Listener<T> listener) {
        synchronized (topics) {
            if (topic.listeners.remove(listener) && topic.listeners.isEmpty()) {
                topics.remove(topic.key, topic);
                topic.close();
            }
        }
    }

    private void end(Topic topic, Status status) {
        synchronized (topics) {
            topics.remove(topic.key, topic);
        }
        topic.close();
        topic.listeners.forEach(l -> l.end(status));
    }

    private final class Topic {
        final K key;
        final Replay<T> replay = replays.get();
        final Set<Listener<T>> listeners = new CopyOnWriteArraySet<>();
        /** Items not yet handed out; they join the replay when they are, so a joiner gets each once. */
        private final List<T> undelivered = new ArrayList<>();
        private boolean deliveryScheduled;
        private Cancellable stream;
        private boolean closed;
        private boolean live = true;
        private long generation;
        private int failures;

        Topic(K key) {
            this.key = key;
        }

        synchronized void add(Listener<T> listener, Predicate<T> replayed) {
            List<T> missed = replay.items().stream().filter(replayed).toList();
            if (!missed.isEmpty()) {
                listener.items(new Batch<>(missed));
            }
            if (!live) {
                listener.upstream(false);
            }
            listeners.add(listener);
            if (stream == null && !closed) {
                subscribe();
            }
        }

        synchronized void close() {
            closed = true;
            if (stream != null) {
                stream.cancel();
                stream = null;
            }
        }

        private synchronized void subscribe() {
            if (closed) {
                return;
            }
            long current = ++generation;
            List<T> seen = new ArrayList<>(replay.items());
            seen.addAll(undelivered);
            stream = open.apply(key, seen).subscribe().with(
                    item -> onItem(current, item),
                    failure -> onBroken(current, Status.fromThrowable(failure)),
                    () -> onBroken(current, Status.UNAVAILABLE.withDescription("the stream ended")));
            if (!live) {
                timer.schedule(() -> markLive(current), LIVE_AFTER.toMillis(), TimeUnit.MILLISECONDS);
            }
        }

        private synchronized void onItem(long gen, T item) {
            if (gen != generation || closed) {
                return;
            }
            markLive(gen);
            undelivered.add(item);
            if (!deliveryScheduled) {
                deliveryScheduled = true;
                DELIVERY.schedule(this::deliver, LINGER.toMillis(), TimeUnit.MILLISECONDS);
            }
        }

        /** On the delivery thread; a listener that joins meanwhile gets these items from the replay instead. */
        private void deliver() {
            Batch<T> batch;
            List<Listener<T>> to;
            synchronized (this) {
                deliveryScheduled = false;
                if (undelivered.isEmpty() || closed) {
                    undelivered.clear();
                    return;
                }
                batch = new Batch<>(List.copyOf(undelivered));
                undelivered.clear();
                batch.items().forEach(replay::add);
                to = List.copyOf(listeners);
            }
            for (Listener<T> listener : to) {
                try {
                    listener.items(batch);
                } catch (RuntimeException e) {
                    LOG.warnf(e, "%s listener of %s failed", name, key);
                }
            }
        }

        private synchronized void markLive(long gen) {
            if (gen == generation && !closed && !live) {
                live = true;
                failures = 0;
                LOG.infof("%s stream for %s is live again", name, key);
                listeners.forEach(l -> l.upstream(true));
            }
        }

        private void onBroken(long gen, Status status) {
            synchronized (this) {
                if (gen != generation || closed) {
                    return;
                }
                stream = null;
                generation++; // a pending "live" timer of the broken stream must not fire
                if (!terminal.test(status)) {
                    long delay = Math.min(MAX_RETRY.toMillis(), FIRST_RETRY.toMillis() << Math.min(failures++, 10));
                    if (live) {
                        live = false;
                        LOG.infof("%s stream for %s broke (%s); reopening with backoff", name, key, status.getCode());
                        listeners.forEach(l -> l.upstream(false));
                    }
                    timer.schedule(this::subscribe, delay, TimeUnit.MILLISECONDS);
                    return;
                }
            }
            end(this, status);
        }
    }
}
