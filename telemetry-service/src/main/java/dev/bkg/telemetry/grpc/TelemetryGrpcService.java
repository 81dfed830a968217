package dev.bkg.telemetry.grpc;

import java.util.HashSet;
import java.util.Map;
import java.util.NoSuchElementException;

import dev.bkg.proto.telemetry.v1.ListMetricsRequest;
import dev.bkg.proto.telemetry.v1.ListMetricsResponse;
import dev.bkg.proto.telemetry.v1.MetricInfo;
import dev.bkg.proto.telemetry.v1.MutinyTelemetryServiceGrpc;
import dev.bkg.proto.telemetry.v1.OverviewRequest;
import dev.bkg.proto.telemetry.v1.OverviewResponse;
import dev.bkg.proto.telemetry.v1.Point;
import dev.bkg.proto.telemetry.v1.QuerySeriesRequest;
import dev.bkg.proto.telemetry.v1.QuerySeriesResponse;
import dev.bkg.proto.telemetry.v1.ReportRequest;
import dev.bkg.proto.telemetry.v1.ReportResponse;
import dev.bkg.proto.telemetry.v1.Sample;
import dev.bkg.proto.telemetry.v1.Series;
import dev.bkg.proto.telemetry.v1.SourceOverview;
import dev.bkg.proto.telemetry.v1.StreamLiveRequest;
import dev.bkg.telemetry.domain.LiveSamples;
import dev.bkg.telemetry.domain.SampleIntake;
import dev.bkg.telemetry.domain.SeriesStore;
import dev.bkg.telemetry.domain.TelemetrySettings;
import io.grpc.Status;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

/**
 * Serves bkg.telemetry.v1.TelemetryService: Report (never blocks: storing is a few array writes),
 * QuerySeries (INVALID_ARGUMENT names the limits, NOT_FOUND an unknown source or metric),
 * ListMetrics, Overview and StreamLive.
 */
@GrpcService
public class TelemetryGrpcService extends MutinyTelemetryServiceGrpc.TelemetryServiceImplBase {

    /** Figures the overview shows per source, when the source has them. */
    static final java.util.List<String> KEY_FIGURES = java.util.List.of("cpu_percent", "rss_bytes", "threads",
            "requests_per_second", "error_rate", "latency_p99_ms", "uptime_seconds", "restarts", "up");
    static final int MAX_REPORT = 20_000;

    private final SampleIntake intake;
    private final LiveSamples live;
    private final long downAfterMs;

    TelemetryGrpcService(SampleIntake intake, LiveSamples live, TelemetrySettings settings) {
        this.intake = intake;
        this.live = live;
        this.downAfterMs = settings.downAfter().toMillis();
    }

    @Override
    public Uni<ReportResponse> report(ReportRequest request) {
        if (request.getSamplesCount() > MAX_REPORT) {
            return Uni.createFrom().failure(Status.INVALID_ARGUMENT
                    .withDescription("at most " + MAX_REPORT + " samples per report").asRuntimeException());
        }
        int refused = intake.accept(request.getSamplesList());
        return Uni.createFrom().item(ReportResponse.newBuilder()
                .setAccepted(request.getSamplesCount() - refused).setRejected(refused).build());
    }

    @Override
    public Uni<QuerySeriesResponse> querySeries(QuerySeriesRequest request) {
        return Uni.createFrom().item(() -> {
            if (request.getSource().isEmpty() || request.getMetric().isEmpty()) {
                throw Status.INVALID_ARGUMENT.withDescription("source and metric are required").asRuntimeException();
            }
            try {
                SeriesStore.Result result = intake.store().query(request.getSource(), request.getMetric(),
                        request.getLabelsMap(), request.getFromEpochMs(), request.getToEpochMs(), request.getStepMs(),
                        request.getAggregation(), System.currentTimeMillis());
                Series.Builder series = Series.newBuilder().setSource(result.source()).setMetric(result.metric())
                        .setStepMs(result.stepMs()).setAggregation(result.aggregation());
                result.points().forEach(p -> series.addPoints(Point.newBuilder().setTimestampEpochMs(p.startMs())
                        .setValue(p.value()).setMin(p.min()).setMax(p.max()).setCount(p.count())));
                return QuerySeriesResponse.newBuilder().setSeries(series).build();
            } catch (NoSuchElementException e) {
                throw Status.NOT_FOUND.withDescription(e.getMessage()).asRuntimeException();
            } catch (IllegalArgumentException e) {
                throw Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException();
            }
        });
    }

    @Override
    public Uni<ListMetricsResponse> listMetrics(ListMetricsRequest request) {
        return Uni.createFrom().item(() -> {
            String source = request.getSource().isEmpty() ? null : request.getSource();
            if (source != null && !intake.store().knows(source)) {
                throw Status.NOT_FOUND.withDescription("no telemetry from '" + source + "'").asRuntimeException();
            }
            ListMetricsResponse.Builder response = ListMetricsResponse.newBuilder();
            java.util.Set<String> seen = new HashSet<>();
            intake.store().list(source).forEach(s -> {
                if (seen.add(s.source() + "\n" + s.metric())) {
                    response.addMetrics(MetricInfo.newBuilder().setSource(s.source()).setName(s.metric())
                            .setLastValue(s.value()).setLastEpochMs(s.epochMs()));
                }
            });
            return response.build();
        });
    }

    @Override
    public Uni<OverviewResponse> overview(OverviewRequest request) {
        return Uni.createFrom().item(() -> {
            long now = System.currentTimeMillis();
            Map<String, Map<String, Double>> latest = intake.store().latest(null);
            OverviewResponse.Builder response = OverviewResponse.newBuilder();
            for (SeriesStore.SourceInfo source : intake.store().sources()) {
                Map<String, Double> figures = latest.getOrDefault(source.source(), Map.of());
                boolean recent = now - source.lastSeenMs() <= downAfterMs;
                SourceOverview.Builder entry = SourceOverview.newBuilder().setSource(source.source()).setKind(source.kind())
                        .setUp(recent && figures.getOrDefault("up", 1.0) > 0).setLastSeenEpochMs(source.lastSeenMs());
                KEY_FIGURES.stream().filter(figures::containsKey).forEach(f -> entry.putFigures(f, figures.get(f)));
                response.addSources(entry);
            }
            return response.build();
        });
    }

    @Override
    public Multi<Sample> streamLive(StreamLiveRequest request) {
        return live.follow(request.getSource(), new HashSet<>(request.getMetricsList()));
    }
}
