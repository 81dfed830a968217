import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Plugin manager figures, each beside its baseline in the same run:
 * <ol>
 * <li>log throughput: lines a flooding plugin writes, delivered live to one WebSocket through
 * plugin manager → gRPC → gateway, against the same script writing into a plain pipe;</li>
 * <li>memory: the plugin manager's and the gateway's RSS while that flood runs (bounded logs
 * should keep them flat);</li>
 * <li>restart after a crash: SIGKILL the plugin, time until it is RUNNING again, minus the
 * configured backoff, against spawning the same script and polling its health directly.</li>
 * </ol>
 * Usage (the mesh must load the bench registry, which is plugins.json plus the flood plugin):
 * <pre>
 * java bench/PluginBench.java registry > /tmp/bench-plugins.json
 * BKG_PLUGINS_REGISTRY=/tmp/bench-plugins.json BKG_ADMIN_PASSWORD=pw ./bkg up --detach
 * java bench/PluginBench.java http://127.0.0.1:8080 admin pw [floodSeconds=30] [restarts=7]
 * </pre>
 */
public class PluginBench {

    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final long BACKOFF_MS = 100;
    static String base;
    static String token;
    /** The machine-readable figures, printed at the end for bench/run. */
    static final List<String> RESULTS = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("registry")) {
            System.out.println(registry());
            return;
        }
        base = args[0];
        int floodSeconds = args.length > 3 ? Integer.parseInt(args[3]) : 30;
        int restarts = args.length > 4 ? Integer.parseInt(args[4]) : 7;
        token = find(post("/api/auth/login", "{\"username\":\"" + args[1] + "\",\"password\":\"" + args[2] + "\"}"),
                "\"token\":\"([^\"]+)\"");
        post("/api/plugins/logflood/stop?wait=true", null);

        System.out.printf("== log throughput, %d s flood ==%n", floodSeconds);
        double raw = rawPipeLinesPerSecond(floodSeconds);
        System.out.printf("baseline: the script into a plain pipe        %,.0f lines/s%n", raw);
        setConfig("{\"floodSeconds\": " + floodSeconds + "}");
        floodThroughSocket(raw);

        System.out.printf("%n== restart after SIGKILL (backoff %d ms subtracted), %d runs ==%n", BACKOFF_MS, restarts);
        setConfig("{\"floodSeconds\": 0}");
        List<Long> direct = new ArrayList<>();
        List<Long> managed = new ArrayList<>();
        for (int i = 0; i < restarts; i++) {
            direct.add(directSpawnToHealthyMs());
            managed.add(crashToRunningMs() - BACKOFF_MS);
        }
        long d = median(direct);
        long m = median(managed);
        System.out.printf("baseline: spawn + poll /health directly    median %d ms  %s%n", d, direct);
        System.out.printf("plugin manager: crash → RUNNING - backoff  median %d ms  %s%n", m, managed);
        System.out.printf("ratio %.2f×%n", (double) m / d);
        post("/api/plugins/logflood/stop?wait=true", null);
        result("crash → RUNNING minus backoff vs spawn + poll health, median", m + " ms", d + " ms", (double) m / d);
        RESULTS.forEach(System.out::println);
    }

    /** One machine-readable line for bench/run: RESULT, label, ours, baseline, ratio (ours / baseline), tab-separated. */
    static void result(String label, String ours, String baseline, double ratio) {
        RESULTS.add(String.join("\t", "RESULT", label, ours, baseline,
                String.format(Locale.ROOT, Math.abs(ratio) < 0.1 ? "%.3f" : "%.2f", ratio)));
    }

    /** plugins.json with the flood plugin added (its config sets how long it floods). */
    static String registry() throws IOException {
        String json = Files.readString(Path.of("plugins/plugins.json"));
        String flood = """
                    {
                      "name": "logflood",
                      "description": "PluginBench: writes log lines as fast as it can",
                      "entrypoint": "python3 bench/logflood.py",
                      "autostart": false,
                      "capabilities": [],
                      "healthcheck": { "path": "/health", "intervalSeconds": 5 },
                      "port": 8095, "portEnv": "BENCH_FLOOD_PORT",
                      "transport": "http",
                      "env": { "FLOOD_DELAY_SECONDS": "1" },
                      "restart": { "maxRestarts": 1000, "backoffBaseMs": %d, "backoffCapMs": %d },
                      "stopGraceSeconds": 2,
                      "startTimeoutSeconds": 20,
                      "configSchema": { "type": "object", "properties": {
                        "floodSeconds": { "type": "number", "minimum": 0, "x-env": "FLOOD_SECONDS" } } }
                    }
                """.formatted(BACKOFF_MS, BACKOFF_MS);
        int end = json.lastIndexOf(']');
        return json.substring(0, end).stripTrailing() + ",\n" + flood + "  ]\n}\n";
    }

    static double rawPipeLinesPerSecond(int seconds) throws Exception {
        ProcessBuilder builder = new ProcessBuilder("python3", "bench/logflood.py");
        builder.environment().put("BASELINE", "1");
        builder.environment().put("FLOOD_SECONDS", String.valueOf(seconds));
        long start = System.nanoTime();
        Process process = builder.start();
        long lines = 0;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream()))) {
            while (out.readLine() != null) {
                lines++;
            }
        }
        process.waitFor();
        return lines / ((System.nanoTime() - start) / 1e9);
    }

    static void floodThroughSocket(double raw) throws Exception {
        AtomicLong delivered = new AtomicLong();
        AtomicLong skipped = new AtomicLong();
        AtomicLong produced = new AtomicLong(-1);
        AtomicLong lastAt = new AtomicLong(System.nanoTime());
        WebSocket socket = HTTP.newWebSocketBuilder().subprotocols("bkg.v1", "bkg.bearer." + token)
                .buildAsync(URI.create(base.replace("http", "ws") + "/ws/plugins/logflood/logs"), new WebSocket.Listener() {
                    final StringBuilder partial = new StringBuilder();

                    @Override
                    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                        partial.append(data);
                        if (last) {
                            String m = partial.toString();
                            partial.setLength(0);
                            lastAt.set(System.nanoTime());
                            if (m.contains("\"type\":\"log\"")) {
                                delivered.incrementAndGet();
                                if (m.contains("flood done lines=")) {
                                    produced.set(Long.parseLong(find(m, "flood done lines=(\\d+)")));
                                }
                            } else if (m.contains("\"type\":\"skipped\"")) {
                                skipped.addAndGet(Long.parseLong(find(m, "\"count\":(\\d+)")));
                            }
                        }
                        ws.request(1);
                        return null;
                    }
                }).join();
        Thread.sleep(500);
        delivered.set(0); // the replayed history of earlier runs does not count
        String status = post("/api/plugins/logflood/start?wait=true", null);
        long pluginPid = Long.parseLong(find(status, "\"pid\":(\\d+)"));
        long managerPid = ProcessHandle.of(pluginPid).flatMap(ProcessHandle::parent).map(ProcessHandle::pid).orElse(-1L);
        long gatewayPid = pidOf("gateway-service/target/quarkus-app");
        long managerBefore = rssKb(managerPid);
        long gatewayBefore = rssKb(gatewayPid);
        long managerMax = managerBefore;
        long gatewayMax = gatewayBefore;
        long start = System.nanoTime();
        while (produced.get() < 0 || System.nanoTime() - lastAt.get() < 2_000_000_000L) {
            if (System.nanoTime() - lastAt.get() > 20_000_000_000L) {
                break; // nothing for 20 s: report what arrived
            }
            Thread.sleep(1000);
            managerMax = Math.max(managerMax, rssKb(managerPid));
            gatewayMax = Math.max(gatewayMax, rssKb(gatewayPid));
        }
        double seconds = (lastAt.get() - start) / 1e9;
        socket.sendClose(WebSocket.NORMAL_CLOSURE, "done");
        System.out.printf("through the gateway socket                  %,.0f lines/s delivered (%,d delivered, %,d skipped "
                + "as too slow, %,d written by the plugin) in %.1f s%n",
                delivered.get() / seconds, delivered.get(), skipped.get(), produced.get(), seconds);
        System.out.printf("ratio delivered/raw %.2f; (delivered + skipped)/written %.3f%n",
                delivered.get() / seconds / raw, (delivered.get() + skipped.get()) / (double) Math.max(1, produced.get()));
        System.out.printf("RSS plugin manager %,d → max %,d KB; gateway %,d → max %,d KB%n",
                managerBefore, managerMax, gatewayBefore, gatewayMax);
        result("log lines/s to one WebSocket vs the script into a plain pipe", String.format(Locale.ROOT, "%,.0f lines/s",
                delivered.get() / seconds), String.format(Locale.ROOT, "%,.0f lines/s", raw), delivered.get() / seconds / raw);
        result("plugin manager RSS, max during the flood vs before", String.format(Locale.ROOT, "%,d KB", managerMax),
                String.format(Locale.ROOT, "%,d KB", managerBefore), managerMax / (double) managerBefore);
        result("gateway RSS, max during the flood vs before", String.format(Locale.ROOT, "%,d KB", gatewayMax),
                String.format(Locale.ROOT, "%,d KB", gatewayBefore), gatewayMax / (double) gatewayBefore);
    }

    static long crashToRunningMs() throws Exception {
        String status = get("/api/plugins/logflood/status");
        if (!status.contains("\"RUNNING\"")) {
            status = post("/api/plugins/logflood/start?wait=true", null);
        }
        long pid = Long.parseLong(find(status, "\"pid\":(\\d+)"));
        long start = System.nanoTime();
        new ProcessBuilder("kill", "-KILL", String.valueOf(pid)).start().waitFor();
        while (true) {
            String now = get("/api/plugins/logflood/status");
            if (now.contains("\"RUNNING\"") && !now.contains("\"pid\":" + pid + ",")) {
                return (System.nanoTime() - start) / 1_000_000;
            }
            Thread.sleep(10);
        }
    }

    static long directSpawnToHealthyMs() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        ProcessBuilder builder = new ProcessBuilder("python3", "bench/logflood.py").redirectOutput(ProcessBuilder.Redirect.DISCARD);
        builder.environment().put("PORT", String.valueOf(port));
        builder.environment().put("FLOOD_SECONDS", "0");
        long start = System.nanoTime();
        Process process = builder.start();
        try {
            HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build();
            while (true) {
                try {
                    if (HTTP.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                        return (System.nanoTime() - start) / 1_000_000;
                    }
                } catch (IOException notYet) {
                    // not listening yet
                }
                Thread.sleep(10);
            }
        } finally {
            process.destroyForcibly().waitFor();
        }
    }

    static void setConfig(String config) throws Exception {
        post("/api/plugins/logflood/config", config);
    }

    static long pidOf(String commandLinePart) throws IOException {
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                try {
                    String cmd = Files.readString(p.resolve("cmdline")).replace('\0', ' ');
                    if (cmd.contains(commandLinePart)) {
                        return Long.parseLong(p.getFileName().toString());
                    }
                } catch (IOException | NumberFormatException ignored) {
                    // not a process, or gone
                }
            }
        }
        return -1;
    }

    static long rssKb(long pid) {
        try {
            return Long.parseLong(find(Files.readString(Path.of("/proc/" + pid + "/status")), "VmRSS:\\s+(\\d+)"));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    static String get(String path) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(base + path)).header("authorization", "Bearer " + token).GET());
    }

    static String post(String path, String json) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path));
        if (token != null) {
            request.header("authorization", "Bearer " + token);
        }
        if (json != null) {
            request.header("content-type", "application/json");
        }
        return send(request.POST(json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json)));
    }

    static String send(HttpRequest.Builder request) throws Exception {
        HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() >= 300) {
            throw new IllegalStateException(request.build().uri() + " → " + response.statusCode() + " " + response.body());
        }
        return response.body();
    }

    static String find(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        if (!m.find()) {
            throw new IllegalStateException("no " + regex + " in " + text);
        }
        return m.group(1);
    }

    static long median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }
}
