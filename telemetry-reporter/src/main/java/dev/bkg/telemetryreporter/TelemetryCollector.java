package dev.bkg.telemetryreporter;

import java.util.List;

import dev.bkg.proto.telemetry.v1.Sample;

/**
 * A source of samples the {@link TelemetryReporter} asks once per report interval (a CDI bean: the
 * reporter finds every one). Runs on the reporter's own thread; must be quick and must not block.
 */
public interface TelemetryCollector {

    void collect(long nowEpochMs, List<Sample> out);

    static Sample sample(String source, String kind, String metric, double value, long nowEpochMs) {
        return Sample.newBuilder().setSource(source).setKind(kind).setMetric(metric).setValue(value)
                .setTimestampEpochMs(nowEpochMs).build();
    }
}
