package dev.bkg.gateway.api;

import java.util.Collections;
import dev.bkg.gateway.grpc.CorePeersReadiness;
import org.eclipse.microprofile.health.Readiness;
import dev.bkg.proto.pluginmanager.v1.PluginState;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import dev.bkg.gateway.grpc.GrpcProblems;
import dev.bkg.gateway.grpc.PluginManagerClient;
import dev.bkg.gateway.grpc.TelemetryClient;
import dev.bkg.gateway.security.RequiresScope;
import dev.bkg.proto.pluginmanager.v1.GetPluginRequest;
import dev.bkg.proto.pluginmanager.v1.ListPluginsRequest;
import dev.bkg.proto.pluginmanager.v1.ListPluginsResponse;
import dev.bkg.proto.telemetry.v1.Aggregation;
import dev.bkg.proto.telemetry.v1.ListMetricsRequest;
import dev.bkg.proto.telemetry.v1.ListMetricsResponse;
import dev.bkg.proto.telemetry.v1.MetricInfo;
import dev.bkg.proto.telemetry.v1.OverviewRequest;
import dev.bkg.proto.telemetry.v1.OverviewResponse;
import dev.bkg.proto.telemetry.v1.QuerySeriesRequest;
import dev.bkg.proto.telemetry.v1.Series;
import dev.bkg.proto.telemetry.v1.SourceOverview;
import io.grpc.Status;
import io.smallrye.mutiny.Uni;

/**
 * Telemetry for people and charts: {@code GET /api/plugins/{id}/telemetry} and
 * {@code GET /api/telemetry/sources/{source}} (series of one plugin or service, JSON a chart takes
 * as is), and {@code GET /api/telemetry} (the mesh at a glance: every service and plugin, up or
 * down, key figures, READY or DEGRADED naming what is not ready — the plugins' states still answer
 * while telemetry-service is down).
 */
@Path("/api")
@Produces(MediaType.APPLICATION_JSON)
public class TelemetryResource {

    /** What the plugin manager reports for every plugin; a plugin that has not reported one yet has an empty series. */
    static final List<String> PLUGIN_FIGURES = List.of("cpu_percent", "rss_bytes", "threads", "open_files", "processes",
            "uptime_seconds", "restarts", "up");
    /** The services of the mesh that always run (plugins' own services report too when they run). */
    static final List<String> CORE_SERVICES = List.of("gateway-service", "auth-service", "plugin-manager-service",
            "model-service", "telemetry-service");

    private final TelemetryClient telemetry;
    private final PluginManagerClient manager;
    private final CorePeersReadiness peers;

    TelemetryResource(TelemetryClient telemetry, PluginManagerClient manager, @Readiness CorePeersReadiness peers) {
        this.telemetry = telemetry;
        this.manager = manager;
        this.peers = peers;
    }

    public record PointView(long t, double value, double min, double max, long count) {
    }

    public record SeriesView(String metric, String aggregation, long step, List<PointView> points) {
        static SeriesView of(Series s) {
            return new SeriesView(s.getMetric(), s.getAggregation().name(), s.getStepMs(), s.getPointsList().stream()
                    .map(p -> new PointView(p.getTimestampEpochMs(), p.getValue(), p.getMin(), p.getMax(), p.getCount()))
                    .toList());
        }
    }

    public record SeriesSet(String source, long from, long to, List<SeriesView> series) {
    }

    @GET
    @Path("/plugins/{id}/telemetry")
    @RequiresScope("telemetry:read")
    public Uni<SeriesSet> plugin(@PathParam("id") String id, @QueryParam("metric") List<String> metric,
            @QueryParam("from") String from, @QueryParam("to") String to, @QueryParam("step") String step,
            @QueryParam("aggregation") String aggregation) {
        TimeRange range = TimeRange.parse(from, to, step, System.currentTimeMillis());
        Aggregation agg = aggregation(aggregation);
        return manager.call(s -> s.getPlugin(GetPluginRequest.newBuilder().setPluginId(id).build()))
                .chain(known -> series(id, metrics(metric), range, agg, PLUGIN_FIGURES));
    }

    @GET
    @Path("/telemetry/sources/{source}")
    @RequiresScope("telemetry:read")
    public Uni<SeriesSet> source(@PathParam("source") String source, @QueryParam("metric") List<String> metric,
            @QueryParam("from") String from, @QueryParam("to") String to, @QueryParam("step") String step,
            @QueryParam("aggregation") String aggregation) {
        TimeRange range = TimeRange.parse(from, to, step, System.currentTimeMillis());
        Aggregation agg = aggregation(aggregation);
        return series(source, metrics(metric), range, agg, List.of());
    }

    /**
     * The series of {@code wanted} metrics (empty: every metric the source has). A metric in
     * {@code expected} that has no data yet answers an empty series; any other unknown one is a 404.
     */
    private Uni<SeriesSet> series(String source, List<String> wanted, TimeRange range, Aggregation agg,
            List<String> expected) {
        return telemetry.raw(s -> s.listMetrics(ListMetricsRequest.newBuilder().setSource(source).build()))
                .onFailure(f -> Status.fromThrowable(f).getCode() == Status.Code.NOT_FOUND)
                .recoverWithItem(ListMetricsResponse.getDefaultInstance())
                .onFailure().transform(f -> GrpcProblems.toProblem(Status.fromThrowable(f), "telemetry-service"))
                .chain(known -> {
                    Set<String> present = known.getMetricsList().stream().map(MetricInfo::getName).collect(Collectors.toSet());
                    List<String> metrics = !wanted.isEmpty() ? wanted
                            : !expected.isEmpty() ? expected : present.stream().sorted().toList();
                    if (present.isEmpty() && expected.isEmpty()) {
                        throw new ProblemException(404, "Not Found", "no telemetry from '" + source + "'");
                    }
                    for (String m : metrics) {
                        if (!present.contains(m) && !expected.contains(m)) {
                            throw new ProblemException(404, "Not Found", "'" + source + "' has no metric '" + m
                                    + "'; it has " + present.stream().sorted().toList());
                        }
                    }
                    List<Uni<SeriesView>> queries = new ArrayList<>();
                    for (String m : metrics) {
                        queries.add(present.contains(m) ? telemetry.call(s -> s.querySeries(QuerySeriesRequest.newBuilder()
                                .setSource(source).setMetric(m).setFromEpochMs(range.fromMs()).setToEpochMs(range.toMs())
                                .setStepMs(range.stepMs()).setAggregation(agg).build())).map(r -> SeriesView.of(r.getSeries()))
                                : Uni.createFrom().item(new SeriesView(m, agg.name(), range.stepMs(), List.of())));
                    }
                    return Uni.join().all(queries).andFailFast()
                            .map(all -> new SeriesSet(source, range.fromMs(), range.toMs(), all));
                });
    }

    private static List<String> metrics(List<String> params) {
        List<String> metrics = params == null ? List.of() : params.stream()
                .flatMap(p -> Arrays.stream(p.split(","))).map(String::trim).filter(m -> !m.isEmpty()).distinct().toList();
        if (metrics.size() > 20) {
            throw ProblemException.badRequest("at most 20 metrics per request");
        }
        return metrics;
    }

    private static Aggregation aggregation(String text) {
        if (text == null || text.isBlank()) {
            return Aggregation.AGGREGATION_UNSPECIFIED;
        }
        try {
            Aggregation agg = Aggregation.valueOf(text.trim().toUpperCase());
            if (agg != Aggregation.UNRECOGNIZED) {
                return agg;
            }
        } catch (IllegalArgumentException e) {
            // answered below
        }
        throw ProblemException.badRequest("aggregation must be one of mean, min, max, sum, last, count, rate");
    }

    public record SourceView(String name, String kind, boolean up, Long lastSeen, Map<String, Double> figures) {
    }

    public record PluginView(String id, String state, boolean available, boolean up, Long lastSeen,
            Map<String, Double> figures) {
    }

    /**
     * {@code state} READY when every core service answers the gateway's health checks and every
     * autostart plugin runs, else DEGRADED with {@code notReady} naming what is not — what
     * {@code ./bkg status} says.
     */
    public record MeshOverview(String state, List<String> notReady, boolean telemetryAvailable, String telemetryDetail,
            List<SourceView> services, List<PluginView> plugins) {
    }

    /** The gateway's gRPC peers (CorePeersReadiness) by the names of their services. */
    private static final Map<String, String> PEER_SERVICES = Map.of("auth", "auth-service",
            "pluginmanager", "plugin-manager-service", "model", "model-service", "telemetry", "telemetry-service");

    @GET
    @Path("/telemetry")
    @RequiresScope("telemetry:read")
    public Uni<MeshOverview> overview() {
        Uni<OverviewResponse> figures = telemetry.raw(s -> s.overview(OverviewRequest.getDefaultInstance()))
                .onFailure().recoverWithNull();
        // the plugins' states answer while telemetry-service is down; the peers' health while the plugin manager is
        Uni<ListPluginsResponse> plugins = manager.call(s -> s.listPlugins(ListPluginsRequest.getDefaultInstance()))
                .onFailure().recoverWithNull();
        return Uni.combine().all().unis(figures, plugins, peers.call()).asTuple().map(all -> {
            OverviewResponse overview = all.getItem1();
            ListPluginsResponse pluginList = all.getItem2() == null ? ListPluginsResponse.getDefaultInstance() : all.getItem2();
            List<String> notReady = new ArrayList<>();
            Map<String, Object> peerStates = all.getItem3().getData().orElse(Map.of());
            PEER_SERVICES.forEach((peer, service) -> {
                if (!"SERVING".equals(String.valueOf(peerStates.get(peer)))) {
                    notReady.add(service);
                }
            });
            pluginList.getPluginsList().stream().filter(p -> p.getAutostart() && p.getAvailable()
                    && p.getStatus().getState() != PluginState.RUNNING).forEach(p -> notReady.add("plugin " + p.getId()));
            Map<String, SourceOverview> bySource = new LinkedHashMap<>();
            if (overview != null) {
                overview.getSourcesList().forEach(s -> bySource.put(s.getSource(), s));
            }
            List<PluginView> pluginViews = pluginList.getPluginsList().stream().map(p -> {
                SourceOverview seen = bySource.get(p.getId());
                String state = p.getStatus().getState().name();
                return new PluginView(p.getId(), state, p.getAvailable(), "RUNNING".equals(state),
                        seen == null ? null : seen.getLastSeenEpochMs(), seen == null ? Map.of() : seen.getFiguresMap());
            }).toList();
            Set<String> pluginIds = pluginViews.stream().map(PluginView::id).collect(Collectors.toSet());
            Map<String, SourceView> services = new LinkedHashMap<>();
            CORE_SERVICES.forEach(name -> services.put(name, new SourceView(name, "service", false, null, Map.of())));
            bySource.values().stream().filter(s -> !pluginIds.contains(s.getSource())).forEach(s -> services.put(
                    s.getSource(), new SourceView(s.getSource(), s.getKind(), s.getUp(), s.getLastSeenEpochMs(),
                            s.getFiguresMap())));
            Collections.sort(notReady);
            return new MeshOverview(notReady.isEmpty() ? "READY" : "DEGRADED", notReady, overview != null,
                    overview != null ? "" : "telemetry-service is unreachable", List.copyOf(services.values()), pluginViews);
        });
    }
}
