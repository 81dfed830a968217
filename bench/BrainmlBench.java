import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * brainml query latency at growing collection sizes (default 10k and 100k documents): a query is
 * one embedding of the query text plus the HNSW search, so its baseline is the same text embedded
 * alone through the same gateway (POST /v1/embeddings), measured interleaved; the difference is what
 * the index costs. Also the indexing rate, the time Train takes to rebuild the index, and what a
 * restart of brainml costs the largest collection: opening its index from disk against rebuilding
 * it from the database (its index folder under $BKG_HOME/index removed while brainml is stopped).
 *
 *   BKG_ADMIN_PASSWORD=pw ./bkg up --detach
 *   java -cp "inference-service/target/quarkus-app/lib/main/*" bench/BrainmlBench.java \
 *        http://127.0.0.1:8080 admin pw [sizes=10000,100000] [queries=200] [existing collection]
 */
public class BrainmlBench {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String[] WORDS = ("the a model service mesh gateway request answer quickly every morning data index vector "
            + "search engine cat dog river mountain city bread coffee music night light system plugin network token batch "
            + "queue memory disk thread core fast small large green blue red old new happy quiet loud garden kitchen").split(" ");

    public static void main(String[] args) throws Exception {
        String base = args[0];
        int[] sizes = Arrays.stream((args.length > 3 ? args[3] : "10000,100000").split(",")).mapToInt(Integer::parseInt).toArray();
        int queries = args.length > 4 ? Integer.parseInt(args[4]) : 200;
        HttpClient http = HttpClient.newHttpClient();
        String token = call(http, "POST", base + "/api/auth/login", null,
                JSON.createObjectNode().put("username", args[1]).put("password", args[2]).toString()).get("token").asText();
        call(http, "POST", base + "/api/plugins/brainml/start", token, "");
        for (int i = 0; !call(http, "GET", base + "/api/plugins/brainml/status", token, null).path("state").asText().equals("RUNNING"); i++) {
            if (i > 120) {
                throw new IllegalStateException("brainml did not start");
            }
            Thread.sleep(1000);
        }
        // a 6th argument names an existing collection to measure as it is (no indexing, no train)
        boolean existing = args.length > 5;
        String collection = existing ? args[5] : "bench-" + System.currentTimeMillis();
        if (!existing) {
            call(http, "POST", base + "/api/brainml/collections", token, "{\"name\":\"" + collection + "\"}");
        }
        Random random = new Random(7);
        int indexed = 0;
        List<String> results = new ArrayList<>();
        System.out.printf("%-10s %14s %12s %12s %12s %12s %10s%n", "documents", "index docs/s", "train s", "query p50",
                "query p99", "embed p50", "memory MB");
        for (int size : sizes) {
            long started = System.nanoTime();
            int before = indexed;
            while (!existing && indexed < size) {
                ObjectNode body = JSON.createObjectNode();
                ArrayNode docs = body.putArray("documents");
                for (int i = 0; i < 512 && indexed < size; i++, indexed++) {
                    docs.addObject().put("id", "d" + indexed).put("text", sentence(random))
                            .put("label", "l" + (indexed % 10)).putObject("metadata").put("shard", String.valueOf(indexed % 4));
                }
                call(http, "POST", base + "/api/brainml/collections/" + collection + "/documents", token, body.toString());
            }
            double indexRate = existing ? 0 : (indexed - before) / ((System.nanoTime() - started) / 1e9);
            started = System.nanoTime();
            JsonNode trained = existing ? JSON.createObjectNode().set("stats", call(http, "GET", base
                    + "/api/brainml/collections/" + collection, token, null))
                    : call(http, "POST", base + "/api/brainml/collections/" + collection + "/train", token, null);
            double trainSeconds = existing ? 0 : (System.nanoTime() - started) / 1e9;
            long[] query = new long[queries];
            long[] embed = new long[queries];
            for (int q = -20; q < queries; q++) { // 20 warm-up rounds, then interleaved
                String text = sentence(random);
                long t0 = System.nanoTime();
                call(http, "POST", base + "/api/brainml/collections/" + collection + "/query", token,
                        JSON.createObjectNode().put("text", text).put("topK", 10).toString());
                long t1 = System.nanoTime();
                call(http, "POST", base + "/v1/embeddings", token, JSON.createObjectNode().put("input", text)
                        .put("encoding_format", "base64").toString());
                long t2 = System.nanoTime();
                if (q >= 0) {
                    query[q] = t1 - t0;
                    embed[q] = t2 - t1;
                }
            }
            Arrays.sort(query);
            Arrays.sort(embed);
            System.out.printf("%-10d %14.0f %12.1f %9.1f ms %9.1f ms %9.1f ms %10.1f%n", size, indexRate, trainSeconds,
                    query[queries / 2] / 1e6, query[queries * 99 / 100] / 1e6, embed[queries / 2] / 1e6,
                    trained.at("/stats/memoryBytes").asLong() / 1e6);
            results.add(result(size + " docs: query p50 vs embedding the text alone", ms(query[queries / 2]),
                    ms(embed[queries / 2]), query[queries / 2] / (double) embed[queries / 2]));
            results.add(result(size + " docs: query p99 vs embedding the text alone", ms(query[queries * 99 / 100]),
                    ms(embed[queries * 99 / 100]), query[queries * 99 / 100] / (double) embed[queries * 99 / 100]));
            if (!existing) {
                results.add(result(size + " docs: indexing rate", String.format(Locale.ROOT, "%.0f docs/s", indexRate), "-", "-"));
                results.add(result(size + " docs: train (rebuild)", String.format(Locale.ROOT, "%.1f s", trainSeconds), "-", "-"));
            }
            results.add(result(size + " docs: index memory", String.format(Locale.ROOT, "%.1f MB",
                    trained.at("/stats/memoryBytes").asLong() / 1e6), "-", "-"));
        }
        Path indexRoot = Path.of(System.getenv().getOrDefault("BKG_HOME", ".bkg"), "index");
        double opened = secondsUntilServing(http, base, token, collection, () -> { });
        double rebuilt = secondsUntilServing(http, base, token, collection, () -> deleteIndexFolders(indexRoot, collection));
        System.out.printf("restart until the collection answers: opened from disk %.1f s, rebuilt from the database %.1f s"
                + " (%.1fx faster)%n", opened, rebuilt, rebuilt / opened);
        results.add(result("restart until the collection answers: index opened from disk vs rebuilt from the database",
                String.format(Locale.ROOT, "%.1f s", opened), String.format(Locale.ROOT, "%.1f s", rebuilt), opened / rebuilt));
        if (!existing) {
            call(http, "DELETE", base + "/api/brainml/collections/" + collection, token, null);
        }
        results.forEach(System.out::println);
    }

    static String ms(long nanos) {
        return String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
    }

    /** One machine-readable line for bench/run: RESULT, label, ours, baseline, ratio (ours / baseline), tab-separated. */
    static String result(String label, String ours, String baseline, double ratio) {
        return result(label, ours, baseline, String.format(Locale.ROOT, Math.abs(ratio) < 0.1 ? "%.3f" : "%.2f", ratio));
    }

    /** A figure without a baseline: "-" as baseline and ratio. */
    static String result(String label, String ours, String baseline, String ratio) {
        return String.join("\t", "RESULT", label, ours, baseline, ratio);
    }

    /** Stops brainml, runs {@code whileStopped}, starts it: seconds from the start until a query answers. */
    static double secondsUntilServing(HttpClient http, String base, String token, String collection, Runnable whileStopped)
            throws Exception {
        call(http, "POST", base + "/api/plugins/brainml/stop?wait=true", token, "");
        whileStopped.run();
        long started = System.nanoTime();
        call(http, "POST", base + "/api/plugins/brainml/start?wait=false", token, "");
        String query = JSON.createObjectNode().put("text", "a quiet garden").put("topK", 10).toString();
        while (true) {
            try {
                call(http, "POST", base + "/api/brainml/collections/" + collection + "/query", token, query);
                return (System.nanoTime() - started) / 1e9;
            } catch (IllegalStateException notYet) { // 503 while starting or rebuilding
                Thread.sleep(200);
            }
        }
    }

    static void deleteIndexFolders(Path root, String collection) {
        try (Stream<Path> folders = Files.list(root)) {
            for (Path folder : folders.filter(f -> f.getFileName().toString().startsWith(collection + "@")).toList()) {
                try (Stream<Path> files = Files.walk(folder)) {
                    for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(file);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String sentence(Random random) {
        int length = 5 + random.nextInt(4);
        StringBuilder s = new StringBuilder();
        for (int w = 0; w < length; w++) {
            s.append(w == 0 ? "" : " ").append(WORDS[random.nextInt(WORDS.length)]);
        }
        return s.toString();
    }

    static JsonNode call(HttpClient http, String method, String url, String token, String json) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).method(method,
                json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) {
            request.header("Content-Type", "application/json");
        }
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2) {
            throw new IllegalStateException(method + " " + url + " answered " + response.statusCode() + ": " + response.body());
        }
        return response.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(response.body());
    }
}
