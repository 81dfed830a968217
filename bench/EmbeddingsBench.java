import java.io.BufferedInputStream;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.ZipFile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;

/**
 * Embeddings per second through the mesh (HTTP client → gateway POST /v1/embeddings → gRPC →
 * inference-service's dynamic batcher → ONNX Runtime) with 1, 8 and 32 concurrent clients, each
 * sending one text per request, against raw ONNX Runtime in-process on the same MiniLM graph and
 * tokenizer with batches of 1, 8 and 32 (the batch the mesh can form from that many clients): raw
 * with ONNX Runtime's defaults (every core on each run), and raw threaded as the mesh runs it (the
 * batch split among one single-threaded run per core, side by side, no arena, no spinning).
 * Runs interleave, so that drift on a noisy machine hits all alike; medians and ratios printed.
 *
 *   BKG_ADMIN_PASSWORD=pw ./bkg up --detach
 *   java -cp "inference-service/target/quarkus-app/lib/main/*" bench/EmbeddingsBench.java \
 *        http://127.0.0.1:8080 admin pw [seconds=10] [runs=3]
 */
public class EmbeddingsBench {

    static final ObjectMapper JSON = new ObjectMapper();
    static final int[] CLIENTS = {1, 8, 32};

    public static void main(String[] args) throws Exception {
        String base = args[0];
        String user = args[1];
        String password = args[2];
        int seconds = args.length > 3 ? Integer.parseInt(args[3]) : 10;
        int runs = args.length > 4 ? Integer.parseInt(args[4]) : 3;
        List<String> corpus = corpus(512);
        HttpClient http = HttpClient.newBuilder().executor(Executors.newFixedThreadPool(8, EmbeddingsBench::daemon)).build();
        String session = post(http, base + "/api/auth/login", null,
                JSON.createObjectNode().put("username", user).put("password", password).toString()).get("token").asText();
        String key = post(http, base + "/api/auth/keys", session,
                "{\"name\":\"embeddings-bench-" + System.nanoTime() + "\",\"scopes\":[\"inference\"],\"rateLimitPerMinute\":1000000}")
                .get("key").asText();

        if (args.length > 5 && args[5].equals("mesh-only")) { // for profiling the mesh alone
            double ownCpu = cpuSeconds(ProcessHandle.current().pid());
            double rate = mesh(base, key, corpus, runs, seconds);
            System.out.printf("mesh, %d clients: %.1f texts/s; the load generator used %.2f CPU-s in %d s%n", runs, rate,
                    cpuSeconds(ProcessHandle.current().pid()) - ownCpu, seconds);
            return;
        }
        Raw raw = new Raw(false);
        Raw split = new Raw(true);
        long inference = inferencePid();
        // warm-up of both (JIT, ORT arenas), not counted
        mesh(base, key, corpus, 8, 5);
        raw.rate(corpus, 8, 5);
        split.rate(corpus, 8, 5);

        Map<Integer, List<Double>> meshRates = new HashMap<>();
        Map<Integer, List<Double>> rawRates = new HashMap<>();
        Map<Integer, List<Double>> splitRates = new HashMap<>();
        Map<Integer, List<Double>> meshPerCpu = new HashMap<>();
        Map<Integer, List<Double>> rawPerCpu = new HashMap<>();
        for (int run = 1; run <= runs; run++) {
            for (int c : CLIENTS) {
                double inferenceCpu = cpuSeconds(inference);
                double m = mesh(base, key, corpus, c, seconds);
                inferenceCpu = cpuSeconds(inference) - inferenceCpu;
                double ownCpu = cpuSeconds(ProcessHandle.current().pid());
                double r = raw.rate(corpus, c, seconds);
                ownCpu = cpuSeconds(ProcessHandle.current().pid()) - ownCpu;
                double sr = split.rate(corpus, c, seconds);
                splitRates.computeIfAbsent(c, k -> new ArrayList<>()).add(sr);
                meshRates.computeIfAbsent(c, k -> new ArrayList<>()).add(m);
                rawRates.computeIfAbsent(c, k -> new ArrayList<>()).add(r);
                meshPerCpu.computeIfAbsent(c, k -> new ArrayList<>()).add(m * seconds / inferenceCpu);
                rawPerCpu.computeIfAbsent(c, k -> new ArrayList<>()).add(r * seconds / ownCpu);
                System.out.printf("run %d, %2d clients / batch %2d: mesh %7.1f texts/s, raw ORT %7.1f texts/s, raw threaded as "
                        + "the mesh %7.1f texts/s; inference-service CPU %.1f s, raw CPU %.1f s%n", run, c, c, m, r, sr,
                        inferenceCpu, ownCpu);
            }
        }
        System.out.printf("%n%-8s %-6s %13s %13s %7s %17s %7s %17s %16s %7s%n", "clients", "batch", "mesh texts/s",
                "raw texts/s", "ratio", "raw as mesh t/s", "ratio", "mesh texts/cpu-s", "raw texts/cpu-s", "ratio");
        List<String> results = new ArrayList<>();
        for (int c : CLIENTS) {
            double m = median(meshRates.get(c));
            double r = median(rawRates.get(c));
            double sr = median(splitRates.get(c));
            double mc = median(meshPerCpu.get(c));
            double rc = median(rawPerCpu.get(c));
            System.out.printf("%-8d %-6d %13.1f %13.1f %7.2f %17.1f %7.2f %17.1f %16.1f %7.2f%n", c, c, m, r, m / r, sr, m / sr,
                    mc, rc, mc / rc);
            results.add(result(c + " clients: mesh vs raw ORT batch " + c + ", texts/s", texts(m, "texts/s"), texts(r, "texts/s"),
                    m / r));
            results.add(result(c + " clients: mesh vs raw ORT threaded as the mesh, texts/s", texts(m, "texts/s"),
                    texts(sr, "texts/s"), m / sr));
            results.add(result(c + " clients: mesh vs raw ORT, texts per CPU-s", texts(mc, "texts/cpu-s"),
                    texts(rc, "texts/cpu-s"), mc / rc));
        }
        System.out.println("(texts/cpu-s: texts per CPU second of inference-service, and of this process while it ran raw ORT:"
                + " how much of the gap is the other processes' share of the cores)");
        results.forEach(System.out::println);
    }

    static String texts(double value, String unit) {
        return String.format(Locale.ROOT, "%.1f %s", value, unit);
    }

    /** One machine-readable line for bench/run: RESULT, label, ours, baseline, ratio (ours / baseline), tab-separated. */
    static String result(String label, String ours, String baseline, double ratio) {
        return String.join("\t", "RESULT", label, ours, baseline,
                String.format(Locale.ROOT, Math.abs(ratio) < 0.1 ? "%.3f" : "%.2f", ratio));
    }

    static Thread daemon(Runnable task) {
        Thread thread = new Thread(task);
        thread.setDaemon(true);
        return thread;
    }

    /**
     * Texts per second that {@code clients} concurrent HTTP clients get, one text per request. Each
     * client is a plain HTTP/1.1 keep-alive socket writing requests rendered before the clock starts
     * and reading each answer whole (status checked, body skipped by its length), so that the load
     * generator takes as little as it can of the two cores it shares with the mesh; base64 answers, as
     * OpenAI's own client asks by default.
     */
    static double mesh(String base, String key, List<String> corpus, int clients, int seconds) throws Exception {
        URI uri = URI.create(base);
        List<byte[]> requests = new ArrayList<>();
        for (String text : corpus) {
            byte[] body = JSON.createObjectNode().put("input", text).put("encoding_format", "base64").toString()
                    .getBytes(StandardCharsets.UTF_8);
            String head = "POST /v1/embeddings HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort()
                    + "\r\nAuthorization: Bearer " + key + "\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length + "\r\n\r\n";
            byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
            byte[] request = Arrays.copyOf(headBytes, headBytes.length + body.length);
            System.arraycopy(body, 0, request, headBytes.length, body.length);
            requests.add(request);
        }
        ExecutorService pool = Executors.newFixedThreadPool(clients, EmbeddingsBench::daemon);
        AtomicLong done = new AtomicLong();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        long started = System.nanoTime();
        List<Future<?>> workers = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int offset = c * 7;
            workers.add(pool.submit(() -> {
                try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
                    socket.setTcpNoDelay(true);
                    var out = socket.getOutputStream();
                    var in = new BufferedInputStream(socket.getInputStream(), 16384);
                    int i = offset;
                    while (System.nanoTime() < end) {
                        out.write(requests.get(i++ % requests.size()));
                        out.flush();
                        readAnswer(in);
                        done.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        for (Future<?> w : workers) {
            w.get();
        }
        pool.shutdown();
        return done.get() / ((System.nanoTime() - started) / 1e9);
    }

    /** Reads one HTTP/1.1 answer with a content-length; fails unless it is 200. */
    static void readAnswer(InputStream in) throws Exception {
        String status = line(in);
        if (!status.startsWith("HTTP/1.1 200")) {
            throw new IllegalStateException("/v1/embeddings answered " + status);
        }
        long length = -1;
        for (String header = line(in); !header.isEmpty(); header = line(in)) {
            if (header.regionMatches(true, 0, "content-length:", 0, 15)) {
                length = Long.parseLong(header.substring(15).trim());
            }
        }
        if (length < 0) {
            throw new IllegalStateException("an answer without content-length");
        }
        // the body is read past, not kept (only the status matters here): stream handling, not a skipped test
        while (length > 0) {
            long passed = in.skip(length);
            if (passed <= 0) {
                throw new IllegalStateException("the connection closed mid-answer");
            }
            length -= passed;
        }
    }

    static String line(InputStream in) throws Exception {
        StringBuilder line = new StringBuilder();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new IllegalStateException("the connection closed");
            }
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return line.toString();
    }

    /**
     * MiniLM in this process: the same graph and tokenizer.json model-service ships, pooled and
     * normalised alike. {@code split}: threaded as inference-service runs it by default — a batch is
     * divided among one single-threaded run per core, side by side; else ONNX Runtime's defaults.
     */
    static final class Raw {
        final OrtEnvironment env = OrtEnvironment.getEnvironment();
        final OrtSession session;
        final HuggingFaceTokenizer tokenizer;
        final int runners;
        final ExecutorService pool;

        Raw(boolean split) throws Exception {
            runners = split ? Runtime.getRuntime().availableProcessors() : 1;
            pool = Executors.newFixedThreadPool(runners, EmbeddingsBench::daemon);
            Path jar;
            try (var files = Files.list(Path.of("model-service/target/quarkus-app/lib/main"))) {
                jar = files.filter(p -> p.getFileName().toString().contains("all-minilm-l6-v2") && !p.toString().contains("-q-"))
                        .findFirst().orElseThrow(() -> new IllegalStateException("build model-service first"));
            }
            Path dir = Files.createTempDirectory("embeddings-bench");
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                for (String name : List.of("all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json")) {
                    try (InputStream in = zip.getInputStream(zip.getEntry(name))) {
                        Files.copy(in, dir.resolve(name));
                    }
                }
            }
            OrtSession.SessionOptions options = new OrtSession.SessionOptions();
            if (split) { // as OrtRuntime.open sets them
                options.setIntraOpNumThreads(1);
                options.setInterOpNumThreads(1);
                options.setCPUArenaAllocator(false);
                options.addConfigEntry("session.intra_op.allow_spinning", "0");
            }
            session = env.createSession(dir.resolve("all-minilm-l6-v2.onnx").toString(), options);
            tokenizer = HuggingFaceTokenizer.newInstance(dir.resolve("all-minilm-l6-v2-tokenizer.json"),
                    Map.of("padding", "false", "truncation", "true", "maxLength", "128"));
        }

        double rate(List<String> corpus, int batch, int seconds) throws Exception {
            long end = System.nanoTime() + seconds * 1_000_000_000L;
            long started = System.nanoTime();
            long texts = 0;
            int i = 0;
            while (System.nanoTime() < end) {
                List<String> texts1 = new ArrayList<>();
                for (int b = 0; b < batch; b++) {
                    texts1.add(corpus.get(i++ % corpus.size()));
                }
                int parts = Math.min(runners, batch);
                List<Future<float[][]>> runs = new ArrayList<>();
                for (int p = 0; p < parts; p++) {
                    List<String> part = texts1.subList(p * batch / parts, (p + 1) * batch / parts);
                    runs.add(pool.submit(() -> embed(part)));
                }
                for (Future<float[][]> run : runs) {
                    run.get();
                }
                texts += batch;
            }
            return texts / ((System.nanoTime() - started) / 1e9);
        }

        float[][] embed(List<String> texts) throws Exception {
            Encoding[] encodings = tokenizer.batchEncode(texts);
            int rows = encodings.length;
            int columns = 0;
            for (Encoding e : encodings) {
                columns = Math.max(columns, e.getIds().length);
            }
            long[] ids = new long[rows * columns];
            long[] mask = new long[rows * columns];
            long[] types = new long[rows * columns];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(encodings[r].getIds(), 0, ids, r * columns, encodings[r].getIds().length);
                System.arraycopy(encodings[r].getAttentionMask(), 0, mask, r * columns, encodings[r].getIds().length);
                System.arraycopy(encodings[r].getTypeIds(), 0, types, r * columns, encodings[r].getIds().length);
            }
            long[] shape = {rows, columns};
            try (OnnxTensor a = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
                    OnnxTensor b = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
                    OnnxTensor c = OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape);
                    OrtSession.Result result = session.run(Map.of("input_ids", a, "attention_mask", b, "token_type_ids", c))) {
                FloatBuffer states = ((OnnxTensor) result.get(0)).getFloatBuffer();
                float[][] out = new float[rows][384];
                for (int r = 0; r < rows; r++) {
                    long[] m = encodings[r].getAttentionMask();
                    int n = 0;
                    for (int t = 0; t < m.length; t++) {
                        if (m[t] == 0) {
                            continue;
                        }
                        n++;
                        for (int d = 0; d < 384; d++) {
                            out[r][d] += states.get((r * columns + t) * 384 + d);
                        }
                    }
                    double norm = 0;
                    for (int d = 0; d < 384; d++) {
                        out[r][d] /= n;
                        norm += out[r][d] * out[r][d];
                    }
                    for (int d = 0; d < 384; d++) {
                        out[r][d] /= (float) Math.sqrt(norm);
                    }
                }
                return out;
            }
        }
    }

    /** Sentences of 8 to 31 words, the same every run. */
    static List<String> corpus(int n) {
        String[] words = ("the a model service mesh gateway request answer quickly slowly every morning data index "
                + "vector search engine cat dog river mountain city bread coffee music night light system plugin "
                + "network token batch queue memory disk thread core fast small large green blue").split(" ");
        Random random = new Random(42);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int length = 8 + random.nextInt(24);
            StringBuilder s = new StringBuilder();
            for (int w = 0; w < length; w++) {
                s.append(w == 0 ? "" : " ").append(words[random.nextInt(words.length)]);
            }
            out.add(s.append('.').toString());
        }
        return out;
    }

    static JsonNode post(HttpClient http, String url, String credential, String json) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        if (credential != null) {
            request.header("Authorization", "Bearer " + credential);
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2) {
            throw new IllegalStateException(url + " answered " + response.statusCode() + ": " + response.body());
        }
        return JSON.readTree(response.body());
    }

    /** The inference-service process serving llmserver (found by its jar on the command line). */
    static long inferencePid() {
        return ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("")
                .contains("inference-service/target/quarkus-app/quarkus-run.jar")).mapToLong(ProcessHandle::pid).findFirst()
                .orElseThrow(() -> new IllegalStateException("no inference-service process here"));
    }

    /** utime + stime of a process, from /proc (clock ticks of 10 ms). */
    static double cpuSeconds(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / 100.0;
    }

    static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }
}
