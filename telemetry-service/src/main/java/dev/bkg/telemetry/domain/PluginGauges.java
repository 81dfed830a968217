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
    private final Map<String, Gauge> gauges = new ConcurrentHashMap<>();
    private final Map<String, Long> lastSeen = new ConcurrentHashMap<>();
    private final long downAfterMs;
    /** A plugin silent this long (the longest series window) loses its gauges: names reported once stay bounded. */
    private final long forgetAfterMs;

    PluginGauges(MeterRegistry registry, TelemetrySettings settings) {
        this.registry = registry;
        this.downAfterMs = settings.downAfter().toMillis();
        this.forgetAfterMs = settings.coarseWindow().toMillis();
    }

    void update(Sample sample, long nowMs) {
        if (!"plugin".equals(sample.getKind()) || !FIGURES.contains(sample.getMetric()) || sample.getLabelsCount() > 0) {
            return;
        }
        if (!lastSeen.containsKey(sample.getSource())) {
            forgetSilent(nowMs); // a new plugin name: the moment to drop the long-silent ones
        }
        lastSeen.put(sample.getSource(), nowMs);
        double[] holder = values.computeIfAbsent(sample.getSource() + "\n" + sample.getMetric(), key -> {
            double[] value = { 0 };
            String plugin = sample.getSource();
            String name = "bkg.plugin." + sample.getMetric().replace('_', '.');
            Gauge gauge;
            if (sample.getMetric().equals("up")) {
                gauge = Gauge.builder(name, value, v -> recent(plugin) ? v[0] : 0).tag("plugin", plugin)
                        .description("1 while the plugin runs and is reported").register(registry);
            } else {
                gauge = Gauge.builder(name, value, v -> v[0]).tag("plugin", plugin)
                        .description("plugin process figure " + sample.getMetric() + " (process group)").register(registry);
            }
            gauges.put(key, gauge);
            return value;
        });
        holder[0] = sample.getValue();
    }

    private synchronized void forgetSilent(long nowMs) {
        lastSeen.entrySet().removeIf(plugin -> {
            if (nowMs - plugin.getValue() <= forgetAfterMs) {
                return false;
            }
            String prefix = plugin.getKey() + "\n";
            gauges.keySet().removeIf(key -> {
                if (key.startsWith(prefix)) {
                    registry.remove(gauges.get(key));
                    values.remove(key);
                    return true;
                }
                return false;
            });
            return true;
        });
    }

    /** Plugins with gauges now. */
    int plugins() {
        return lastSeen.size();
    }

    private boolean recent(String plugin) {
        Long seen = lastSeen.get(plugin);
        return seen != null && System.currentTimeMillis() - seen <= downAfterMs;
    }
}
