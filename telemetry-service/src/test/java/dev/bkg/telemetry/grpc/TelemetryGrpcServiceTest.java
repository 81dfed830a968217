package dev.bkg.telemetry.grpc;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import dev.bkg.proto.telemetry.v1.ListMetricsRequest;
import dev.bkg.proto.telemetry.v1.MutinyTelemetryServiceGrpc.MutinyTelemetryServiceStub;
import dev.bkg.proto.telemetry.v1.OverviewRequest;
import dev.bkg.proto.telemetry.v1.QuerySeriesRequest;
import dev.bkg.proto.telemetry.v1.ReportRequest;
import dev.bkg.proto.telemetry.v1.ReportResponse;
import dev.bkg.proto.telemetry.v1.Sample;
import dev.bkg.proto.telemetry.v1.SourceOverview;
import dev.bkg.proto.telemetry.v1.StreamLiveRequest;
import dev.bkg.testsupport.PrometheusExposition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.mutiny.subscription.Cancellable;

/** The telemetry contract through a real gRPC client: report, query, list, overview, live stream, statuses. */
@QuarkusTest
class TelemetryGrpcServiceTest {

    static final Duration WAIT = Duration.ofSeconds(10);

    @GrpcClient("telemetry")
    MutinyTelemetryServiceStub telemetry;

    static Sample sample(String source, String metric, double value) {
        return Sample.newBuilder().setSource(source).setKind("plugin").setMetric(metric).setValue(value).build();
    }

    static Status.Code codeOf(Runnable call) {
        return assertThrows(StatusRuntimeException.class, call::run).getStatus().getCode();
    }

    @Test
    void reportedSamplesAreQueryableListedAndLive() throws Exception {
        ReportResponse response = telemetry.report(ReportRequest.newBuilder()
                .addSamples(sample("grpc-test", "cpu_percent", 42.5)).addSamples(sample("grpc-test", "rss_bytes", 1e8))
                .addSamples(sample("grpc-test", "up", 1)).addSamples(sample("grpc-test", "Not A Name", 1))
                .addSamples(sample("other", "cpu_percent", 1)).build()).await().atMost(WAIT);
        assertEquals(4, response.getAccepted());
        assertEquals(1, response.getRejected());

        // live: a stream is open some time after the call (no signal tells when), so its source is
        // reported again until a sample comes; only the asked source and metric ever come
        List<Sample> live = new CopyOnWriteArrayList<>();
        Cancellable stream = telemetry.streamLive(StreamLiveRequest.newBuilder().setSource("grpc-live")
                .addMetrics("cpu_percent").build()).subscribe().with(live::add);
        try {
            long deadline = System.currentTimeMillis() + WAIT.toMillis();
            while (live.isEmpty() && System.currentTimeMillis() < deadline) {
                telemetry.report(ReportRequest.newBuilder().addSamples(sample("grpc-live", "cpu_percent", 42.5))
                        .addSamples(sample("grpc-live", "rss_bytes", 1e8)).addSamples(sample("other", "cpu_percent", 1))
                        .build()).await().atMost(WAIT);
                Thread.sleep(100);
            }
            assertTrue(!live.isEmpty(), "no live sample within " + WAIT);
            assertTrue(live.stream().allMatch(l -> l.getSource().equals("grpc-live") && l.getMetric().equals("cpu_percent")
                    && l.getValue() == 42.5), "only this source's cpu_percent: " + live);
            assertTrue(live.get(0).getTimestampEpochMs() > 0, "stamped on arrival");
        } finally {
            stream.cancel();
        }
        var series = telemetry.querySeries(QuerySeriesRequest.newBuilder().setSource("grpc-test").setMetric("cpu_percent")
                .setFromEpochMs(System.currentTimeMillis() - 60_000).build()).await().atMost(WAIT).getSeries();
        assertEquals(1000, series.getStepMs());
        assertEquals(1, series.getPointsCount());
        assertEquals(42.5, series.getPoints(0).getValue());
        assertEquals(List.of("cpu_percent", "rss_bytes", "up"), telemetry.listMetrics(ListMetricsRequest.newBuilder()
                .setSource("grpc-test").build()).await().atMost(WAIT).getMetricsList().stream().map(m -> m.getName()).toList());
        SourceOverview overview = telemetry.overview(OverviewRequest.getDefaultInstance()).await().atMost(WAIT)
                .getSourcesList().stream().filter(s -> s.getSource().equals("grpc-test")).findFirst().orElseThrow();
        assertEquals("plugin", overview.getKind());
        assertTrue(overview.getUp());
        assertEquals(42.5, overview.getFiguresOrThrow("cpu_percent"));
        // the plugin's figures are on /q/metrics, as Prometheus reads them
        PrometheusExposition page = PrometheusExposition.parse(given().get("/q/metrics").then().statusCode(200)
                .extract().asString());
        assertTrue(page.samples().get("bkg_plugin_cpu_percent").stream()
                .anyMatch(s -> "grpc-test".equals(s.labels().get("plugin")) && s.value() == 42.5));
    }

    @Test
    void aSourceThatStoppedReportingIsDown() {
        long minuteAgo = System.currentTimeMillis() - 60_000;
        telemetry.report(ReportRequest.newBuilder().addSamples(sample("went-quiet", "cpu_percent", 5).toBuilder()
                .setTimestampEpochMs(minuteAgo)).build()).await().atMost(WAIT);
        SourceOverview quiet = telemetry.overview(OverviewRequest.getDefaultInstance()).await().atMost(WAIT)
                .getSourcesList().stream().filter(s -> s.getSource().equals("went-quiet")).findFirst().orElseThrow();
        assertEquals(false, quiet.getUp());
        assertEquals(minuteAgo, quiet.getLastSeenEpochMs());
    }

    @Test
    void badRequestsGetTheRightStatus() {
        telemetry.report(ReportRequest.newBuilder().addSamples(sample("grpc-status", "threads", 3)).build())
                .await().atMost(WAIT);
        assertEquals(Status.Code.NOT_FOUND, codeOf(() -> telemetry.querySeries(QuerySeriesRequest.newBuilder()
                .setSource("nobody").setMetric("threads").setFromEpochMs(System.currentTimeMillis() - 1000).build())
                .await().atMost(WAIT)));
        assertEquals(Status.Code.NOT_FOUND, codeOf(() -> telemetry.querySeries(QuerySeriesRequest.newBuilder()
                .setSource("grpc-status").setMetric("nothing").setFromEpochMs(System.currentTimeMillis() - 1000).build())
                .await().atMost(WAIT)));
        assertEquals(Status.Code.INVALID_ARGUMENT, codeOf(() -> telemetry.querySeries(QuerySeriesRequest.newBuilder()
                .setSource("grpc-status").setMetric("threads").setFromEpochMs(System.currentTimeMillis() - 10_000)
                .setStepMs(10).build()).await().atMost(WAIT)));
        assertEquals(Status.Code.INVALID_ARGUMENT, codeOf(() -> telemetry.querySeries(QuerySeriesRequest.newBuilder()
                .setSource("grpc-status").build()).await().atMost(WAIT)));
        assertEquals(Status.Code.NOT_FOUND, codeOf(() -> telemetry.listMetrics(ListMetricsRequest.newBuilder()
                .setSource("nobody").build()).await().atMost(WAIT)));
        // a reporter's largest batch goes through; a larger report than the service takes is refused
        ReportRequest.Builder batch = ReportRequest.newBuilder();
        IntStream.range(0, 5000).forEach(i -> batch.addSamples(sample("grpc-status", "threads", i)));
        assertEquals(5000, telemetry.report(batch.build()).await().atMost(WAIT).getAccepted());
        ReportRequest.Builder huge = ReportRequest.newBuilder();
        IntStream.range(0, TelemetryGrpcService.MAX_REPORT + 1).forEach(i -> huge.addSamples(sample("grpc-status", "threads", i)));
        Status.Code tooMany = codeOf(() -> telemetry.report(huge.build()).await().atMost(WAIT));
        // the message-size limit of the transport (RESOURCE_EXHAUSTED) or ours (INVALID_ARGUMENT), whichever comes first
        assertTrue(tooMany == Status.Code.INVALID_ARGUMENT || tooMany == Status.Code.RESOURCE_EXHAUSTED, tooMany.name());
    }
}
