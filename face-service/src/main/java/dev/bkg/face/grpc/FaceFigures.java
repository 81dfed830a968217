package dev.bkg.face.grpc;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import dev.bkg.face.domain.FacePipeline;
import dev.bkg.face.domain.Gallery;
import dev.bkg.proto.telemetry.v1.Sample;
import dev.bkg.telemetryreporter.ServiceFigures;
import dev.bkg.telemetryreporter.SourceName;
import dev.bkg.telemetryreporter.TelemetryCollector;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * What face-service does, for the dashboard and for Prometheus: images and faces per second, faces
 * embedded, the gallery's size and whether its search uses the HNSW graph.
 */
@ApplicationScoped
public class FaceFigures implements TelemetryCollector {

    private final String service;
    private final FacePipeline pipeline;
    private final Gallery gallery;
    private long[] last;
    private long lastNanos;

    FaceFigures(SourceName source, FacePipeline pipeline, Gallery gallery, MeterRegistry registry) {
        this.service = source.value();
        this.pipeline = pipeline;
        this.gallery = gallery;
        FunctionCounter.builder("bkg.face.images", pipeline, p -> p.totals()[0])
                .description("images faces were looked for in").register(registry);
        FunctionCounter.builder("bkg.face.detected", pipeline, p -> p.totals()[1])
                .description("faces found").register(registry);
        FunctionCounter.builder("bkg.face.embedded", pipeline, p -> p.totals()[2])
                .description("faces aligned and embedded").register(registry);
        Gauge.builder("bkg.face.gallery.faces", gallery, Gallery::faceCount)
                .description("faces enrolled under subjects").register(registry);
    }

    @Override
    public synchronized void collect(long now, List<Sample> out) {
        long[] totals = pipeline.totals();
        long nanos = System.nanoTime();
        if (last != null && nanos > lastNanos) {
            double seconds = (nanos - lastNanos) / 1e9;
            out.add(TelemetryCollector.sample(service, ServiceFigures.KIND, "face_images_per_second",
                    (totals[0] - last[0]) / seconds, now));
            out.add(TelemetryCollector.sample(service, ServiceFigures.KIND, "faces_detected_per_second",
                    (totals[1] - last[1]) / seconds, now));
        }
        out.add(TelemetryCollector.sample(service, ServiceFigures.KIND, "face_gallery_faces", gallery.faceCount(), now));
        out.add(TelemetryCollector.sample(service, ServiceFigures.KIND, "face_search_hnsw", gallery.searchUsesGraph() ? 1 : 0, now));
        last = totals;
        lastNanos = nanos;
    }
}
