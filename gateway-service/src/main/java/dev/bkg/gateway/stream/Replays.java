package dev.bkg.gateway.stream;

import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** The two ways a {@link Fanout} topic remembers items for late joiners. */
public final class Replays {

    private Replays() {
    }

    /** The last {@code capacity} items (log lines). */
    public static <T> Fanout.Replay<T> recent(int capacity) {
        ArrayDeque<T> items = new ArrayDeque<>(capacity);
        return new Fanout.Replay<>() {
            @Override
            public void add(T item) {
                if (items.size() == capacity) {
                    items.removeFirst();
                }
                items.addLast(item);
            }

            @Override
            public List<T> items() {
                return List.copyOf(items);
            }
        };
    }

    /** The latest item per key (a status per plugin). */
    public static <T> Fanout.Replay<T> latestBy(Function<T, String> key) {
        Map<String, T> latest = new LinkedHashMap<>();
        return new Fanout.Replay<>() {
            @Override
            public void add(T item) {
                latest.put(key.apply(item), item);
            }

            @Override
            public List<T> items() {
                return List.copyOf(latest.values());
            }
        };
    }
}
