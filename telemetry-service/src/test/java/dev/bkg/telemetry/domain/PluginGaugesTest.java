package dev.bkg.telemetry.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.bkg.proto.telemetry.v1.Sample;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** Gauges of plugins that stopped reporting long ago are removed: any name reported once no longer stays forever. */
class PluginGaugesTest {

    static final long T0 = 1_800_000_000_000L;

    static Sample sample(String plugin, String metric, double value) {
        return Sample.newBuilder().setSource(plugin).setKind("plugin").setMetric(metric).setValue(value).build();
    }

    @Test
    void longSilentPluginsLoseTheirGauges() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        TelemetrySettings settings = new TelemetrySettings() {
            public Duration fineStep() { return Duration.ofSeconds(1); }
            public Duration fineWindow() { return Duration.ofMinutes(15); }
            public Duration coarseStep() { return Duration.ofMinutes(1); }
            public Duration coarseWindow() { return Duration.ofHours(24); }
            public int maxSeries() { return 100; }
            public Duration downAfter() { return Duration.ofSeconds(10); }
        };
        PluginGauges gauges = new PluginGauges(registry, settings);
        for (int i = 0; i < 1000; i++) {
            gauges.update(sample("one-off-" + i, "rss_bytes", i), T0);
        }
        gauges.update(sample("kept", "rss_bytes", 5), T0 + Duration.ofHours(23).toMillis());
        assertEquals(1001, gauges.plugins());
        gauges.update(sample("new", "cpu_percent", 1), T0 + Duration.ofHours(25).toMillis());
        assertEquals(2, gauges.plugins(), "only the plugins heard from within the window keep gauges");
        assertNull(registry.find("bkg.plugin.rss.bytes").tag("plugin", "one-off-7").gauge());
        assertNotNull(registry.find("bkg.plugin.rss.bytes").tag("plugin", "kept").gauge());
        assertEquals(5, registry.find("bkg.plugin.rss.bytes").tag("plugin", "kept").gauge().value());
    }
}
