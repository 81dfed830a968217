package dev.bkg.pluginmanager.domain;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import jakarta.enterprise.context.ApplicationScoped;

import dev.bkg.proto.telemetry.v1.Sample;
import dev.bkg.telemetryreporter.CpuMeter;
import dev.bkg.telemetryreporter.ProcessFigures;
import dev.bkg.telemetryreporter.TelemetryCollector;

/**
 * Each plugin's process figures, sampled from /proc once per report interval over the plugin's
 * whole process group (children included) and reported under the plugin's id: up (1 while
 * RUNNING), restarts, and while its process lives cpu_percent (of one core), rss_bytes, threads,
 * open_files, processes, uptime_seconds. In the Kubernetes runtime there is no process here: cpu_percent
 * and rss_bytes (the pods' working set) come from the metrics API when the cluster has one.
 */
@ApplicationScoped
public class PluginFigures implements TelemetryCollector {

    static final String KIND = "plugin";

    private final Plugins plugins;
    /** One meter per plugin process: a new pid (a restart) starts a new one. */
    private final Map<Long, CpuMeter> meters = new HashMap<>();

    PluginFigures(Plugins plugins) {
        this.plugins = plugins;
    }

    @Override
    public void collect(long now, List<Sample> out) {
        List<PluginSupervisor> available = plugins.all().stream().filter(PluginSupervisor::available).toList();
        List<PluginStatus> statuses = available.stream().map(PluginSupervisor::status).toList();
        Set<Long> pids = statuses.stream().map(PluginStatus::pid).filter(pid -> pid > 0).collect(Collectors.toSet());
        Map<Long, ProcessFigures> figures = pids.isEmpty() ? Map.of() : ProcessFigures.ofGroups(pids);
        long nanos = System.nanoTime();
        meters.keySet().retainAll(pids);
        for (int i = 0; i < available.size(); i++) {
            PluginStatus status = statuses.get(i);
            String id = status.pluginId();
            out.add(TelemetryCollector.sample(id, KIND, "up", status.state() == PluginState.RUNNING ? 1 : 0, now));
            out.add(TelemetryCollector.sample(id, KIND, "restarts", status.restarts(), now));
            available.get(i).resourceUse().ifPresent(use -> {
                out.add(TelemetryCollector.sample(id, KIND, "cpu_percent", use.cpuPercent(), now));
                out.add(TelemetryCollector.sample(id, KIND, "rss_bytes", use.memoryBytes(), now));
            });
            ProcessFigures process = figures.get(status.pid());
            if (process == null) {
                continue;
            }
            double cpu = meters.computeIfAbsent(status.pid(), pid -> new CpuMeter()).percent(process.cpuTicks(), nanos);
            if (cpu >= 0) {
                out.add(TelemetryCollector.sample(id, KIND, "cpu_percent", cpu, now));
            }
            out.add(TelemetryCollector.sample(id, KIND, "rss_bytes", process.rssBytes(), now));
            out.add(TelemetryCollector.sample(id, KIND, "threads", process.threads(), now));
            out.add(TelemetryCollector.sample(id, KIND, "open_files", process.openFiles(), now));
            out.add(TelemetryCollector.sample(id, KIND, "processes", process.processes(), now));
            ProcessHandle.of(status.pid()).flatMap(p -> p.info().startInstant()).ifPresent(start -> out.add(
                    TelemetryCollector.sample(id, KIND, "uptime_seconds", (now - start.toEpochMilli()) / 1000.0, now)));
        }
    }
}
