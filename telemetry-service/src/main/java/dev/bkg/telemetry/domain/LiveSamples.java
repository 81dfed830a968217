package dev.bkg.telemetry.domain;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

import jakarta.enterprise.context.ApplicationScoped;

import dev.bkg.proto.telemetry.v1.Sample;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.subscription.BackPressureStrategy;
import io.smallrye.mutiny.subscription.MultiEmitter;

/**
 * Samples as they arrive, to every live subscriber whose filter takes them. A subscriber that
 * cannot keep up loses samples (dropped, never buffered without bound): live figures are only
 * worth their latest value, and the series hold the rest.
 */
@ApplicationScoped
public class LiveSamples {

    private record Subscriber(Predicate<Sample> filter, MultiEmitter<? super Sample> emitter) {
    }

    private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();

    /** Samples of {@code source} (empty: every source) and of {@code metrics} (empty: every metric). */
    public Multi<Sample> follow(String source, Set<String> metrics) {
        Predicate<Sample> filter = s -> (source.isEmpty() || s.getSource().equals(source))
                && (metrics.isEmpty() || metrics.contains(s.getMetric()));
        return Multi.createFrom().emitter(emitter -> {
            Subscriber subscriber = new Subscriber(filter, emitter);
            subscribers.add(subscriber);
            emitter.onTermination(() -> subscribers.remove(subscriber));
        }, BackPressureStrategy.DROP);
    }

    public void publish(Sample sample) {
        for (Subscriber s : subscribers) {
            if (s.filter.test(sample)) {
                s.emitter.emit(sample);
            }
        }
    }

    public int subscribers() {
        return subscribers.size();
    }
}
