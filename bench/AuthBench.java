import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What authentication costs at the gateway (issue #3). Against a running mesh:
 *
 *   BKG_ADMIN_PASSWORD=... ./bkg up --detach
 *   java bench/AuthBench.java http://127.0.0.1:8080 admin "$BKG_ADMIN_PASSWORD" [requests]
 *
 * Side by side, in one run, sequential requests on one keep-alive connection:
 *  - baseline: GET /q/health/live (no authentication at all);
 *  - cached:   GET /api/auth/me with an API key the gateway has validated before (cache hit);
 *  - uncached: the first request of each of many fresh keys (gateway → gRPC → auth-service → PostgreSQL).
 * Prints p50/p99 in microseconds and the ratios to the baseline.
 */
public class AuthBench {

    public static void main(String[] args) throws Exception {
        String base = args.length > 0 ? args[0] : "http://127.0.0.1:8080";
        String user = args.length > 1 ? args[1] : "admin";
        String password = args.length > 2 ? args[2] : System.getenv("BKG_ADMIN_PASSWORD");
        int n = args.length > 3 ? Integer.parseInt(args[3]) : 2000;
        HttpClient http = HttpClient.newHttpClient();

        String session = field(post(http, base + "/api/auth/login", null,
                "{\"username\":\"" + user + "\",\"password\":\"" + password + "\"}"), "token");
        int freshKeys = Math.min(n, 300);
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < freshKeys + 1; i++) {
            keys.add(field(post(http, base + "/api/auth/keys", session,
                    "{\"name\":\"bench-" + i + "\",\"scopes\":[\"inference\"],\"rateLimitPerMinute\":1000000}"), "key"));
        }
        String hot = keys.remove(0);

        for (int i = 0; i < 300; i++) { // warm up both paths
            get(http, base + "/q/health/live", null);
            get(http, base + "/api/auth/me", hot);
        }
        long[] baseline = new long[n];
        long[] cached = new long[n];
        for (int i = 0; i < n; i++) { // interleaved, so that drift on a noisy machine hits both alike
            baseline[i] = get(http, base + "/q/health/live", null);
            cached[i] = get(http, base + "/api/auth/me", hot);
        }
        long[] uncached = new long[keys.size()];
        for (int i = 0; i < keys.size(); i++) {
            uncached[i] = get(http, base + "/api/auth/me", keys.get(i));
        }
        System.out.printf("%-34s %7s %10s %10s%n", "path", "n", "p50 us", "p99 us");
        row("baseline GET /q/health/live", baseline);
        row("cached key GET /api/auth/me", cached);
        row("uncached key GET /api/auth/me", uncached);
        System.out.printf("cached/baseline p50 = %.2fx, uncached/baseline p50 = %.2fx; cached auth overhead p50 = %d us%n",
                pct(cached, 50) / (double) pct(baseline, 50), pct(uncached, 50) / (double) pct(baseline, 50),
                (pct(cached, 50) - pct(baseline, 50)) / 1000);
        result("cached API key p50 vs no auth", us(pct(cached, 50)), us(pct(baseline, 50)),
                pct(cached, 50) / (double) pct(baseline, 50));
        result("cached API key p99 vs no auth", us(pct(cached, 99)), us(pct(baseline, 99)),
                pct(cached, 99) / (double) pct(baseline, 99));
        result("uncached API key p50 vs no auth", us(pct(uncached, 50)), us(pct(baseline, 50)),
                pct(uncached, 50) / (double) pct(baseline, 50));
    }

    static String us(long nanos) {
        return nanos / 1000 + " us";
    }

    /** One machine-readable line for bench/run: RESULT, label, ours, baseline, ratio (ours / baseline), tab-separated. */
    static void result(String label, String ours, String baseline, double ratio) {
        System.out.println(String.join("\t", "RESULT", label, ours, baseline,
                String.format(Locale.ROOT, Math.abs(ratio) < 0.1 ? "%.3f" : "%.2f", ratio)));
    }

    static void row(String name, long[] nanos) {
        System.out.printf("%-34s %7d %10d %10d%n", name, nanos.length, pct(nanos, 50) / 1000, pct(nanos, 99) / 1000);
    }

    static long pct(long[] nanos, int p) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    static long get(HttpClient http, String url, String credential) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).GET();
        if (credential != null) {
            request.header("Authorization", "Bearer " + credential);
        }
        long start = System.nanoTime();
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        long took = System.nanoTime() - start;
        if (response.statusCode() != 200) {
            throw new IllegalStateException(url + " answered " + response.statusCode() + ": " + response.body());
        }
        return took;
    }

    static String post(HttpClient http, String url, String credential, String json) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        if (credential != null) {
            request.header("Authorization", "Bearer " + credential);
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2) {
            throw new IllegalStateException(url + " answered " + response.statusCode() + ": " + response.body());
        }
        return response.body();
    }

    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]+)\"").matcher(json);
        if (!m.find()) {
            throw new IllegalStateException("no " + name + " in " + json);
        }
        return m.group(1);
    }
}
