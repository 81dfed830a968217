package dev.bkg.telemetryreporter;

import java.time.Duration;
import java.util.stream.LongStream;

import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;

/**
 * One naming and labelling rule for every service's /q/metrics: each series carries
 * {@code service="<application name>"} (gRPC's own "service" tag, the gRPC service name, becomes
 * {@code grpc_service}), and the HTTP and gRPC server timers publish the same latency buckets
 * everywhere, so dashboards can use histogram_quantile across the mesh. Descriptions lose their
 * double quotes: the text format allows no \" in HELP lines, and Prometheus's own parser (promtool)
 * refuses the page when a JVM meter's description has one.
 */
@Singleton
public class MeshMetrics {

    /** Latency bucket bounds, in ms. */
    static final long[] LATENCY_BUCKETS_MS = { 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000 };

    @Produces
    @Singleton
    MeterFilter meshMeterFilter(@ConfigProperty(name = "quarkus.application.name") String service) {
        double[] slos = LongStream.of(LATENCY_BUCKETS_MS).mapToDouble(ms -> Duration.ofMillis(ms).toNanos()).toArray();
        return new MeterFilter() {
            @Override
            public Meter.Id map(Meter.Id id) {
                Meter.Id mapped = id;
                String grpcService = id.getName().startsWith("grpc.") ? id.getTag("service") : null;
                if (grpcService != null) {
                    mapped = mapped.replaceTags(mapped.getTags().stream()
                            .map(t -> t.getKey().equals("service") ? Tag.of("grpc_service", t.getValue()) : t).toList());
                }
                if (mapped.getDescription() != null && mapped.getDescription().indexOf('"') >= 0) {
                    mapped = new Meter.Id(mapped.getName(), Tags.of(mapped.getTagsAsIterable()), mapped.getBaseUnit(),
                            mapped.getDescription().replace('"', '\''), mapped.getType());
                }
                return mapped.getTag("service") == null ? mapped.withTag(Tag.of("service", service)) : mapped;
            }

            @Override
            public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
                if (id.getName().equals(RequestFigures.HTTP) || id.getName().equals(RequestFigures.GRPC)) {
                    return DistributionStatisticConfig.builder().serviceLevelObjectives(slos).build().merge(config);
                }
                return config;
            }
        };
    }
}
