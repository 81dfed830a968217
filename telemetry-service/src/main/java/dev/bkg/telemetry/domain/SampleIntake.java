package dev.bkg.telemetry.domain;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import dev.bkg.proto.telemetry.v1.Sample;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/** Where reported samples enter: stored, published live, exported to Prometheus when they are plugin figures. */
@ApplicationScoped
public class SampleIntake {

    private static final Logger LOG = Logger.getLogger(SampleIntake.class);

    private final SeriesStore store;
    private final LiveSamples live;
    private final PluginGauges gauges;
    private volatile String lastRefusal = "";

    SampleIntake(TelemetrySettings settings, LiveSamples live, PluginGauges gauges, MeterRegistry registry) {
        this.store = new SeriesStore(List.of(new SeriesStore.Resolution(settings.fineStep(), settings.fineWindow()),
                new SeriesStore.Resolution(settings.coarseStep(), settings.coarseWindow())), settings.maxSeries());
        this.live = live;
        this.gauges = gauges;
        LOG.infof("telemetry series: %d KiB each, at most %d (%d MiB)", store.bytesPerSeries() / 1024,
                settings.maxSeries(), store.bytesPerSeries() * settings.maxSeries() / (1024 * 1024));
        FunctionCounter.builder("bkg.telemetry.ingested.samples", store, SeriesStore::ingested)
                .description("samples stored").register(registry);
        FunctionCounter.builder("bkg.telemetry.rejected.samples", store, SeriesStore::rejected)
                .description("samples refused (bad names or values, series limit)").register(registry);
        Gauge.builder("bkg.telemetry.series", store, SeriesStore::seriesCount).description("series kept").register(registry);
        Gauge.builder("bkg.telemetry.live.subscribers", live, LiveSamples::subscribers)
                .description("live sample streams open").register(registry);
    }

    public SeriesStore store() {
        return store;
    }

    /** Stores what it can; returns how many samples were refused. */
    public int accept(List<Sample> samples) {
        long now = System.currentTimeMillis();
        int refused = 0;
        for (Sample sample : samples) {
            String refusal = store.add(sample, now);
            if (refusal != null) {
                refused++;
                if (!refusal.equals(lastRefusal)) {
                    lastRefusal = refusal;
                    LOG.warnf("refused a sample: %s (said once per new reason)", refusal);
                }
                continue;
            }
            Sample stamped = sample.getTimestampEpochMs() == 0 ? sample.toBuilder().setTimestampEpochMs(now).build() : sample;
            live.publish(stamped);
            gauges.update(stamped, now);
        }
        return refused;
    }
}
