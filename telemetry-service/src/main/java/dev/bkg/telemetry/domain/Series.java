package dev.bkg.telemetry.domain;

import java.util.Map;

/**
 * One metric of one source with one set of labels, kept at every configured resolution (e.g. 1 s
 * for 15 min and 1 min for 24 h). Names ending in {@code _total} are counters (queried as rates).
 */
final class Series {

    final String source;
    final String metric;
    final Map<String, String> labels;
    final boolean counter;
    final Ring[] rings;
    private long lastEpochMs;
    private double lastValue;

    Series(String source, String metric, Map<String, String> labels, Ring[] rings) {
        this.source = source;
        this.metric = metric;
        this.labels = labels;
        this.counter = metric.endsWith("_total");
        this.rings = rings;
    }

    synchronized void add(long epochMs, double value) {
        for (Ring ring : rings) {
            ring.add(epochMs, value);
        }
        if (epochMs >= lastEpochMs) {
            lastEpochMs = epochMs;
            lastValue = value;
        }
    }

    synchronized long lastEpochMs() {
        return lastEpochMs;
    }

    synchronized double lastValue() {
        return lastValue;
    }

    synchronized void forEach(Ring ring, long fromMs, long toMs, Ring.SlotVisitor visitor) {
        ring.forEach(fromMs, toMs, visitor);
    }

    boolean matches(Map<String, String> wanted) {
        return wanted.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
    }
}
