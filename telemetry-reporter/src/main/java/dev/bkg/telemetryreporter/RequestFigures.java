package dev.bkg.telemetryreporter;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ObjDoubleConsumer;

import jakarta.enterprise.context.ApplicationScoped;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;

/**
 * Requests per second, error rate and latency percentiles of this service over the last report
 * interval, from the HTTP and gRPC server timers Quarkus keeps (their bucket histograms are turned
 * on by {@link MeshMetrics}). Error = a 5xx HTTP status or a gRPC status that means the server
 * failed. Percentiles interpolate inside the histogram buckets, as Prometheus's histogram_quantile.
 */
@ApplicationScoped
public class RequestFigures {

    static final String HTTP = "http.server.requests";
    static final String GRPC = "grpc.server.processing.duration";
    /** gRPC statuses that are the server's fault (the rest are the caller's). */
    static final java.util.Set<String> GRPC_SERVER_FAULTS = java.util.Set.of("UNKNOWN", "INTERNAL", "UNAVAILABLE",
            "DATA_LOSS", "UNIMPLEMENTED", "DEADLINE_EXCEEDED");

    private final MeterRegistry registry;
    /** Per timer: its cumulative count and bucket counts at the previous reading. */
    private final Map<Timer, Reading> previous = new HashMap<>();
    private long previousNanos = -1;

    RequestFigures(MeterRegistry registry) {
        this.registry = registry;
    }

    private record Reading(long count, TreeMap<Double, Double> buckets) {
    }

    /** Emits requests_per_second, error_rate, and latency_p50_ms/p95/p99 when there were requests. */
    synchronized void collect(long nowMs, ObjDoubleConsumer<String> out) {
        long now = System.nanoTime();
        long requests = 0;
        long errors = 0;
        TreeMap<Double, Double> buckets = new TreeMap<>(); // upper bound in ms → requests at or under it, this interval
        for (String name : new String[] { HTTP, GRPC }) {
            for (Timer timer : registry.find(name).timers()) {
                long count = timer.count();
                TreeMap<Double, Double> cumulative = new TreeMap<>();
                for (CountAtBucket bucket : timer.takeSnapshot().histogramCounts()) {
                    cumulative.put(bucket.bucket(TimeUnit.MILLISECONDS), bucket.count());
                }
                Reading before = previous.put(timer, new Reading(count, cumulative));
                long delta = count - (before == null ? 0 : before.count);
                if (delta <= 0) {
                    continue;
                }
                requests += delta;
                if (isError(timer)) {
                    errors += delta;
                }
                cumulative.forEach((bound, c) -> buckets.merge(bound,
                        c - (before == null ? 0 : before.buckets.getOrDefault(bound, 0.0)), Double::sum));
            }
        }
        double seconds = previousNanos < 0 ? 0 : (now - previousNanos) / 1e9;
        previousNanos = now;
        if (seconds <= 0) {
            return; // the first reading only sets the baseline
        }
        out.accept("requests_per_second", requests / seconds);
        out.accept("error_rate", requests == 0 ? 0 : errors / (double) requests);
        if (requests > 0 && !buckets.isEmpty()) {
            out.accept("latency_p50_ms", quantile(0.50, buckets, requests));
            out.accept("latency_p95_ms", quantile(0.95, buckets, requests));
            out.accept("latency_p99_ms", quantile(0.99, buckets, requests));
        }
    }

    private static boolean isError(Timer timer) {
        String status = timer.getId().getTag("status");
        if (status != null) {
            return status.startsWith("5");
        }
        String code = timer.getId().getTag("statusCode");
        return code != null && GRPC_SERVER_FAULTS.contains(code);
    }

    /**
     * The q-quantile from cumulative bucket counts (bound → requests at or under it): linear inside
     * the bucket holding the rank; past the last bound, the last bound.
     */
    static double quantile(double q, TreeMap<Double, Double> cumulative, long total) {
        double rank = q * total;
        double lowerBound = 0;
        double lowerCount = 0;
        for (Map.Entry<Double, Double> bucket : cumulative.entrySet()) {
            if (bucket.getValue() >= rank) {
                double inBucket = bucket.getValue() - lowerCount;
                return inBucket <= 0 ? bucket.getKey()
                        : lowerBound + (bucket.getKey() - lowerBound) * (rank - lowerCount) / inBucket;
            }
            lowerBound = bucket.getKey();
            lowerCount = bucket.getValue();
        }
        return lowerBound;
    }
}
