package dev.bkg.gateway;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.bkg.testsupport.PrometheusExposition;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import io.restassured.path.json.JsonPath;
import io.vertx.core.json.JsonObject;

/**
 * Telemetry end to end: a real plugin process spinning one thread is sampled from /proc by the
 * plugin manager, stored by telemetry-service and read back through the gateway (REST series,
 * mesh overview, live socket); bad queries are 4xx; the socket outlives a telemetry-service
 * restart; every /q/metrics parses with promtool and the Grafana dashboards use only exported
 * metrics.
 */
@QuarkusTest
@WithTestResource(Backends.class)
@TestProfile(AuthResourceTest.ShortCache.class)
class TelemetryTest {

    static final Duration WAIT = Duration.ofSeconds(30);
    static final Path DEPLOY = Backends.REPO_ROOT.resolve("deploy");

    @Backends.Inject
    Backends backends;

    @AfterEach
    void stopBurner() {
        given().auth().oauth2(AuthResourceTest.admin()).when().post("/api/plugins/burner/stop?wait=true");
    }

    static long startBurner(String admin) {
        return given().auth().oauth2(admin).when().post("/api/plugins/burner/start?wait=true")
                .then().statusCode(200).body("state", equalTo("RUNNING")).extract().jsonPath().getLong("pid");
    }

    /** utime + stime of a process in clock ticks, read here independently of the code under test. */
    static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    static long clockTicks() throws Exception {
        Process getconf = new ProcessBuilder("getconf", "CLK_TCK").start();
        getconf.waitFor(5, TimeUnit.SECONDS);
        return Long.parseLong(new String(getconf.getInputStream().readAllBytes()).trim());
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aBurningPluginShowsItsRealCpuUseInTheSeriesWithinSeconds() throws Exception {
        String admin = AuthResourceTest.admin();
        long pid = startBurner(admin);
        long started = System.currentTimeMillis();
        // within a few seconds the series has the plugin's CPU
        JsonPath first = null;
        while (System.currentTimeMillis() - started < 10_000) {
            first = given().auth().oauth2(admin).when().get("/api/plugins/burner/telemetry?metric=cpu_percent&from=-1m")
                    .then().statusCode(200).extract().jsonPath();
            if (!first.getList("series[0].points").isEmpty()) {
                break;
            }
            sleep(250);
        }
        assertTrue(!first.getList("series[0].points").isEmpty(), "no CPU sample within 10 s of the start");

        // over a 6 s window, the series' mean is the CPU the process really used (measured here from /proc)
        long ticks0 = cpuTicks(pid);
        long t0 = System.currentTimeMillis();
        sleep(6000);
        long ticks1 = cpuTicks(pid);
        long t1 = System.currentTimeMillis();
        double real = 100.0 * (ticks1 - ticks0) / clockTicks() / ((t1 - t0) / 1000.0);
        sleep(1500); // the sample covering t1 is reported within a second
        JsonPath series = given().auth().oauth2(admin)
                .when().get("/api/plugins/burner/telemetry?metric=cpu_percent&from=" + (t0 + 1000) + "&to=" + t1 + "&step=1s")
                .then().statusCode(200).body("source", equalTo("burner"))
                .body("series[0].metric", equalTo("cpu_percent")).body("series[0].aggregation", equalTo("MEAN"))
                .body("series[0].step", equalTo(1000)).extract().jsonPath();
        List<Float> values = series.getList("series[0].points.value", Float.class);
        assertTrue(values.size() >= 4, "about one sample a second: " + values);
        double mean = values.stream().mapToDouble(Float::doubleValue).average().orElseThrow();
        assertTrue(real > 30, "the burner spins a thread: " + real + " %");
        assertEquals(real, mean, 20, "series " + values + " vs measured " + real);

        // memory and threads are there too, and the process figures are on telemetry-service's /q/metrics
        given().auth().oauth2(admin).when().get("/api/plugins/burner/telemetry?from=-30s")
                .then().statusCode(200).body("series.metric", hasItems("cpu_percent", "rss_bytes", "threads", "up"));
        PrometheusExposition page = PrometheusExposition.parse(get(backends.telemetry().port, "/q/metrics"));
        assertTrue(page.samples().getOrDefault("bkg_plugin_cpu_percent", List.of()).stream()
                .anyMatch(s -> "burner".equals(s.labels().get("plugin")) && s.value() > 0), "bkg_plugin_cpu_percent{plugin=burner}");
    }

    @Test
    void badQueriesAreClearProblems() {
        String admin = AuthResourceTest.admin();
        given().when().get("/api/plugins/burner/telemetry").then().statusCode(401);
        String outsider = AuthResourceTest.createKey(admin, Map.of("name", "telemetry-outsider", "scopes", List.of("inference")))
                .then().statusCode(201).extract().path("key");
        given().auth().oauth2(outsider).when().get("/api/telemetry").then().statusCode(403);
        given().auth().oauth2(admin).when().get("/api/plugins/nope/telemetry")
                .then().statusCode(404).contentType("application/problem+json");
        // a plugin that never ran still answers its figures, empty
        given().auth().oauth2(admin).when().get("/api/plugins/repoagent/telemetry?metric=cpu_percent")
                .then().statusCode(200).body("series[0].metric", equalTo("cpu_percent"));
        given().auth().oauth2(admin).when().get("/api/plugins/repoagent/telemetry?metric=no_such_metric")
                .then().statusCode(404).body("detail", containsString("no_such_metric"));
        given().auth().oauth2(admin).when().get("/api/telemetry/sources/telemetry-service?metric=cpu_percent&step=10ms")
                .then().statusCode(400).body("detail", containsString("at least 1000 ms"));
        given().auth().oauth2(admin).when().get("/api/telemetry/sources/telemetry-service?metric=cpu_percent&from=-3d")
                .then().statusCode(400).body("detail", containsString("oldest"));
        given().auth().oauth2(admin).when().get("/api/telemetry/sources/telemetry-service?from=yesterday")
                .then().statusCode(400).body("detail", containsString("from must be"));
        given().auth().oauth2(admin).when().get("/api/telemetry/sources/telemetry-service?from=-1m&to=-2m")
                .then().statusCode(400);
        given().auth().oauth2(admin).when().get("/api/telemetry/sources/telemetry-service?aggregation=median")
                .then().statusCode(400).body("detail", containsString("aggregation"));
        given().auth().oauth2(admin).when().get("/api/telemetry/sources/nobody").then().statusCode(404);
    }

    @Test
    void theOverviewShowsEveryServiceAndPlugin() {
        String admin = AuthResourceTest.admin();
        startBurner(admin);
        long deadline = System.currentTimeMillis() + WAIT.toMillis();
        JsonPath overview;
        do {
            sleep(500);
            overview = given().auth().oauth2(admin).when().get("/api/telemetry").then().statusCode(200).extract().jsonPath();
        } while (System.currentTimeMillis() < deadline
                && (overview.get("plugins.find { it.id == 'burner' }.figures.cpu_percent") == null
                        || !Boolean.TRUE.equals(overview.get("services.find { it.name == 'plugin-manager-service' }.up"))));
        assertEquals(true, overview.get("telemetryAvailable"));
        for (String service : List.of("telemetry-service", "auth-service", "plugin-manager-service", "gateway-service",
                "model-service")) {
            assertEquals(true, overview.get("services.find { it.name == '" + service + "' }.up"), service + " reports");
        }
        assertEquals("RUNNING", overview.get("plugins.find { it.id == 'burner' }.state"));
        assertEquals("STOPPED", overview.get("plugins.find { it.id == 'repoagent' }.state"));
        assertTrue(overview.getFloat("plugins.find { it.id == 'burner' }.figures.rss_bytes") > 1_000_000);
        // the truth ./bkg status tells: READY (no autostart plugins here), DEGRADED naming a service that is gone
        assertEquals("READY", overview.get("state"), overview.prettify());
        assertEquals(List.of(), overview.getList("notReady"));
        backends.telemetry().kill();
        try {
            JsonPath degraded = given().auth().oauth2(admin).when().get("/api/telemetry").then().statusCode(200).extract().jsonPath();
            assertEquals("DEGRADED", degraded.get("state"));
            assertEquals(List.of("telemetry-service"), degraded.getList("notReady"));
            assertEquals(false, degraded.get("telemetryAvailable"));
        } finally {
            backends.telemetry().start();
        }
    }

    @Test
    void aSocketGetsLiveSamplesAndOutlivesATelemetryRestart() throws Exception {
        String admin = AuthResourceTest.admin();
        startBurner(admin);
        String ws = "ws://127.0.0.1:" + RestAssured.port + "/ws/plugins/burner/telemetry";
        String reader = AuthResourceTest.createKey(admin, Map.of("name", "telemetry-reader", "scopes", List.of("telemetry:read")))
                .then().statusCode(201).extract().path("key");
        String pluginsOnly = AuthResourceTest.createKey(admin, Map.of("name", "plugins-reader", "scopes", List.of("plugins:read")))
                .then().statusCode(201).extract().path("key");
        assertEquals(403, SocketClient.refusedStatus(ws, "bkg.v1", "bkg.bearer." + pluginsOnly));
        try (SocketClient unknown = SocketClient.open("ws://127.0.0.1:" + RestAssured.port + "/ws/plugins/nope/telemetry", admin)) {
            assertEquals(4404, unknown.closeCode.get(20, TimeUnit.SECONDS));
        }
        try (SocketClient socket = SocketClient.open(ws, reader)) {
            JsonObject one = socket.await(m -> "sample".equals(m.getString("type")) && "cpu_percent".equals(m.getString("metric")),
                    WAIT, "a CPU sample");
            JsonObject later = socket.await(m -> "sample".equals(m.getString("type")) && "cpu_percent".equals(m.getString("metric"))
                    && m.getLong("t") > one.getLong("t"), WAIT, "a newer, live one");
            assertTrue(later.getDouble("value") >= 0);

            backends.telemetry().kill();
            try {
                socket.await(m -> "upstream".equals(m.getString("type")) && "reconnecting".equals(m.getString("state")),
                        WAIT, "saying it reconnects");
            } finally {
                backends.telemetry().start();
            }
            long back = System.currentTimeMillis();
            socket.await(m -> "upstream".equals(m.getString("type")) && "live".equals(m.getString("state")), WAIT, "live again");
            socket.await(m -> "sample".equals(m.getString("type")) && m.getLong("t") > back, WAIT,
                    "samples from the restarted telemetry-service (the reporters resumed)");
            assertTrue(socket.closeCode.getNow(-1) == -1, "the socket stayed open");
        }
    }

    @Test
    void everyMetricsPageParsesAndTheDashboardsUseOnlyExportedMetrics() throws Exception {
        String admin = AuthResourceTest.admin();
        startBurner(admin);
        sleep(2500); // a report or two, so that the plugin figures are exported
        Set<String> exported = new HashSet<>();
        Set<String> services = new HashSet<>();
        List<String> pages = List.of(get(backends.telemetry().port, "/q/metrics"), get(backends.auth().port, "/q/metrics"),
                get(backends.pluginManager().port, "/q/metrics"), given().when().get("/q/metrics").then().statusCode(200)
                        .extract().asString());
        for (String page : pages) {
            PrometheusExposition metrics = PrometheusExposition.parse(page);
            assertEquals(List.of(), metrics.ownLintProblems());
            exported.addAll(metrics.samples().keySet());
            metrics.samples().values().forEach(samples -> samples.forEach(s -> services.add(s.labels().get("service"))));
        }
        assertTrue(services.containsAll(List.of("telemetry-service", "auth-service", "plugin-manager-service", "gateway-service")),
                "every service labels its series: " + services);
        assertTrue(exported.containsAll(List.of("bkg_plugin_cpu_percent", "bkg_plugin_rss_bytes", "bkg_plugin_up",
                "bkg_telemetry_ingested_samples_total", "bkg_telemetry_reported_samples_total",
                "bkg_telemetry_dropped_samples_total", "http_server_requests_seconds_bucket",
                "grpc_server_processing_duration_seconds_bucket")), "exported: " + exported);

        ObjectMapper json = new ObjectMapper();
        String datasource = Files.readString(DEPLOY.resolve("grafana/provisioning/datasources/prometheus.yml"));
        Matcher uid = Pattern.compile("uid: (\\S+)").matcher(datasource);
        assertTrue(uid.find());
        List<Path> dashboards;
        try (Stream<Path> files = Files.list(DEPLOY.resolve("grafana/dashboards"))) {
            dashboards = files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
        }
        assertEquals(3, dashboards.size(), "mesh overview, plugin, inference: " + dashboards);
        Pattern selector = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\{");
        Pattern serviceLabel = Pattern.compile("service=~?\"([^\"]+)\"");
        Set<String> meshServices = Set.of("gateway-service", "auth-service", "plugin-manager-service", "model-service",
                "telemetry-service", "inference-service", "face-service");
        for (Path file : dashboards) {
            JsonNode dashboard = json.readTree(file.toFile());
            assertTrue(dashboard.path("uid").isTextual() && dashboard.path("title").isTextual(), file + " has uid and title");
            List<String> exprs = new ArrayList<>();
            dashboard.findValues("expr").forEach(e -> exprs.add(e.asText()));
            dashboard.findValues("query").forEach(q -> exprs.add(q.isTextual() ? q.asText() : q.path("query").asText()));
            assertTrue(exprs.size() >= 4, file + " has panels with queries");
            dashboard.findValues("datasource").forEach(ds -> {
                if (ds.isObject() && ds.has("uid") && !ds.path("uid").asText().startsWith("$")) {
                    assertEquals(uid.group(1), ds.path("uid").asText(), file + " uses the provisioned datasource");
                }
            });
            for (String expr : exprs) {
                Matcher m = selector.matcher(expr);
                boolean any = false;
                while (m.find()) {
                    any = true;
                    assertTrue(exported.contains(m.group(1)), file.getFileName() + ": " + m.group(1) + " is not exported (" + expr + ")");
                }
                assertTrue(any || expr.isBlank() || expr.startsWith("label_values"), "write selectors as name{...}: " + expr);
                Matcher s = serviceLabel.matcher(expr);
                while (s.find()) {
                    if (!s.group(1).matches("[a-z-]+(\\|[a-z-]+)*")) {
                        continue; // a pattern such as .+
                    }
                    for (String name : s.group(1).split("\\|")) {
                        assertTrue(meshServices.contains(name), "service label " + name + " in " + expr);
                    }
                }
            }
        }
        // the local scrape config is valid for Prometheus itself
        Process check = new ProcessBuilder(PrometheusExposition.PROMTOOL.toString(), "check", "config",
                DEPLOY.resolve("prometheus/prometheus.yml").toString()).redirectErrorStream(true).start();
        String verdict = new String(check.getInputStream().readAllBytes());
        check.waitFor(30, TimeUnit.SECONDS);
        assertEquals(0, check.exitValue(), verdict);
    }

    static String get(int port, String path) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        return response.body();
    }
}
