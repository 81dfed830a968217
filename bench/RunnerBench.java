import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.bkg.testsupport.LocalFileServer;
import dev.bkg.testsupport.RunnerTestModels;

/**
 * The model runner (plugin candle) through the mesh, against its baselines (issue 16's closing figures).
 *
 * <p>overhead: one tiny graph (test-support's affine map, x [1, 3] → y [1, 2]; installed through the
 * gateway's download from a local file server as model {@code bench-affine}, reused when there) —
 * {@code POST /v2/models/bench-affine/infer} with a JSON body (gateway → gRPC → candle → ONNX
 * Runtime → back, an API key of scope inference, one keep-alive HTTP/1.1 connection of the JDK's
 * client), against {@code session.run} of the same graph bytes in this process (ONNX Runtime's
 * default options). Rounds alternate mesh / raw; p50 and p99 in µs of each and the overhead.
 *
 * <p>int8: MiniLM quantised through {@code POST /api/candle/models/all-minilm-l6-v2/quantize} (as
 * {@code all-minilm-l6-v2-int8}, reused when there; its report printed), then texts/s of
 * {@code POST /v1/embeddings} with that model against the fp32 one: 8 concurrent clients, 8 texts a
 * request, rounds alternating — the throughput ratio int8 / fp32.
 */
public class RunnerBench {

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    /** The machine-readable figures, printed at the end for bench/run. */
    static final List<String> RESULTS = new ArrayList<>();

    /** One machine-readable line for bench/run: RESULT, label, ours, baseline, ratio (ours / baseline), tab-separated. */
    static void result(String label, String ours, String baseline, double ratio) {
        RESULTS.add(String.join("\t", "RESULT", label, ours, baseline,
                String.format(Locale.ROOT, Math.abs(ratio) < 0.1 ? "%.3f" : "%.2f", ratio)));
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: RunnerBench <gateway url> <user> <password> [requests per round (2000)] [rounds (3)]");
            System.exit(2);
        }
        String base = args[0];
        int requests = args.length > 3 ? Integer.parseInt(args[3]) : 2000;
        int rounds = args.length > 4 ? Integer.parseInt(args[4]) : 3;
        String session = JSON.readTree(send(base, "POST", "/api/auth/login", null,
                "{\"username\":\"" + args[1] + "\",\"password\":\"" + args[2] + "\"}").body()).get("token").asText();
        String key = JSON.readTree(send(base, "POST", "/api/auth/keys", session,
                "{\"name\":\"runner-bench-" + System.currentTimeMillis() + "\",\"scopes\":[\"inference\"],\"rateLimitPerMinute\":1000000}").body()).get("key").asText();
        installAffine(base, session);
        waitForCandle(base, key);
        overhead(base, key, requests, rounds);
        int8(base, session, key, rounds);
        RESULTS.forEach(System.out::println);
    }

    static void overhead(String base, String key, int requests, int rounds) throws Exception {
        String body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[1,2,3]}]}";
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(RunnerTestModels.affineGraph(), new OrtSession.SessionOptions())) {
            for (int i = 0; i < 200; i++) {
                mesh(base, key, body);
                raw(env, session);
            }
            List<Long> meshUs = new ArrayList<>();
            List<Long> rawUs = new ArrayList<>();
            for (int round = 0; round < rounds; round++) {
                for (int i = 0; i < requests; i++) {
                    long t = System.nanoTime();
                    mesh(base, key, body);
                    meshUs.add((System.nanoTime() - t) / 1000);
                }
                for (int i = 0; i < requests; i++) {
                    long t = System.nanoTime();
                    raw(env, session);
                    rawUs.add((System.nanoTime() - t) / 1000);
                }
            }
            long m50 = pct(meshUs, 50);
            long r50 = pct(rawUs, 50);
            System.out.printf("overhead (tiny graph, %d x %d requests): mesh /v2 infer p50 %d µs p99 %d µs; in-process ORT p50 %d µs"
                    + " p99 %d µs; overhead p50 %d µs (%.1fx)%n", rounds, requests, m50, pct(meshUs, 99), r50, pct(rawUs, 99),
                    m50 - r50, (double) m50 / r50);
            result("/v2 infer of a tiny graph p50, mesh vs in-process ORT", m50 + " µs", r50 + " µs", (double) m50 / r50);
            result("/v2 infer of a tiny graph p99, mesh vs in-process ORT", pct(meshUs, 99) + " µs", pct(rawUs, 99) + " µs",
                    (double) pct(meshUs, 99) / pct(rawUs, 99));
        }
    }

    static void mesh(String base, String key, String body) throws Exception {
        HttpResponse<String> reply = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v2/models/bench-affine/infer"))
                .header("x-api-key", key).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        if (reply.statusCode() != 200 || !reply.body().contains("22.5")) {
            throw new IllegalStateException("infer answered " + reply.statusCode() + ": " + reply.body());
        }
    }

    static void raw(OrtEnvironment env, OrtSession session) throws Exception {
        try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(new float[] {1, 2, 3}), new long[] {1, 3});
                OrtSession.Result result = session.run(Map.of("x", x))) {
            if (((float[][]) result.get(0).getValue())[0][0] != 22.5f) {
                throw new IllegalStateException("raw run gave a wrong answer");
            }
        }
    }

    static void int8(String base, String session, String key, int rounds) throws Exception {
        HttpResponse<String> models = send(base, "GET", "/api/models", session, null);
        if (!models.body().contains("\"all-minilm-l6-v2-int8\"")) {
            HttpResponse<String> report = send(base, "POST", "/api/candle/models/all-minilm-l6-v2/quantize", key, "{}");
            System.out.println("quantize: " + report.statusCode() + " " + report.body());
        }
        List<String> texts = List.of("A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby.",
                "A man is riding a horse.", "A woman is playing violin.", "Two men pushed carts through the woods.",
                "A monkey is playing drums.", "The quick brown fox jumps over the lazy dog.");
        for (String model : List.of("all-minilm-l6-v2", "all-minilm-l6-v2-int8")) {
            throughput(base, key, model, texts, 3); // warm-up, and the first load
        }
        double fp32 = 0;
        double int8 = 0;
        for (int round = 0; round < rounds; round++) {
            fp32 += throughput(base, key, "all-minilm-l6-v2", texts, 10);
            int8 += throughput(base, key, "all-minilm-l6-v2-int8", texts, 10);
        }
        System.out.printf("embeddings, 8 clients x 8 texts: fp32 %.0f texts/s, int8 %.0f texts/s, int8/fp32 %.2f%n",
                fp32 / rounds, int8 / rounds, int8 / fp32);
        result("embeddings texts/s, 8 clients x 8 texts, MiniLM int8 vs fp32", String.format(Locale.ROOT, "%.0f texts/s",
                int8 / rounds), String.format(Locale.ROOT, "%.0f texts/s", fp32 / rounds), int8 / fp32);
    }

    /** Texts/s of 8 clients each sending {@code each} requests of 8 texts. */
    static double throughput(String base, String key, String model, List<String> texts, int each) throws Exception {
        String body = JSON.writeValueAsString(Map.of("model", model, "input", texts, "encoding_format", "base64"));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        long started = System.nanoTime();
        List<Future<?>> clients = new ArrayList<>();
        for (int c = 0; c < 8; c++) {
            clients.add(pool.submit(() -> {
                for (int i = 0; i < each; i++) {
                    HttpResponse<String> reply = send(base, "POST", "/v1/embeddings", key, body);
                    if (reply.statusCode() != 200) {
                        throw new IllegalStateException("embeddings answered " + reply.statusCode() + ": " + reply.body());
                    }
                }
                return null;
            }));
        }
        for (Future<?> client : clients) {
            client.get();
        }
        pool.shutdown();
        return 8.0 * each * texts.size() / ((System.nanoTime() - started) / 1e9);
    }

    static void installAffine(String base, String session) throws Exception {
        if (send(base, "GET", "/api/models", session, null).body().contains("\"bench-affine\"")) {
            return;
        }
        LocalFileServer files = new LocalFileServer();
        files.serve("/bench-affine.onnx", RunnerTestModels.affineGraph());
        JsonNode started = JSON.readTree(send(base, "POST", "/api/models/download", session, JSON.writeValueAsString(
                Map.of("name", "bench-affine", "kind", "generic", "url", files.url("/bench-affine.onnx")))).body());
        String id = started.get("modelId").asText();
        for (int i = 0; i < 600; i++) {
            String status = JSON.readTree(send(base, "GET", "/api/models/" + id, session, null).body()).path("status").asText();
            if (status.equals("READY")) {
                files.close();
                return;
            }
            if (!status.equals("DOWNLOADING")) {
                throw new IllegalStateException("bench-affine is " + status);
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("bench-affine did not install");
    }

    /** candle starts on demand: the first calls answer 503 while it starts. */
    static void waitForCandle(String base, String key) throws Exception {
        for (int i = 0; i < 300; i++) {
            if (send(base, "GET", "/v2/models/bench-affine", key, null).statusCode() == 200) {
                return;
            }
            Thread.sleep(1000);
        }
        throw new IllegalStateException("candle did not start");
    }

    static HttpResponse<String> send(String base, String method, String path, String credential, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofMinutes(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (credential != null) {
            request.header(credential.startsWith("bkg_") ? "x-api-key" : "Authorization",
                    credential.startsWith("bkg_") ? credential : "Bearer " + credential);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    static long pct(List<Long> values, int percentile) {
        long[] sorted = values.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(percentile / 100.0 * sorted.length) - 1)];
    }
}
