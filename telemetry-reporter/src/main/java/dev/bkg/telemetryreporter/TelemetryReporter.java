package dev.bkg.telemetryreporter;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import dev.bkg.proto.telemetry.v1.Sample;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;

/**
 * Sends this service's samples to telemetry-service, never blocking whoever reports: samples wait
 * in a bounded buffer; once per interval the {@link TelemetryCollector}s are asked and one batch is
 * sent (one report in flight at a time). A full buffer or a failed report drops the samples and
 * counts them (bkg_telemetry_dropped_samples_total); reports resume by themselves when
 * telemetry-service is back.
 */
@ApplicationScoped
public class TelemetryReporter {

    private static final Logger LOG = Logger.getLogger(TelemetryReporter.class);
    static final int MAX_BATCH = 5000;

    private final SampleSender sender;
    private final Instance<TelemetryCollector> collectors;
    private final Duration interval;
    private final boolean enabled;
    private final ArrayBlockingQueue<Sample> buffer;
    private final Counter reported;
    private final Counter dropped;
    private final AtomicBoolean inFlight = new AtomicBoolean();
    private volatile boolean reachable = true;
    private ScheduledExecutorService timer;

    TelemetryReporter(SampleSender sender, Instance<TelemetryCollector> collectors, MeterRegistry registry,
            @ConfigProperty(name = "bkg.telemetry.report-interval", defaultValue = "1s") Duration interval,
            @ConfigProperty(name = "bkg.telemetry.report-enabled", defaultValue = "true") boolean enabled,
            @ConfigProperty(name = "bkg.telemetry.report-buffer", defaultValue = "20000") int bufferSize) {
        this.sender = sender;
        this.collectors = collectors;
        this.interval = interval;
        this.enabled = enabled;
        this.buffer = new ArrayBlockingQueue<>(bufferSize);
        this.reported = Counter.builder("bkg.telemetry.reported.samples")
                .description("samples this service sent to telemetry-service").register(registry);
        this.dropped = Counter.builder("bkg.telemetry.dropped.samples")
                .description("samples this service dropped: buffer full or telemetry-service unreachable").register(registry);
    }

    void start(@Observes StartupEvent event) {
        if (!enabled) {
            LOG.info("telemetry reporting is off (bkg.telemetry.report-enabled=false)");
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "telemetry-reporter");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(this::tick, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    void stop(@Observes ShutdownEvent event) {
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    /** Queues a sample for the next report; never blocks (a full buffer drops it, counted). */
    public void offer(Sample sample) {
        if (!enabled || !buffer.offer(sample)) {
            dropped.increment();
        }
    }

    /** Samples dropped since start (buffer full or telemetry-service unreachable). */
    public double droppedSamples() {
        return dropped.count();
    }

    private void tick() {
        long now = System.currentTimeMillis();
        List<Sample> collected = new ArrayList<>();
        for (TelemetryCollector collector : collectors) {
            try {
                collector.collect(now, collected);
            } catch (RuntimeException e) {
                LOG.debugf(e, "telemetry collector %s failed", collector.getClass().getSimpleName());
            }
        }
        collected.forEach(this::offer);
        flush();
    }

    private void flush() {
        if (buffer.isEmpty() || !inFlight.compareAndSet(false, true)) {
            return; // the report in flight carries on; the buffer holds (and bounds) the rest
        }
        List<Sample> batch = new ArrayList<>(Math.min(buffer.size(), MAX_BATCH));
        buffer.drainTo(batch, MAX_BATCH);
        try {
            sender.send(batch).subscribe().with(ok -> {
                reported.increment(batch.size());
                if (!reachable) {
                    reachable = true;
                    LOG.info("telemetry-service is reachable again: reporting resumed");
                }
                inFlight.set(false);
            }, failure -> {
                dropped.increment(batch.size());
                if (reachable) {
                    reachable = false;
                    LOG.warnf("telemetry-service unreachable (%s): dropping and counting samples until it returns",
                            failure.getMessage());
                }
                inFlight.set(false);
            });
        } catch (RuntimeException e) {
            dropped.increment(batch.size());
            inFlight.set(false);
        }
    }
}
