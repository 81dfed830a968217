package dev.bkg.telemetryreporter;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.List;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import dev.bkg.proto.telemetry.v1.Sample;

/**
 * This service's own process figures, reported under its {@link SourceName} as a "service" source:
 * cpu_percent, rss_bytes, threads, open_files, heap_used_bytes, uptime_seconds — and its request
 * figures from {@link RequestFigures}. A service the plugin manager runs as a plugin (it sets
 * BKG_PLUGIN_ID) reports its request figures under the plugin's id too, beside the process figures
 * the plugin manager reports there, so the plugin's dashboard can chart its requests.
 */
@ApplicationScoped
public class ServiceFigures implements TelemetryCollector {

    public static final String KIND = "service";

    private final String service;
    private final RequestFigures requests;
    private final Optional<String> pluginId;
    private final CpuMeter cpu = new CpuMeter();
    private final long pid = ProcessHandle.current().pid();
    private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();

    ServiceFigures(SourceName source, RequestFigures requests,
            @ConfigProperty(name = "bkg.plugin-id") Optional<String> pluginId) {
        this.service = source.value();
        this.requests = requests;
        this.pluginId = pluginId.filter(id -> !id.isBlank());
    }

    @Override
    public void collect(long now, List<Sample> out) {
        ProcessFigures process = ProcessFigures.ofProcess(pid);
        double cpuPercent = cpu.percent(process.cpuTicks(), System.nanoTime());
        if (cpuPercent >= 0) {
            out.add(TelemetryCollector.sample(service, KIND, "cpu_percent", cpuPercent, now));
        }
        if (process.processes() > 0) {
            out.add(TelemetryCollector.sample(service, KIND, "rss_bytes", process.rssBytes(), now));
            out.add(TelemetryCollector.sample(service, KIND, "threads", process.threads(), now));
            out.add(TelemetryCollector.sample(service, KIND, "open_files", process.openFiles(), now));
        }
        out.add(TelemetryCollector.sample(service, KIND, "heap_used_bytes", memory.getHeapMemoryUsage().getUsed(), now));
        out.add(TelemetryCollector.sample(service, KIND, "uptime_seconds",
                ManagementFactory.getRuntimeMXBean().getUptime() / 1000.0, now));
        requests.collect(now, (metric, value) -> {
            out.add(TelemetryCollector.sample(service, KIND, metric, value, now));
            pluginId.ifPresent(id -> out.add(TelemetryCollector.sample(id, "plugin", metric, value, now)));
        });
    }
}
