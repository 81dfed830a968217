package dev.bkg.telemetry.domain;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;

import dev.bkg.proto.telemetry.v1.Sample;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The per-plugin process figures the plugin manager reports, exported on this service's
 * /q/metrics as {@code bkg_plugin_<figure>{plugin="<id>"}} (cpu_percent, rss_bytes, threads,
 * open_files, processes, uptime_seconds, restarts, up), so Prometheus sees every plugin without
 * scraping plugins that speak no Prometheus. A plugin that stopped reporting shows up=0.
 */
@ApplicationScoped
public class PluginGauges {

    public static final Set<String> FIGURES = Set.of("cpu_percent", "rss_bytes", "threads", "open_files", "processes",
            "uptime_seconds", "restarts", "up");

    private final MeterRegistry registry;
    private final Map<String, double[]> values = new ConcurrentHashMap<>();
    private final Map<String, Long> lastSeen = new ConcurrentHashMap<>();
    private final long downAfterMs;

    PluginGauges(MeterRegistry registry, TelemetrySettings settings) {
        this.registry = registry;
        this.downAfterMs = settings.downAfter().toMillis();
    }

    void update(Sample sample, long nowMs) {
        if (!"plugin".equals(sample.getKind()) || !FIGURES.contains(sample.getMetric()) || sample.getLabelsCount() > 0) {
            return;
        }
        lastSeen.put(sample.getSource(), nowMs);
        double[] holder = values.computeIfAbsent(sample.getSource() + "\n" + sample.getMetric(), k -> {
            double[] value = { 0 };
            String plugin = sample.getSource();
            String name = "bkg.plugin." + sample.getMetric().replace('_', '.');
            if (sample.getMetric().equals("up")) {
                Gauge.builder(name, value, v -> recent(plugin) ? v[0] : 0).tag("plugin", plugin)
                        .description("1 while the plugin runs and is reported").register(registry);
            } else {
                Gauge.builder(name, value, v -> v[0]).tag("plugin", plugin)
                        .description("plugin process figure " + sample.getMetric() + " (process group)").register(registry);
            }
            return value;
        });
        holder[0] = sample.getValue();
    }

    private boolean recent(String plugin) {
        Long seen = lastSeen.get(plugin);
        return seen != null && System.currentTimeMillis() - seen <= downAfterMs;
    }
}
