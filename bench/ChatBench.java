import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.bkg.testsupport.DecoderGraphs;
import dev.bkg.testsupport.HuggingFaceRepoServer;
import dev.bkg.testsupport.LlmTokenizers;

/**
 * Chat generation through the mesh against a raw ONNX Runtime loop in this process, on the same
 * generated graph (issue: tokens/s through the mesh ≥ 0.95 of raw, time to first token at most 10 ms
 * more; aggregate tokens/s with 8 concurrent chats ≥ 3× one chat — continuous batching).
 *
 * <p>The model: a Llama-architecture decoder written by test-support's {@link DecoderGraphs} with
 * random weights — by default hidden 512, 8 layers, 8 heads / 4 key-value heads, MLP 1408, Llama 2's
 * 32,000-token vocabulary (~56 M parameters, a 225 MB graph); {@code hidden,layers} changes the size.
 * It is written once per size under {@code $TMPDIR/bkg-chat-bench/} in the Hugging Face layout with
 * Llama 2's tokenizer.json, and no eos id anywhere (config.json, generation_config.json "{}") and no
 * tokenizer_config.json: so the runtime falls back to ChatML and knows NO end token — every reply,
 * mesh and raw alike, runs to max_tokens whatever the random weights pick. It is published on a
 * local {@link HuggingFaceRepoServer} as repo {@code bench/chat-56m} and pulled through the gateway
 * (POST /api/models/download, kind llm) as model {@code bench-chat} — reused when the catalogue has
 * it already (its graph's sha256 checked against the local one). The mesh must allow downloads from
 * loopback: {@code BKG_MODELS_DOWNLOAD_ALLOWED_HOSTS=127.0.0.1}.
 *
 * <p>Mesh: POST /v1/chat/completions, {@code stream: true, temperature: 0, max_tokens: N}, one user
 * message of ~100 words, on a plain keep-alive HTTP/1.1 socket per client (an API key of scope
 * inference in x-api-key), the server-sent events read off the chunked answer as they come. TTFT =
 * the request written → the first event with non-empty delta.content; tokens/s = (usage's
 * completion_tokens − 1) / (last content event − first content event) — the count is the server's,
 * because tokens whose text is empty (part of a character, a special token) send no event. The
 * server's own timings (time_to_first_token_ms, tokens_per_second) are printed too.
 *
 * <p>Raw: ONNX Runtime with inference-service's session options for chat (OrtRuntime.open: all
 * optimisations, intra-op threads = every core, inter-op 1, no arena, no spinning), the same prompt
 * text as the service renders it (ChatML) tokenized by the same tokenizer.json without added special
 * tokens, prefill (past = zero-length tensors) then one decode step per token feeding present.* back,
 * greedy argmax on the last position's logits, N tokens. TTFT = start (before tokenizing) → first
 * token picked; tokens/s as above.
 *
 * <p>Warm-up 2 of each, then rounds alternating mesh / raw (which goes first alternates too), since a
 * 2-core machine drifts: p50/p99 TTFT, p50 tokens/s, the ratio, the TTFT overhead. Then concurrency:
 * 1 client against 8 concurrent clients (each its own socket, the same request on different prompts),
 * aggregate completion tokens / wall time, and the engine's peakBatch from GET /api/chat/models.
 *
 * <pre>
 *   BKG_MODELS_DOWNLOAD_ALLOWED_HOSTS=127.0.0.1 BKG_ADMIN_PASSWORD=pw ./bkg up --detach
 *   java -cp "test-support/target/classes:inference-service/target/quarkus-app/lib/main/*" bench/ChatBench.java \
 *        http://127.0.0.1:8080 admin pw [rounds=5] [tokens=128] [hidden,layers=512,8]
 *   java -cp ... bench/ChatBench.java raw [tokens=128] [rounds=5] [hidden,layers=512,8]   (the raw loop alone, no mesh)
 * </pre>
 */
public class ChatBench {

    static final ObjectMapper JSON = new ObjectMapper();
    static final int CONCURRENT = 8;
    static final int WARM_UP = 2;
    static final DecoderGraphs.Config DEFAULT = new DecoderGraphs.Config(DecoderGraphs.Architecture.LLAMA,
            LlmTokenizers.LLAMA2_VOCABULARY, 512, 8, 8, 4, 1408, 2048, 1);
    static final List<String> FILES = List.of("onnx/model.onnx", "config.json", "generation_config.json", "tokenizer.json");

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("raw")) {
            rawOnly(args);
            return;
        }
        if (args.length < 3) {
            System.err.println("usage: ChatBench <gateway-url> <admin-user> <admin-password> [rounds=5] [tokens=128] [hidden,layers]\n"
                    + "       ChatBench raw [tokens=128] [rounds=5] [hidden,layers]");
            System.exit(2);
        }
        String base = args[0].replaceAll("/+$", "");
        String user = args[1];
        String password = args[2];
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        int tokens = args.length > 4 ? Integer.parseInt(args[4]) : 128;
        DecoderGraphs.Config config = config(args.length > 5 ? args[5] : null);
        String name = modelName(config);
        String repo = "bench/chat-" + Math.round(config.parameterCount() / 1e6) + "m";
        Path dir = modelDir(config);
        List<String> prompts = prompts(CONCURRENT + 1);

        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        String session = send(http, "POST", base + "/api/auth/login", "Authorization", null,
                JSON.createObjectNode().put("username", user).put("password", password).toString(), 200).get("token").asText();
        JsonNode created = send(http, "POST", base + "/api/auth/keys", "Authorization", session,
                "{\"name\":\"chat-bench-" + System.currentTimeMillis() + "\",\"scopes\":[\"inference\"],\"rateLimitPerMinute\":1000000}",
                200, 201);
        String key = created.get("key").asText();
        String keyId = created.path("id").asText("");
        List<MeshClient> clients = new ArrayList<>();
        try (HuggingFaceRepoServer hub = new HuggingFaceRepoServer(); Raw raw = new Raw(dir, config)) {
            hub.publish(repo, dir);
            ensureModel(http, base, session, hub, repo, name, dir);
            URI uri = URI.create(base);
            for (int c = 0; c < CONCURRENT; c++) {
                clients.add(new MeshClient(uri.getHost(), uri.getPort() < 0 ? 80 : uri.getPort()));
            }
            List<byte[]> requests = new ArrayList<>();
            for (String prompt : prompts) {
                requests.add(request(uri, key, name, prompt, tokens));
            }
            int promptTokens = raw.promptTokens(prompts.get(0));
            if (promptTokens + tokens > config.maxPositions()) {
                throw new IllegalArgumentException("prompt " + promptTokens + " + " + tokens + " tokens exceed the context of "
                        + config.maxPositions());
            }
            System.out.printf("model %s: LLAMA, vocabulary %d, hidden %d, %d layers, %d heads / %d kv heads, MLP %d, "
                    + "%.1f M parameters; prompt %d tokens (ChatML), %d tokens per reply, %d rounds; %d cores%n", name,
                    config.vocabSize(), config.hidden(), config.layers(), config.heads(), config.kvHeads(),
                    config.intermediate(), config.parameterCount() / 1e6, promptTokens, tokens, rounds,
                    Runtime.getRuntime().availableProcessors());

            // warm-up (the first request loads the model into inference-service), then the same-work check
            MeshReply meshCheck = null;
            RawRun rawCheck = null;
            for (int i = 0; i < WARM_UP; i++) {
                meshCheck = clients.get(0).chat(requests.get(0));
                rawCheck = raw.generate(prompts.get(0), tokens);
            }
            String rawText = raw.decode(rawCheck.tokens);
            System.out.printf("same work: prompt tokens mesh %d, raw %d; completion tokens mesh %d, raw %d (finish %s); "
                    + "reply text %s%n", meshCheck.promptTokens, rawCheck.promptTokens, meshCheck.completionTokens,
                    rawCheck.tokens.length, meshCheck.finishReason, meshCheck.text.equals(rawText) ? "identical"
                            : "differs at char " + firstDifference(meshCheck.text, rawText)
                                    + " (text only: the stream detokenizes piece by piece, which may differ where bytes do not form characters)");
            if (meshCheck.promptTokens != rawCheck.promptTokens || meshCheck.completionTokens != rawCheck.tokens.length) {
                System.out.println("WARNING: the mesh and the raw loop do not do the same work (prompt or reply length differs)");
            }

            List<Double> meshTtft = new ArrayList<>();
            List<Double> rawTtft = new ArrayList<>();
            List<Double> meshRate = new ArrayList<>();
            List<Double> rawRate = new ArrayList<>();
            List<Double> serverTtft = new ArrayList<>();
            List<Double> serverRate = new ArrayList<>();
            for (int round = 1; round <= rounds; round++) {
                MeshReply m;
                RawRun r;
                if (round % 2 == 1) {
                    m = clients.get(0).chat(requests.get(0));
                    r = raw.generate(prompts.get(0), tokens);
                } else {
                    r = raw.generate(prompts.get(0), tokens);
                    m = clients.get(0).chat(requests.get(0));
                }
                meshTtft.add(m.ttftMs);
                meshRate.add(m.tokensPerSecond());
                serverTtft.add((double) m.serverTtftMs);
                serverRate.add(m.serverTokensPerSecond);
                rawTtft.add(r.ttftMs);
                rawRate.add(r.tokensPerSecond());
                System.out.printf("round %d: mesh TTFT %7.1f ms, %7.1f tokens/s (server: TTFT %d ms, %.1f tokens/s); "
                        + "raw TTFT %7.1f ms, %7.1f tokens/s%n", round, m.ttftMs, m.tokensPerSecond(), m.serverTtftMs,
                        m.serverTokensPerSecond, r.ttftMs, r.tokensPerSecond());
            }

            // concurrency: one chat against eight at once (different prompts), aggregate completion tokens / wall time
            concurrent(clients, requests, CONCURRENT); // warm-up of the batched paths
            List<Double> one = new ArrayList<>();
            List<Double> eight = new ArrayList<>();
            for (int round = 1; round <= rounds; round++) {
                double a = concurrent(clients, requests, 1);
                double b = concurrent(clients, requests, CONCURRENT);
                one.add(a);
                eight.add(b);
                System.out.printf("concurrency round %d: 1 client %7.1f tokens/s, %d clients %7.1f tokens/s aggregate (%.2f×)%n",
                        round, a, CONCURRENT, b, b / a);
            }
            JsonNode chatModels = send(http, "GET", base + "/api/chat/models", "x-api-key", key, null, 200);
            String peakBatch = "?";
            for (JsonNode m : chatModels.path("models")) {
                if (m.path("name").asText().equals(name)) {
                    peakBatch = m.has("peakBatch") ? m.get("peakBatch").asText() : "(not loaded)";
                }
            }

            double mt = median(meshRate);
            double rt = median(rawRate);
            double overhead = median(meshTtft) - median(rawTtft);
            double gain = median(eight) / median(one);
            System.out.printf("%n== ChatBench: %s, %.1f M parameters, prompt %d tokens, %d tokens per reply, %d rounds ==%n", name,
                    config.parameterCount() / 1e6, promptTokens, tokens, rounds);
            System.out.printf("%-34s %12s %12s%n", "", "mesh", "raw ORT");
            System.out.printf("%-34s %12.1f %12.1f%n", "TTFT p50 (ms)", median(meshTtft), median(rawTtft));
            System.out.printf("%-34s %12.1f %12.1f%n", "TTFT p99 (ms)", percentile(meshTtft, 0.99), percentile(rawTtft, 0.99));
            System.out.printf("%-34s %12.1f %12.1f%n", "tokens/s p50", mt, rt);
            System.out.printf("%-34s %12.1f%n", "server's TTFT p50 (ms)", median(serverTtft));
            System.out.printf("%-34s %12.1f%n", "server's tokens/s p50", median(serverRate));
            System.out.printf("tokens/s mesh / raw:                %.3f   (goal ≥ 0.95: %s)%n", mt / rt, mt / rt >= 0.95 ? "met" : "NOT met");
            System.out.printf("TTFT overhead mesh − raw, p50:      %.1f ms (goal < 10 ms: %s)%n", overhead,
                    overhead < 10 ? "met" : "NOT met");
            System.out.printf("aggregate tokens/s, 1 client:       %.1f%n", median(one));
            System.out.printf("aggregate tokens/s, %d clients:      %.1f%n", CONCURRENT, median(eight));
            System.out.printf("continuous batching gain:           %.2f× (goal ≥ 3×: %s); peakBatch %s%n", gain,
                    gain >= 3 ? "met" : "NOT met", peakBatch);
            result("tokens/s p50, mesh vs raw ORT", figure(mt, "tokens/s"), figure(rt, "tokens/s"), mt / rt);
            result("TTFT p50, mesh vs raw ORT", figure(median(meshTtft), "ms"), figure(median(rawTtft), "ms"),
                    median(meshTtft) / median(rawTtft));
            result("TTFT p99, mesh vs raw ORT", figure(percentile(meshTtft, 0.99), "ms"), figure(percentile(rawTtft, 0.99), "ms"),
                    percentile(meshTtft, 0.99) / percentile(rawTtft, 0.99));
            result("aggregate tokens/s, " + CONCURRENT + " concurrent chats vs 1 (peakBatch " + peakBatch + ")",
                    figure(median(eight), "tokens/s"), figure(median(one), "tokens/s"), gain);
        } finally {
            for (MeshClient c : clients) {
                c.close();
            }
            if (!keyId.isEmpty()) {
                try {
                    send(http, "DELETE", base + "/api/auth/keys/" + keyId, "Authorization", session, null, 200, 204);
                } catch (Exception e) {
                    System.err.println("could not revoke the bench's API key " + keyId + ": " + e.getMessage());
                }
            }
        }
    }

    /** {@code raw [tokens] [rounds] [hidden,layers]}: the in-process loop alone, no mesh. */
    static void rawOnly(String[] args) throws Exception {
        int tokens = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        DecoderGraphs.Config config = config(args.length > 3 ? args[3] : null);
        Path dir = modelDir(config);
        String prompt = prompts(1).get(0);
        try (Raw raw = new Raw(dir, config)) {
            int promptTokens = raw.promptTokens(prompt);
            System.out.printf("raw ORT: LLAMA, hidden %d, %d layers, %.1f M parameters; prompt %d tokens, %d tokens per reply, "
                    + "%d rounds; intra-op threads %d%n", config.hidden(), config.layers(), config.parameterCount() / 1e6,
                    promptTokens, tokens, rounds, Runtime.getRuntime().availableProcessors());
            RawRun check = null;
            for (int i = 0; i < WARM_UP; i++) {
                check = raw.generate(prompt, tokens);
            }
            String text = raw.decode(check.tokens);
            System.out.printf("reply (greedy, random weights): %s%n", text.length() > 80 ? text.substring(0, 80) + "…" : text);
            List<Double> ttft = new ArrayList<>();
            List<Double> rate = new ArrayList<>();
            for (int round = 1; round <= rounds; round++) {
                RawRun r = raw.generate(prompt, tokens);
                ttft.add(r.ttftMs);
                rate.add(r.tokensPerSecond());
                System.out.printf("round %d: raw TTFT %7.1f ms, %7.1f tokens/s%n", round, r.ttftMs, r.tokensPerSecond());
            }
            System.out.printf("%n== ChatBench raw: TTFT p50 %.1f ms, p99 %.1f ms; tokens/s p50 %.1f ==%n", median(ttft),
                    percentile(ttft, 0.99), median(rate));
            System.out.println(String.join("\t", "RESULT", "raw ORT TTFT p50", figure(median(ttft), "ms"), "-", "-"));
            System.out.println(String.join("\t", "RESULT", "raw ORT tokens/s p50", figure(median(rate), "tokens/s"), "-", "-"));
        }
    }

    static String figure(double value, String unit) {
        return String.format(Locale.ROOT, "%.1f %s", value, unit);
    }

    /** One machine-readable line for bench/run: RESULT, label, ours, baseline, ratio (ours / baseline), tab-separated. */
    static void result(String label, String ours, String baseline, double ratio) {
        System.out.println(String.join("\t", "RESULT", label, ours, baseline,
                String.format(Locale.ROOT, Math.abs(ratio) < 0.1 ? "%.3f" : "%.2f", ratio)));
    }

    // ------------------------------------------------------------------------------------------ model

    /** The default ~56 M model, or {@code hidden,layers} with head size 64, half as many kv heads, MLP 2.75 × hidden. */
    static DecoderGraphs.Config config(String size) {
        if (size == null) {
            return DEFAULT;
        }
        String[] parts = size.split(",");
        int hidden = Integer.parseInt(parts[0].trim());
        int layers = parts.length > 1 ? Integer.parseInt(parts[1].trim()) : DEFAULT.layers();
        if (hidden % 64 != 0) {
            throw new IllegalArgumentException("hidden must be a multiple of 64 (the head size)");
        }
        int heads = hidden / 64;
        int kvHeads = heads % 2 == 0 ? heads / 2 : heads;
        int intermediate = (int) Math.round(hidden * 2.75 / 32) * 32;
        return new DecoderGraphs.Config(DecoderGraphs.Architecture.LLAMA, LlmTokenizers.LLAMA2_VOCABULARY, hidden, layers, heads,
                kvHeads, intermediate, DEFAULT.maxPositions(), DEFAULT.seed());
    }

    static String modelName(DecoderGraphs.Config c) {
        return c.equals(DEFAULT) ? "bench-chat" : "bench-chat-h" + c.hidden() + "-l" + c.layers();
    }

    /**
     * The model's Hugging Face folder, written once per size (the graph is deterministic from the
     * seed, so a folder written before is the same graph): onnx/model.onnx, config.json and
     * generation_config.json without eos ids, Llama 2's tokenizer.json and no tokenizer_config.json
     * — ChatML, and no end token: every reply runs to max_tokens.
     */
    static Path modelDir(DecoderGraphs.Config c) throws IOException {
        Path root = Path.of(System.getProperty("java.io.tmpdir"), "bkg-chat-bench");
        Path dir = root.resolve("llama-v" + c.vocabSize() + "-h" + c.hidden() + "-l" + c.layers() + "-a" + c.heads() + "-kv"
                + c.kvHeads() + "-i" + c.intermediate() + "-p" + c.maxPositions() + "-s" + c.seed());
        if (Files.isRegularFile(dir.resolve("onnx/model.onnx"))) {
            return dir;
        }
        long t0 = System.nanoTime();
        Path partial = Files.createDirectories(root).resolve(dir.getFileName() + ".partial-" + ProcessHandle.current().pid());
        byte[] onnx = DecoderGraphs.build(c);
        DecoderGraphs.writeRepo(partial, onnx, DecoderGraphs.configJson(c, null, null), "{}", LlmTokenizers.tokenizerJson("llama2"),
                null);
        try {
            Files.move(partial, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            if (!Files.isRegularFile(dir.resolve("onnx/model.onnx"))) { // not another run's folder that got there first
                throw e;
            }
        }
        System.out.printf("wrote the graph (%.1f M parameters, %d MB) to %s in %.1f s%n", c.parameterCount() / 1e6,
                onnx.length >> 20, dir, (System.nanoTime() - t0) / 1e9);
        return dir;
    }

    /**
     * Makes sure the catalogue has the model READY: reused when a model of that name is there with
     * the same graph, else pulled from the local hub through the gateway's Hugging Face download.
     */
    static void ensureModel(HttpClient http, String base, String session, HuggingFaceRepoServer hub, String repo, String name,
            Path dir) throws Exception {
        String id = find(http, base, session, name);
        if (id == null) {
            String body = JSON.createObjectNode().put("name", name).put("kind", "llm").set("huggingFace", JSON.createObjectNode()
                    .put("repo", repo).put("endpoint", hub.endpoint()).set("files", JSON.valueToTree(FILES))).toString();
            HttpResponse<String> started = http.send(HttpRequest.newBuilder(URI.create(base + "/api/models/download"))
                    .header("Authorization", "Bearer " + session).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            if (started.statusCode() == 409) { // created in between
                id = find(http, base, session, name);
            } else if (started.statusCode() / 100 != 2) {
                throw new IllegalStateException("POST /api/models/download answered " + started.statusCode() + ": " + started.body());
            } else {
                id = JSON.readTree(started.body()).get("modelId").asText();
                System.out.printf("pulling %s from %s/%s through the gateway (model %s)%n", name, hub.endpoint(), repo, id);
            }
        } else {
            System.out.printf("reusing model %s (%s) from the catalogue%n", name, id);
        }
        long t0 = System.nanoTime();
        long deadline = t0 + Duration.ofMinutes(10).toNanos();
        String last = "";
        while (true) {
            JsonNode model = send(http, "GET", base + "/api/models/" + id, "Authorization", session, null, 200);
            String status = model.path("status").asText();
            if (!status.equals(last)) {
                System.out.printf("  %s after %.1f s%n", status, (System.nanoTime() - t0) / 1e9);
                last = status;
            }
            if (status.equals("READY")) {
                checkSameGraph(model, dir);
                return;
            }
            if (status.equals("FAILED") || System.nanoTime() > deadline) {
                throw new IllegalStateException("model " + name + " is " + status + ": " + model.path("statusMessage").asText(""));
            }
            Thread.sleep(250);
        }
    }

    static String find(HttpClient http, String base, String session, String name) throws Exception {
        for (JsonNode m : send(http, "GET", base + "/api/models", "Authorization", session, null, 200).path("models")) {
            if (m.path("name").asText().equals(name)) {
                return m.get("id").asText();
            }
        }
        return null;
    }

    /** The catalogue's graph must be the local one, or raw and mesh would not run the same model. */
    static void checkSameGraph(JsonNode model, Path dir) throws Exception {
        Path graph = dir.resolve("onnx/model.onnx");
        for (JsonNode file : model.path("files")) {
            if (file.path("name").asText().endsWith("model.onnx")) {
                String theirs = file.path("sha256").asText("");
                boolean same = theirs.isEmpty() ? file.path("sizeBytes").asLong() == Files.size(graph)
                        : theirs.equalsIgnoreCase(sha256(graph));
                if (!same) {
                    throw new IllegalStateException("model " + model.path("name").asText() + " (" + model.path("id").asText()
                            + ") in the catalogue is another graph than " + graph + "; delete it (DELETE /api/models/"
                            + model.path("id").asText() + "?force=true) or give other sizes");
                }
                return;
            }
        }
        throw new IllegalStateException("model " + model.path("name").asText() + " has no model.onnx: " + model.path("files"));
    }

    static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 20];
            for (int n = in.read(buffer); n > 0; n = in.read(buffer)) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** ~100-word user messages, the same every run. */
    static List<String> prompts(int n) {
        String[] words = ("the a model service mesh gateway request answer quickly slowly every morning data index vector search "
                + "engine cat dog river mountain city bread coffee music night light system plugin network token batch queue "
                + "memory disk thread core fast small large green blue write explain why how when story about old new friend "
                + "garden window letter summer winter train station").split(" ");
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Random random = new Random(1000 + i);
            StringBuilder s = new StringBuilder("Please write a short story about");
            for (int w = 0; w < 94; w++) {
                s.append(' ').append(words[random.nextInt(words.length)]);
                if (w % 15 == 14) {
                    s.append('.');
                }
            }
            out.add(s.append('.').toString());
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------- mesh

    static byte[] request(URI uri, String key, String model, String prompt, int tokens) {
        var body = JSON.createObjectNode().put("model", model).put("stream", true).put("temperature", 0).put("max_tokens", tokens);
        body.putArray("messages").addObject().put("role", "user").put("content", prompt);
        byte[] json = body.toString().getBytes(StandardCharsets.UTF_8);
        byte[] head = ("POST /v1/chat/completions HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort() + "\r\nx-api-key: " + key
                + "\r\nContent-Type: application/json\r\nContent-Length: " + json.length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        byte[] request = Arrays.copyOf(head, head.length + json.length);
        System.arraycopy(json, 0, request, head.length, json.length);
        return request;
    }

    /** One streamed reply as the client saw it. */
    record MeshReply(long writtenNanos, double ttftMs, long firstContentNanos, long lastContentNanos, long endNanos,
            int promptTokens, int completionTokens, long serverTtftMs, double serverTokensPerSecond, String finishReason,
            String text) {

        double tokensPerSecond() {
            return lastContentNanos > firstContentNanos ? (completionTokens - 1) * 1e9 / (lastContentNanos - firstContentNanos) : 0;
        }
    }

    /** A plain HTTP/1.1 keep-alive connection to the gateway: little work on the client's side. */
    static final class MeshClient implements AutoCloseable {
        final String host;
        final int port;
        Socket socket;
        OutputStream out;
        InputStream in;

        MeshClient(String host, int port) throws IOException {
            this.host = host;
            this.port = port;
            connect();
        }

        void connect() throws IOException {
            close();
            socket = new Socket(host, port);
            socket.setTcpNoDelay(true);
            out = socket.getOutputStream();
            in = new BufferedInputStream(socket.getInputStream(), 16384);
        }

        MeshReply chat(byte[] request) throws Exception {
            for (int attempt = 0; ; attempt++) {
                try {
                    return exchange(request);
                } catch (Closed e) { // the gateway closed the idle connection: once more on a new one
                    if (attempt > 0) {
                        throw e;
                    }
                    connect();
                }
            }
        }

        private MeshReply exchange(byte[] request) throws Exception {
            String status;
            long written;
            try {
                out.write(request);
                out.flush();
                written = System.nanoTime();
                status = line(in);
            } catch (IOException e) { // a broken pipe or a reset: the connection was closed while idle
                throw new Closed();
            }
            if (status == null) {
                throw new Closed();
            }
            long length = -1;
            boolean chunked = false;
            boolean close = false;
            for (String header = line(in); header != null && !header.isEmpty(); header = line(in)) {
                String lower = header.toLowerCase(java.util.Locale.ROOT);
                if (lower.startsWith("content-length:")) {
                    length = Long.parseLong(header.substring(15).trim());
                } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                    chunked = true;
                } else if (lower.startsWith("connection:") && lower.contains("close")) {
                    close = true;
                }
            }
            InputStream body = chunked ? new Chunked(in) : length >= 0 ? new Bounded(in, length) : in;
            if (!status.startsWith("HTTP/1.1 200")) {
                String text = new String(body.readAllBytes(), StandardCharsets.UTF_8);
                connect();
                throw new IllegalStateException("/v1/chat/completions answered " + status + ": " + text);
            }
            double ttft = -1;
            long first = 0;
            long last = 0;
            boolean done = false;
            JsonNode end = null;
            StringBuilder text = new StringBuilder();
            for (String event = line(body); event != null; event = line(body)) {
                if (!event.startsWith("data:")) {
                    continue; // the blank line between events (or a comment)
                }
                String data = event.substring(5).trim();
                if (data.equals("[DONE]")) {
                    done = true;
                    continue; // read on to the end of the chunked body, so that the connection can be used again
                }
                long now = System.nanoTime();
                JsonNode json = JSON.readTree(data);
                if (json.has("error")) {
                    throw new IllegalStateException("the stream failed: " + json.get("error"));
                }
                JsonNode choice = json.path("choices").path(0);
                String content = choice.path("delta").path("content").asText("");
                if (!content.isEmpty()) {
                    if (first == 0) {
                        first = now;
                        ttft = (now - written) / 1e6;
                    }
                    last = now;
                    text.append(content);
                }
                if (json.has("usage") && !choice.path("finish_reason").isNull()) {
                    end = json;
                }
            }
            long endNanos = System.nanoTime();
            if (close || !chunked && length < 0) {
                connect();
            }
            if (!done || end == null) {
                throw new IllegalStateException("the stream ended without usage and [DONE]");
            }
            return new MeshReply(written, ttft, first, last, endNanos, end.path("usage").path("prompt_tokens").asInt(),
                    end.path("usage").path("completion_tokens").asInt(), end.path("timings").path("time_to_first_token_ms").asLong(),
                    end.path("timings").path("tokens_per_second").asDouble(),
                    end.path("choices").path(0).path("finish_reason").asText(), text.toString());
        }

        @Override
        public void close() {
            if (socket != null) {
                try {
                    socket.close();
                } catch (IOException e) {
                    // closing a connection that is gone already: nothing to do
                }
            }
        }
    }

    /** The connection was closed before an answer began. */
    static final class Closed extends IOException {
        private static final long serialVersionUID = 1L;

        Closed() {
            super("the connection closed before the answer");
        }
    }

    /** A chunked body (RFC 9112 §7.1): the chunks' data, then -1 after the last chunk and its trailers. */
    static final class Chunked extends InputStream {
        private final InputStream in;
        private long left;
        private boolean started;
        private boolean ended;

        Chunked(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            if (ended) {
                return -1;
            }
            if (left == 0) {
                if (started && !"".equals(line(in))) { // the CRLF after a chunk's data
                    throw new IOException("a chunk does not end with CRLF");
                }
                started = true;
                String size = line(in);
                if (size == null) {
                    throw new IOException("the connection closed mid-answer");
                }
                int extension = size.indexOf(';');
                left = Long.parseLong((extension < 0 ? size : size.substring(0, extension)).trim(), 16);
                if (left == 0) {
                    for (String trailer = line(in); trailer != null && !trailer.isEmpty(); trailer = line(in)) {
                        // trailers: none expected, skipped
                    }
                    ended = true;
                    return -1;
                }
            }
            int b = in.read();
            if (b < 0) {
                throw new IOException("the connection closed mid-chunk");
            }
            left--;
            return b;
        }
    }

    /** A body of a known length. */
    static final class Bounded extends InputStream {
        private final InputStream in;
        private long left;

        Bounded(InputStream in, long length) {
            this.in = in;
            this.left = length;
        }

        @Override
        public int read() throws IOException {
            if (left <= 0) {
                return -1;
            }
            int b = in.read();
            if (b < 0) {
                throw new IOException("the connection closed mid-answer");
            }
            left--;
            return b;
        }
    }

    /** One line (UTF-8, without CR LF); null at the end of the stream before any byte. */
    static String line(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(256);
        int b = in.read();
        if (b < 0) {
            return null;
        }
        for (; b != '\n' && b >= 0; b = in.read()) {
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.UTF_8);
    }

    /**
     * {@code clients} chats at once, client c on prompt c (client 0 alone: prompt 0), released together:
     * aggregate completion tokens / wall time from the release to the last [DONE].
     */
    static double concurrent(List<MeshClient> clients, List<byte[]> requests, int n) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n, r -> {
            Thread t = new Thread(r, "chat-client");
            t.setDaemon(true);
            return t;
        });
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<MeshReply>> replies = new ArrayList<>();
            for (int c = 0; c < n; c++) {
                MeshClient client = clients.get(c);
                byte[] request = requests.get(n == 1 ? 0 : c + 1);
                replies.add(pool.submit(() -> {
                    go.await();
                    return client.chat(request);
                }));
            }
            long start = System.nanoTime();
            go.countDown();
            long tokens = 0;
            long end = start;
            for (Future<MeshReply> f : replies) {
                MeshReply reply = f.get();
                tokens += reply.completionTokens;
                end = Math.max(end, reply.endNanos);
            }
            return tokens * 1e9 / (end - start);
        } finally {
            pool.shutdown();
        }
    }

    // -------------------------------------------------------------------------------------------- raw

    /** One raw generation: the prompt's length, the tokens picked and the times. */
    record RawRun(int promptTokens, long[] tokens, double ttftMs, long firstNanos, long lastNanos) {
        double tokensPerSecond() {
            return lastNanos > firstNanos ? (tokens.length - 1) * 1e9 / (lastNanos - firstNanos) : 0;
        }
    }

    /** The greedy decode loop on ONNX Runtime in this process, set up as inference-service sets up a chat model. */
    static final class Raw implements AutoCloseable {
        final OrtEnvironment env = OrtEnvironment.getEnvironment();
        final OrtSession session;
        final HuggingFaceTokenizer tokenizer;
        final int layers;
        final int kvHeads;
        final int headDim;

        Raw(Path dir, DecoderGraphs.Config config) throws Exception {
            layers = config.layers();
            kvHeads = config.kvHeads();
            headDim = config.headDim();
            try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) { // as OrtRuntime.open(graph, threads)
                options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                options.setIntraOpNumThreads(Runtime.getRuntime().availableProcessors()); // chat: every core
                options.setCPUArenaAllocator(false);
                options.setInterOpNumThreads(1);
                options.addConfigEntry("session.intra_op.allow_spinning", "0");
                session = env.createSession(dir.resolve("onnx/model.onnx").toString(), options);
            }
            // as ChatModel.load: the chat template writes any special tokens itself
            tokenizer = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"),
                    Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"));
        }

        /** The prompt as the runtime's ChatML fallback renders one user message, ready for the reply. */
        static String chatml(String user) {
            return "<|im_start|>user\n" + user + "<|im_end|>\n<|im_start|>assistant\n";
        }

        int promptTokens(String user) {
            return tokenizer.encode(chatml(user)).getIds().length;
        }

        String decode(long[] ids) {
            return tokenizer.decode(ids, true);
        }

        RawRun generate(String user, int n) throws OrtException {
            long start = System.nanoTime();
            long[] prompt = tokenizer.encode(chatml(user)).getIds();
            long[] picked = new long[n];
            long first = 0;
            long last = 0;
            OnnxTensor[] keys = null;
            OnnxTensor[] values = null;
            int cached = 0;
            try {
                for (int step = 0; step < n; step++) {
                    long[] ids = step == 0 ? prompt : new long[] {picked[step - 1]};
                    long[] positions = new long[ids.length];
                    for (int i = 0; i < ids.length; i++) {
                        positions[i] = cached + i;
                    }
                    long[] mask = new long[cached + ids.length];
                    Arrays.fill(mask, 1);
                    List<OnnxTensor> made = new ArrayList<>();
                    OrtSession.Result result;
                    try {
                        Map<String, OnnxTensor> inputs = new HashMap<>();
                        inputs.put("input_ids", keep(made, OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {1, ids.length})));
                        inputs.put("attention_mask", keep(made, OnnxTensor.createTensor(env, LongBuffer.wrap(mask),
                                new long[] {1, mask.length})));
                        inputs.put("position_ids", keep(made, OnnxTensor.createTensor(env, LongBuffer.wrap(positions),
                                new long[] {1, ids.length})));
                        OnnxTensor empty = keys == null ? keep(made, OnnxTensor.createTensor(env, ByteBuffer.allocateDirect(0),
                                new long[] {1, kvHeads, 0, headDim}, OnnxJavaType.FLOAT)) : null;
                        for (int layer = 0; layer < layers; layer++) {
                            inputs.put("past_key_values." + layer + ".key", keys == null ? empty : keys[layer]);
                            inputs.put("past_key_values." + layer + ".value", values == null ? empty : values[layer]);
                        }
                        result = session.run(inputs);
                    } finally {
                        made.forEach(OnnxTensor::close);
                    }
                    OnnxTensor[] nextKeys = new OnnxTensor[layers];
                    OnnxTensor[] nextValues = new OnnxTensor[layers];
                    try {
                        FloatBuffer logits = ((OnnxTensor) result.get("logits").orElseThrow()).getFloatBuffer();
                        int vocab = logits.capacity() / ids.length;
                        float[] row = new float[vocab];
                        logits.get((ids.length - 1) * vocab, row, 0, vocab);
                        picked[step] = argmax(row);
                        long now = System.nanoTime();
                        if (step == 0) {
                            first = now;
                        }
                        last = now;
                        for (int layer = 0; layer < layers; layer++) {
                            nextKeys[layer] = (OnnxTensor) result.get("present." + layer + ".key").orElseThrow();
                            nextValues[layer] = (OnnxTensor) result.get("present." + layer + ".value").orElseThrow();
                        }
                    } finally {
                        for (Map.Entry<String, OnnxValue> output : result) {
                            if (!output.getKey().startsWith("present.")) {
                                output.getValue().close();
                            }
                        }
                    }
                    close(keys);
                    close(values);
                    keys = nextKeys;
                    values = nextValues;
                    cached += ids.length;
                }
            } finally {
                close(keys);
                close(values);
            }
            return new RawRun(prompt.length, picked, (first - start) / 1e6, first, last);
        }

        static OnnxTensor keep(List<OnnxTensor> made, OnnxTensor tensor) {
            made.add(tensor);
            return tensor;
        }

        static void close(OnnxTensor[] tensors) {
            if (tensors != null) {
                for (OnnxTensor t : tensors) {
                    if (t != null) {
                        t.close();
                    }
                }
            }
        }

        static int argmax(float[] logits) {
            int best = 0;
            for (int i = 1; i < logits.length; i++) {
                if (logits[i] > logits[best]) {
                    best = i;
                }
            }
            return best;
        }

        @Override
        public void close() throws OrtException {
            session.close();
            tokenizer.close();
        }
    }

    // ------------------------------------------------------------------------------------------ helpers

    static JsonNode send(HttpClient http, String method, String url, String header, String credential, String json,
            int... expected) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) {
            request.header("Content-Type", "application/json");
        }
        if (credential != null) {
            request.header(header, header.equals("Authorization") ? "Bearer " + credential : credential);
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (Arrays.stream(expected).noneMatch(s -> s == response.statusCode())) {
            throw new IllegalStateException(method + " " + url + " answered " + response.statusCode() + ": " + response.body());
        }
        return response.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(response.body());
    }

    static int firstDifference(String a, String b) {
        int n = Math.min(a.length(), b.length());
        for (int i = 0; i < n; i++) {
            if (a.charAt(i) != b.charAt(i)) {
                return i;
            }
        }
        return n;
    }

    static double median(List<Double> values) {
        return percentile(values, 0.5);
    }

    /** Nearest rank: with few rounds p99 is the largest. */
    static double percentile(List<Double> values, double p) {
        List<Double> sorted = values.stream().sorted().toList();
        int rank = (int) Math.ceil(p * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }
}
