package dev.bkg.telemetry.domain;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;

import dev.bkg.proto.telemetry.v1.Aggregation;
import dev.bkg.proto.telemetry.v1.Sample;

/**
 * Every series this service keeps, in fixed memory: each series is a {@link Ring} per resolution
 * (by default 1 s × 900 = 15 min and 1 min × 1440 = 24 h), and the number of series is capped
 * (bkg.telemetry.store.max-series), so memory is set by configuration, not by traffic. Queries aggregate
 * the finest ring that still covers the range into the requested steps.
 */
public final class SeriesStore {

    static final Pattern SOURCE = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    static final Pattern METRIC = Pattern.compile("[a-z_][a-z0-9_]{0,79}");
    static final Pattern LABEL = Pattern.compile("[a-z_][a-z0-9_]{0,39}");
    static final int MAX_LABELS = 8;
    static final int MAX_LABEL_VALUE = 128;
    static final long MAX_FUTURE_MS = Duration.ofMinutes(1).toMillis();
    /** At most this many points in one answer. */
    public static final int MAX_POINTS = 2000;
    /** Without a step, a range is cut into about this many. */
    static final int DEFAULT_POINTS = 300;

    public record Resolution(Duration step, Duration window) {
        int slots() {
            return (int) (window.toMillis() / step.toMillis());
        }
    }

    public record Point(long startMs, double value, double min, double max, long count) {
    }

    public record Result(String source, String metric, long stepMs, Aggregation aggregation, List<Point> points) {
    }

    public record SourceInfo(String source, String kind, long lastSeenMs) {
    }

    private record Key(String source, String metric, Map<String, String> labels) {
    }

    private final List<Resolution> resolutions;
    private final int maxSeries;
    private final Map<Key, Series> series = new ConcurrentHashMap<>();
    private final Map<String, SourceInfo> sources = new ConcurrentHashMap<>();
    private final LongAdder ingested = new LongAdder();
    private final LongAdder rejected = new LongAdder();

    /** {@code resolutions} finest first; each window a multiple of its step. */
    public SeriesStore(List<Resolution> resolutions, int maxSeries) {
        this.resolutions = resolutions.stream().sorted(Comparator.comparing(Resolution::step)).toList();
        this.maxSeries = maxSeries;
    }

    /** Bytes one series holds (all its rings), whatever its traffic. */
    public long bytesPerSeries() {
        return resolutions.stream().mapToLong(r -> (long) r.slots() * Ring.BYTES_PER_SLOT).sum();
    }

    public int seriesCount() {
        return series.size();
    }

    public long ingested() {
        return ingested.sum();
    }

    public long rejected() {
        return rejected.sum();
    }

    public Duration oldest() {
        return resolutions.get(resolutions.size() - 1).window();
    }

    /**
     * Stores one sample (a timestamp of 0 means now). Returns why it was refused, or null: bad
     * names, too many labels, a non-finite value, a time too far ahead, or the series cap reached.
     */
    public String add(Sample sample, long nowMs) {
        String refused = refusal(sample, nowMs);
        if (refused != null) {
            rejected.increment();
            return refused;
        }
        long at = sample.getTimestampEpochMs() == 0 ? nowMs : sample.getTimestampEpochMs();
        Key key = new Key(sample.getSource(), sample.getMetric(), Map.copyOf(sample.getLabelsMap()));
        Series target = series.get(key);
        if (target == null) {
            if (series.size() >= maxSeries && evictQuiet(nowMs) == 0) {
                rejected.increment();
                return "series limit reached (bkg.telemetry.store.max-series=" + maxSeries + ")";
            }
            target = series.computeIfAbsent(key, k -> new Series(k.source, k.metric, k.labels, rings()));
        }
        target.add(at, sample.getValue());
        String kind = sample.getKind().isEmpty() ? "service" : sample.getKind();
        sources.merge(sample.getSource(), new SourceInfo(sample.getSource(), kind, at),
                (a, b) -> new SourceInfo(a.source(), b.kind(), Math.max(a.lastSeenMs(), b.lastSeenMs())));
        ingested.increment();
        return null;
    }

    private static String refusal(Sample s, long nowMs) {
        if (!SOURCE.matcher(s.getSource()).matches()) {
            return "source must match " + SOURCE.pattern();
        }
        if (!METRIC.matcher(s.getMetric()).matches()) {
            return "metric must match " + METRIC.pattern();
        }
        if (!Double.isFinite(s.getValue())) {
            return "value must be a finite number";
        }
        if (s.getTimestampEpochMs() < 0 || s.getTimestampEpochMs() > nowMs + MAX_FUTURE_MS) {
            return "timestamp is negative or more than a minute ahead";
        }
        if (s.getLabelsCount() > MAX_LABELS) {
            return "at most " + MAX_LABELS + " labels";
        }
        for (Map.Entry<String, String> label : s.getLabelsMap().entrySet()) {
            if (!LABEL.matcher(label.getKey()).matches() || label.getValue().length() > MAX_LABEL_VALUE) {
                return "label names must match " + LABEL.pattern() + ", values at most " + MAX_LABEL_VALUE + " chars";
            }
        }
        return null;
    }

    private Ring[] rings() {
        return resolutions.stream().map(r -> new Ring(r.step().toMillis(), r.slots())).toArray(Ring[]::new);
    }

    /**
     * Frees the series that received nothing for the longest window (their data has aged out), and
     * forgets the sources left without a series, so the source list stays as bounded as the series.
     */
    private synchronized int evictQuiet(long nowMs) {
        long cutoff = nowMs - oldest().toMillis();
        int before = series.size();
        series.values().removeIf(s -> s.lastEpochMs() < cutoff);
        java.util.Set<String> live = new java.util.HashSet<>();
        series.keySet().forEach(key -> live.add(key.source));
        sources.keySet().retainAll(live);
        return before - series.size();
    }

    public List<SourceInfo> sources() {
        return sources.values().stream().sorted(Comparator.comparing(SourceInfo::source)).toList();
    }

    public boolean knows(String source) {
        return sources.containsKey(source);
    }

    /** The unlabelled series' latest values of one source (or of every source: null), by source then metric. */
    public Map<String, Map<String, Double>> latest(String onlySource) {
        Map<String, Map<String, Double>> latest = new TreeMap<>();
        for (Series s : series.values()) {
            if ((onlySource == null || s.source.equals(onlySource)) && s.labels.isEmpty()) {
                latest.computeIfAbsent(s.source, k -> new TreeMap<>()).put(s.metric, s.lastValue());
            }
        }
        return latest;
    }

    public record Latest(String source, String metric, Map<String, String> labels, double value, long epochMs) {
    }

    /** Every series' latest value and time, optionally of one source only, by source then metric. */
    public List<Latest> list(String onlySource) {
        return series.values().stream().filter(s -> onlySource == null || s.source.equals(onlySource))
                .map(s -> new Latest(s.source, s.metric, s.labels, s.lastValue(), s.lastEpochMs()))
                .sorted(Comparator.comparing(Latest::source).thenComparing(Latest::metric)).toList();
    }

    /**
     * One metric of one source over [fromMs, toMs) in steps of {@code stepMs} (0: chosen), every series
     * whose labels include {@code labels} aggregated together.
     *
     * @throws NoSuchElementException unknown source or metric
     * @throws IllegalArgumentException a range or step outside the limits (the message names them)
     */
    public Result query(String source, String metric, Map<String, String> labels, long fromMs, long toMs, long stepMs,
            Aggregation aggregation, long nowMs) {
        if (!sources.containsKey(source)) {
            throw new NoSuchElementException("no telemetry from '" + source + "'");
        }
        List<Series> matching = series.values().stream()
                .filter(s -> s.source.equals(source) && s.metric.equals(metric) && s.matches(labels)).toList();
        if (matching.isEmpty()) {
            List<String> known = series.values().stream().filter(s -> s.source.equals(source)).map(s -> s.metric)
                    .distinct().sorted().toList();
            throw new NoSuchElementException("'" + source + "' has no metric '" + metric + "'"
                    + (labels.isEmpty() ? "" : " with labels " + labels) + "; it has " + known);
        }
        long to = toMs == 0 ? nowMs : toMs;
        if (fromMs >= to) {
            throw new IllegalArgumentException("from must be before to");
        }
        long oldestMs = nowMs - oldest().toMillis();
        if (fromMs < oldestMs - oldest().toMillis() / 100) {
            throw new IllegalArgumentException("from is older than the oldest data kept (" + oldest() + ")");
        }
        int ringIndex = ringFor(fromMs, nowMs);
        Resolution finest = resolutions.get(0);
        if (stepMs != 0 && stepMs < finest.step().toMillis()) {
            throw new IllegalArgumentException("step must be at least " + finest.step().toMillis() + " ms");
        }
        long resolution = resolutions.get(ringIndex).step().toMillis();
        long step = stepMs != 0 ? stepMs : Math.max(resolution, (to - fromMs) / DEFAULT_POINTS);
        step = Math.max(resolution, (step + resolution - 1) / resolution * resolution);
        if ((to - fromMs) / step > MAX_POINTS) {
            throw new IllegalArgumentException("at most " + MAX_POINTS + " points: with this range the step must be at least "
                    + ((to - fromMs + MAX_POINTS - 1) / MAX_POINTS) + " ms");
        }
        Aggregation agg = aggregation == Aggregation.AGGREGATION_UNSPECIFIED || aggregation == Aggregation.UNRECOGNIZED
                ? (matching.get(0).counter ? Aggregation.RATE : Aggregation.MEAN)
                : aggregation;
        return new Result(source, metric, step, agg, aggregate(matching, ringIndex, fromMs, to, step, agg));
    }

    /** The finest ring whose window still holds {@code fromMs}. */
    private int ringFor(long fromMs, long nowMs) {
        for (int i = 0; i < resolutions.size(); i++) {
            if (fromMs >= nowMs - resolutions.get(i).window().toMillis()) {
                return i;
            }
        }
        return resolutions.size() - 1;
    }

    private static final class Step {
        long count;
        double sum;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double last;
        double increase;
    }

    private static List<Point> aggregate(List<Series> matching, int ringIndex, long fromMs, long toMs, long step,
            Aggregation agg) {
        long first = Math.floorDiv(fromMs, step) * step;
        TreeMap<Long, Step> steps = new TreeMap<>();
        for (Series s : matching) {
            Ring ring = s.rings[ringIndex];
            // one step before the range too: a counter's first increase needs the value before it
            Map<Long, Double> lastOfStep = new HashMap<>();
            double[] previous = { Double.NaN };
            s.forEach(ring, first - step, toMs, (start, count, sum, min, max, last) -> {
                double increase = Double.isNaN(previous[0]) ? 0 : last >= previous[0] ? last - previous[0] : last;
                previous[0] = last;
                long at = Math.floorDiv(start, step) * step;
                if (at < first) {
                    return;
                }
                Step st = steps.computeIfAbsent(at, k -> new Step());
                st.count += count;
                st.sum += sum;
                st.min = Math.min(st.min, min);
                st.max = Math.max(st.max, max);
                st.increase += increase;
                lastOfStep.put(at, last);
            });
            lastOfStep.forEach((at, last) -> steps.get(at).last += last);
        }
        List<Point> points = new ArrayList<>(steps.size());
        steps.forEach((at, st) -> {
            double value = switch (agg) {
                case MIN -> st.min;
                case MAX -> st.max;
                case SUM -> st.sum;
                case LAST -> st.last;
                case COUNT -> st.count;
                case RATE -> st.increase / (step / 1000.0);
                default -> st.sum / st.count;
            };
            points.add(new Point(at, value, st.min, st.max, st.count));
        });
        return points;
    }
}
