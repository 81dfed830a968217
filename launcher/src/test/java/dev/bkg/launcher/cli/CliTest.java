package dev.bkg.launcher.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * The CLI's parsing and printing against a fake gateway on loopback (the real gateway's side is
 * exercised by the integration tests): login, pull with its NDJSON progress, streamed chat (an
 * event and a character split across writes), ps, models, keys, and refusals.
 */
class CliTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String PASSWORD = "s3cret";
    static final String TOKEN = "bkgs_token1";

    @TempDir
    Path home;

    HttpServer server;
    String url;
    final AtomicInteger logins = new AtomicInteger();
    final List<String> seen = new CopyOnWriteArrayList<>();
    final Map<String, JsonNode> bodies = new ConcurrentHashMap<>();
    final List<JsonNode> chatBodies = new CopyOnWriteArrayList<>();
    final AtomicInteger modelPolls = new AtomicInteger();
    volatile String modelFinalStatus = "READY";
    volatile String chatScript = "hello";

    final Map<String, String> env = new HashMap<>();
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void fakeGateway() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.start();
        url = "http://127.0.0.1:" + server.getAddress().getPort();
        env.put("BKG_URL", url);
        env.put("BKG_ADMIN_PASSWORD", PASSWORD);
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    // ---- the commands

    @Test
    void pullPostsTheHuggingFaceLayoutFollowsTheProgressAndWaitsUntilReady() {
        int code = run(false, false, "", "pull", "onnx-community/Qwen2.5-0.5B-Instruct@main");

        assertEquals(0, code, err());
        JsonNode body = bodies.get("POST /api/models/download");
        assertEquals("qwen2.5-0.5b-instruct", body.get("name").asText());
        assertEquals("llm", body.get("kind").asText());
        JsonNode hf = body.get("huggingFace");
        assertEquals("onnx-community/Qwen2.5-0.5B-Instruct", hf.get("repo").asText());
        assertEquals("main", hf.get("revision").asText());
        assertFalse(hf.has("endpoint"));
        assertEquals(List.of("onnx/model.onnx", "config.json", "generation_config.json", "tokenizer.json",
                "tokenizer_config.json"), texts(hf.get("files")));
        assertEquals(1, logins.get());
        assertTrue(seen.contains("GET /api/models/m-1/progress Bearer " + TOKEN), seen.toString());

        String printed = out();
        assertTrue(printed.startsWith("pulling onnx-community/Qwen2.5-0.5B-Instruct@main as qwen2.5-0.5b-instruct\n"), printed);
        // not a terminal: a line per 10 % step, none redrawn
        assertFalse(printed.contains("\r"), printed);
        assertTrue(printed.contains("pulling onnx/model.onnx    0%  0.0/29.0 MB"), printed);
        assertTrue(printed.contains("pulling onnx/model.onnx   41%  12.0/29.0 MB  3.1 MB/s"), printed);
        assertTrue(printed.contains("pulling tokenizer.json   96%  28.0/29.0 MB"), printed);
        assertTrue(printed.contains("verifying"), printed);
        assertTrue(printed.endsWith("ready: qwen2.5-0.5b-instruct (29.0 MB)\n"), printed);
        // 41 % and 45 % are the same step: one line for both
        assertFalse(printed.contains("45%"), printed);
        assertTrue(modelPolls.get() >= 2, "polled until READY");
    }

    @Test
    void pullOnATerminalRedrawsOneBarAndEndsTheLine() {
        int code = run(false, true, "", "pull", "org/Tiny", "--name", "tiny", "--file", "model.onnx", "--file",
                "tokenizer.json", "--endpoint", "http://hf.local");

        assertEquals(0, code, err());
        JsonNode body = bodies.get("POST /api/models/download");
        assertEquals("tiny", body.get("name").asText());
        assertFalse(body.get("huggingFace").has("revision"));
        assertEquals("http://hf.local", body.get("huggingFace").get("endpoint").asText());
        assertEquals(List.of("model.onnx", "tokenizer.json"), texts(body.get("huggingFace").get("files")));
        String printed = out();
        assertTrue(printed.contains("\rpulling onnx/model.onnx  [############------------------]   41%  12.0/29.0 MB  3.1 MB/s\033[K"),
                printed);
        assertTrue(printed.contains("\rpulled tokenizer.json  [##############################]  100%  29.0/29.0 MB\033[K\n"), printed);
    }

    @Test
    void pullTakesTheEndpointFromTheEnvironmentAndTheGraphFromOnnx() {
        env.put("BKG_HF_ENDPOINT", "http://mirror.local");
        assertEquals(0, run(false, false, "", "pull", "org/Model", "--onnx", "onnx/model_quantized.onnx"), err());
        JsonNode hf = bodies.get("POST /api/models/download").get("huggingFace");
        assertEquals("http://mirror.local", hf.get("endpoint").asText());
        assertEquals("onnx/model_quantized.onnx", hf.get("files").get(0).asText());
        assertEquals(5, hf.get("files").size());
    }

    @Test
    void aFailedPullPrintsTheModelsStatusMessage() {
        modelFinalStatus = "FAILED";
        int code = run(false, false, "", "pull", "org/Broken");
        assertEquals(1, code);
        assertTrue(err().contains("bkg: broken is failed: tokenizer.json: 404 Not Found"), err());
    }

    @Test
    void chatWithAPromptStreamsTheReplyAndPrintsTheStatistics() {
        chatScript = "split";
        int code = run(false, false, "", "chat", "tiny", "Say hi", "--temperature", "0.2", "--max-tokens", "64",
                "--system", "Be brief.");

        assertEquals(0, code, err());
        // "é" reached the client in two writes, its two bytes apart, and an event was split mid-line
        assertEquals("Héllo, wörld!\n", out());
        assertEquals("(12 tokens, 35.2 tokens/s, first token 84 ms)\n", err());
        JsonNode body = chatBodies.get(0);
        assertEquals("tiny", body.get("model").asText());
        assertTrue(body.get("stream").asBoolean());
        assertEquals(0.2, body.get("temperature").asDouble(), 1e-9);
        assertEquals(64, body.get("max_tokens").asInt());
        assertEquals("[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Say hi\"}]",
                body.get("messages").toString());
    }

    @Test
    void chatReadsAWholePipedInputAsOneMessage() {
        int code = run(false, false, "first line\nsecond line\n", "chat", "tiny");
        assertEquals(0, code, err());
        assertEquals("Hello there\n", out());
        assertEquals("[{\"role\":\"user\",\"content\":\"first line\\nsecond line\"}]",
                chatBodies.get(0).get("messages").toString());
    }

    @Test
    void interactiveChatKeepsTheConversationClearsItAndEndsOnBye() {
        int code = run(true, true, "Hi\nMore please\n/clear\nAgain\n/bye\nnever sent\n", "chat", "tiny");

        assertEquals(0, code, err());
        assertEquals(3, chatBodies.size());
        assertEquals("[{\"role\":\"user\",\"content\":\"Hi\"}]", chatBodies.get(0).get("messages").toString());
        assertEquals("[{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\",\"content\":\"Hello there\"},"
                + "{\"role\":\"user\",\"content\":\"More please\"}]", chatBodies.get(1).get("messages").toString());
        assertEquals("[{\"role\":\"user\",\"content\":\"Again\"}]", chatBodies.get(2).get("messages").toString());
        String printed = out();
        assertTrue(printed.startsWith(">>> Hello there\n\n>>> Hello there\n\n>>> Cleared session context\n>>> Hello there\n\n>>> "),
                printed);
        // a terminal: the statistics line is dim
        assertTrue(err().contains("\033[2m(12 tokens, 35.2 tokens/s, first token 84 ms)\033[0m"), err());
    }

    @Test
    void interactiveChatEndsAtTheEndOfInputAndTakesAMessageOverSeveralLines() {
        int code = run(true, false, "\"\"\"line one\nline two\"\"\"\n", "chat", "tiny");
        assertEquals(0, code, err());
        assertEquals("[{\"role\":\"user\",\"content\":\"line one\\nline two\"}]", chatBodies.get(0).get("messages").toString());
        assertTrue(out().endsWith(">>> \n"), out());
    }

    @Test
    void chatWithoutAChatModelPrintsTheProblemDetailAndExitsOne() {
        chatScript = "409";
        int code = run(true, false, "Hi\n", "chat", "tiny");
        assertEquals(1, code);
        assertTrue(err().contains("bkg: no chat model is installed: pull one: ./bkg pull onnx-community/Qwen2.5-0.5B-Instruct"),
                err());
    }

    @Test
    void anErrorEventAfterTheFirstTokenIsPrintedAndFailsAOneShotChat() {
        chatScript = "error";
        int code = run(false, false, "", "chat", "tiny", "Hi");
        assertEquals(1, code);
        assertEquals("Hel\n", out());
        assertTrue(err().contains("bkg: the model ran out of memory"), err());
    }

    @Test
    void anErrorInAnInteractiveChatLeavesThePromptForTheNextMessage() {
        chatScript = "error-then-ok";
        int code = run(true, false, "Hi\nHi again\n", "chat", "tiny");
        assertEquals(0, code, err());
        assertTrue(err().contains("bkg: the model ran out of memory"), err());
        // the failed message is not part of the conversation
        assertEquals("[{\"role\":\"user\",\"content\":\"Hi again\"}]", chatBodies.get(1).get("messages").toString());
    }

    @Test
    void psShowsTheLoadedModelsOnly() {
        assertEquals(0, run(false, false, "", "ps"), err());
        List<String> lines = out().lines().toList();
        assertEquals(2, lines.size(), out());
        assertTrue(lines.get(0).matches("NAME\\s+ID\\s+SIZE\\s+PROCESSOR\\s+CONTEXT\\s+UNTIL\\s+ACTIVE/QUEUED"), lines.get(0));
        assertTrue(lines.get(1).matches("qwen2\\.5-0\\.5b-instruct \\(default\\)\\s+0123456789ab\\s+1\\.2 GB\\s+CPU\\s+32768\\s+"
                + "4 minutes from now\\s+1/2"), lines.get(1));
        // the columns line up
        assertEquals(lines.get(0).indexOf("UNTIL"), lines.get(1).indexOf("4 minutes"));
        assertEquals(lines.get(0).indexOf("ACTIVE/QUEUED"), lines.get(1).indexOf("1/2"));
    }

    @Test
    void psWithNothingLoadedPrintsTheHeaderOnly() {
        chatScript = "nothing-loaded";
        assertEquals(0, run(false, false, "", "ps"), err());
        assertEquals("NAME   ID   SIZE   PROCESSOR   CONTEXT   UNTIL   ACTIVE/QUEUED\n", out());
    }

    @Test
    void modelsListsTheCatalog() {
        assertEquals(0, run(false, false, "", "models", "--kind", "llm"), err());
        assertTrue(seen.contains("GET /api/models?kind=llm Bearer " + TOKEN), seen.toString());
        List<String> lines = out().lines().toList();
        assertEquals(3, lines.size(), out());
        assertTrue(lines.get(0).matches("NAME\\s+ID\\s+KIND\\s+STATUS\\s+SIZE\\s+SOURCE"), lines.get(0));
        assertTrue(lines.get(1).matches("qwen2\\.5-0\\.5b-instruct\\s+0123456789ab\\s+llm\\s+ready\\s+29\\.0 MB\\s+"
                + "hf://onnx-community/Qwen2\\.5-0\\.5B-Instruct"), lines.get(1));
        assertTrue(lines.get(2).matches("e5-small\\s+m-2\\s+embedding\\s+downloading\\s+-\\s+https://example\\.org/e5\\.onnx"),
                lines.get(2));
    }

    @Test
    void keysCreateListAndRevoke() {
        assertEquals(0, run(false, false, "", "keys", "create", "ci", "--scopes", "inference, models:read",
                "--expires-days", "30"), err());
        JsonNode body = bodies.get("POST /api/auth/keys");
        assertEquals("ci", body.get("name").asText());
        assertEquals(List.of("inference", "models:read"), texts(body.get("scopes")));
        Instant expires = Instant.parse(body.get("expiresAt").asText());
        assertTrue(Math.abs(ChronoUnit.HOURS.between(Instant.now().plus(30, ChronoUnit.DAYS), expires)) < 1, expires.toString());
        // the key alone on standard output, the warning on standard error
        assertEquals("bkg_k1_full_secret\n", out());
        assertTrue(err().contains("created key k-1 \"ci\" (scopes inference, models:read; expires "), err());
        assertTrue(err().contains("shown only once"), err());

        reset();
        assertEquals(0, run(false, false, "", "keys", "list"), err());
        List<String> lines = out().lines().toList();
        assertEquals(3, lines.size(), out());
        assertTrue(lines.get(0).matches("ID\\s+NAME\\s+PREFIX\\s+SCOPES\\s+OWNER\\s+CREATED\\s+EXPIRES\\s+LAST USED\\s+STATE"),
                lines.get(0));
        assertTrue(lines.get(1).matches("k-1\\s+ci\\s+bkg_k1\\s+inference,models:read\\s+admin\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+"
                + "\\d{4}-.*never\\s+active"), lines.get(1));
        assertTrue(lines.get(2).matches("k-2\\s+old\\s+bkg_k2\\s+admin\\s+admin\\s+.*never\\s+.*revoked"), lines.get(2));

        reset();
        assertEquals(0, run(false, false, "", "keys", "revoke", "k-1"), err());
        assertTrue(seen.contains("DELETE /api/auth/keys/k-1 Bearer " + TOKEN), seen.toString());
        assertEquals("revoked key k-1 \"ci\"\n", out());
        // one login for the three commands: the session is kept under BKG_HOME
        assertEquals(1, logins.get());
        assertTrue(Files.exists(home.resolve("run/cli-session")));
    }

    @Test
    void keysCreateWithoutScopesAsksForChatAndModels() {
        assertEquals(0, run(false, false, "", "keys", "create", "laptop"), err());
        assertEquals(List.of("inference", "models:read"), texts(bodies.get("POST /api/auth/keys").get("scopes")));
        assertFalse(bodies.get("POST /api/auth/keys").has("expiresAt"));
    }

    @Test
    void anApiKeyIsSentAsIsAndNobodyLogsIn() {
        env.put("BKG_API_KEY", "bkg_apikey");
        assertEquals(0, run(false, false, "", "ps"), err());
        assertEquals(0, logins.get());
        assertTrue(seen.contains("GET /api/chat/models key bkg_apikey"), seen.toString());
    }

    @Test
    void theAdminPasswordComesFromTheFileTheFirstStartWrote() throws IOException {
        env.remove("BKG_ADMIN_PASSWORD");
        Files.writeString(home.resolve("admin-password"), PASSWORD + "\n");
        assertEquals(0, run(false, false, "", "ps"), err());
        assertEquals(1, logins.get());
    }

    @Test
    void aWrongPasswordIsRefusedWithTheProblemDetail() {
        env.put("BKG_ADMIN_PASSWORD", "wrong");
        assertEquals(1, run(false, false, "", "models"));
        assertTrue(err().contains("bkg: logging in as admin failed: wrong username or password"), err());
    }

    @Test
    void aKeptSessionThatStoppedWorkingIsReplacedOnce() throws IOException {
        Files.createDirectories(home.resolve("run"));
        Files.writeString(home.resolve("run/cli-session"), url + "\nbkgs_stale\n2099-01-01T00:00:00Z\n");
        assertEquals(0, run(false, false, "", "models"), err());
        assertEquals(1, logins.get());
        assertTrue(seen.contains("GET /api/models Bearer bkgs_stale"), seen.toString());
        assertTrue(seen.contains("GET /api/models Bearer " + TOKEN), seen.toString());
    }

    @Test
    void withoutARunningMeshTheCommandsExitThree() {
        env.remove("BKG_URL");
        int code = Cli.run(List.of("ps"), context(false, false, "", Optional.empty()));
        assertEquals(3, code);
        assertTrue(err().contains("bkg: no mesh is running under " + home + "; start it with ./bkg up"), err());
        assertEquals(0, logins.get());
    }

    @Test
    void theRunningMeshsGatewayIsUsedWhenBkgUrlIsUnset() {
        env.remove("BKG_URL");
        int code = Cli.run(List.of("ps"), context(false, false, "", Optional.of(url + "/")));
        assertEquals(0, code, err());
    }

    @Test
    void aGatewayThatDoesNotAnswerExitsThree() {
        env.put("BKG_URL", "http://127.0.0.1:1");
        assertEquals(3, run(false, false, "", "ps"));
        assertTrue(err().contains("cannot reach the gateway at http://127.0.0.1:1"), err());
    }

    @Test
    void usageErrorsExitTwo() {
        assertEquals(2, run(false, false, "", "pull"));
        assertEquals(2, run(false, false, "", "pull", "org/model@"));
        assertEquals(2, run(false, false, "", "chat", "tiny", "--max-tokens", "many"));
        assertEquals(2, run(false, false, "", "chat", "tiny", "--bogus"));
        assertEquals(2, run(false, false, "", "keys"));
        assertEquals(2, run(false, false, "", "keys", "create"));
        assertEquals(0, logins.get());
    }

    // ---- plumbing

    int run(boolean inputTerminal, boolean outputTerminal, String stdin, String... args) {
        return Cli.run(List.of(args), context(inputTerminal, outputTerminal, stdin, Optional.empty()));
    }

    CliContext context(boolean inputTerminal, boolean outputTerminal, String stdin, Optional<String> running) {
        return new CliContext(Map.copyOf(env), home, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                inputTerminal, outputTerminal, () -> running);
    }

    void reset() {
        out.reset();
        err.reset();
    }

    String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(n -> texts.add(n.asText()));
        return texts;
    }

    // ---- the fake gateway

    private void handle(HttpExchange http) throws IOException {
        try (http) {
            String method = http.getRequestMethod();
            String path = http.getRequestURI().getRawPath()
                    + (http.getRequestURI().getRawQuery() == null ? "" : "?" + http.getRequestURI().getRawQuery());
            byte[] raw = http.getRequestBody().readAllBytes();
            JsonNode body = raw.length == 0 ? null : JSON.readTree(raw);
            String route = method + " " + path;
            if (route.equals("POST /api/auth/login")) {
                logins.incrementAndGet();
                if (!body.path("username").asText().equals("admin") || !body.path("password").asText().equals(PASSWORD)) {
                    problem(http, 401, "Unauthorized", "wrong username or password");
                    return;
                }
                json(http, 200, "{\"token\":\"" + TOKEN + "\",\"expiresAt\":\"2099-01-01T00:00:00Z\",\"username\":\"admin\","
                        + "\"admin\":true,\"scopes\":[\"admin\"]}");
                return;
            }
            String auth = http.getRequestHeaders().getFirst("authorization");
            String key = http.getRequestHeaders().getFirst("x-api-key");
            seen.add(route + (key != null ? " key " + key : " " + auth));
            if (!("Bearer " + TOKEN).equals(auth) && key == null) {
                problem(http, 401, "Unauthorized", "a valid API key or session is required");
                return;
            }
            if (body != null) {
                bodies.put(route, body);
            }
            switch (route) {
                case "POST /api/models/download" -> json(http, 202, "{\"jobId\":\"j-1\",\"modelId\":\"m-1\",\"joinedExisting\":false,"
                        + "\"progress\":\"/ws/models/m-1/progress\"}");
                case "GET /api/models/m-1/progress" -> progress(http);
                case "GET /api/models/m-1" -> {
                    String status = modelPolls.incrementAndGet() < 2 ? "DOWNLOADING" : modelFinalStatus;
                    json(http, 200, "{\"id\":\"m-1\",\"name\":\"" + bodies.get("POST /api/models/download").get("name").asText()
                            + "\",\"kind\":\"llm\",\"status\":\"" + status + "\",\"totalSizeBytes\":29000000,"
                            + "\"statusMessage\":" + (status.equals("FAILED") ? "\"tokenizer.json: 404 Not Found\"" : "null") + "}");
                }
                case "GET /api/models", "GET /api/models?kind=llm" -> json(http, 200, "{\"models\":["
                        + "{\"id\":\"0123456789abcdef\",\"name\":\"qwen2.5-0.5b-instruct\",\"kind\":\"llm\",\"status\":\"READY\","
                        + "\"totalSizeBytes\":29000000,\"source\":\"hf://onnx-community/Qwen2.5-0.5B-Instruct\"},"
                        + "{\"id\":\"m-2\",\"name\":\"e5-small\",\"kind\":\"embedding\",\"status\":\"DOWNLOADING\","
                        + "\"totalSizeBytes\":0,\"source\":\"https://example.org/e5.onnx\"}]}");
                case "GET /api/chat/models" -> json(http, 200, chatScript.equals("nothing-loaded")
                        ? "{\"models\":[{\"id\":\"x\",\"name\":\"idle\",\"loaded\":false,\"default\":true}]}"
                        : "{\"models\":[{\"id\":\"0123456789abcdef\",\"name\":\"qwen2.5-0.5b-instruct\",\"loaded\":true,"
                                + "\"default\":true,\"provider\":\"CPU\",\"memoryBytes\":1234000000,\"contextLength\":32768,"
                                + "\"architecture\":\"qwen2\",\"lastUsedEpochMs\":" + System.currentTimeMillis()
                                + ",\"expiresEpochMs\":" + (System.currentTimeMillis() + 270_000) + ",\"active\":1,\"queued\":2,"
                                + "\"peakBatch\":3},{\"id\":\"y\",\"name\":\"gpt2-tiny\",\"loaded\":false,\"default\":false}]}");
                case "POST /api/auth/keys" -> json(http, 201, "{\"id\":\"k-1\",\"key\":\"bkg_k1_full_secret\",\"info\":"
                        + key("k-1", body.get("name").asText(), body.get("scopes").toString(),
                                body.hasNonNull("expiresAt") ? "\"" + body.get("expiresAt").asText() + "\"" : "null", false) + "}");
                case "GET /api/auth/keys" -> json(http, 200, "[" + key("k-1", "ci", "[\"inference\",\"models:read\"]",
                        "\"2099-06-01T10:00:00Z\"", false) + "," + key("k-2", "old", "[\"admin\"]", "null", true) + "]");
                case "DELETE /api/auth/keys/k-1" -> json(http, 200, key("k-1", "ci", "[\"inference\"]", "null", true));
                case "POST /v1/chat/completions" -> chat(http, body);
                default -> problem(http, 404, "Not Found", "no route " + route);
            }
        }
    }

    private static String key(String id, String name, String scopes, String expiresAt, boolean revoked) {
        return "{\"id\":\"" + id + "\",\"name\":\"" + name + "\",\"prefix\":\"bkg_" + id.replace("-", "") + "\",\"scopes\":"
                + scopes + ",\"owner\":\"admin\",\"created\":\"2026-01-02T03:04:05Z\",\"expiresAt\":" + expiresAt
                + ",\"lastUsed\":null,\"revoked\":" + revoked + ",\"revokedAt\":null,\"rateLimitPerMinute\":null}";
    }

    /** NDJSON as model-service's watch gives it, a line per write. */
    private void progress(HttpExchange http) throws IOException {
        http.getResponseHeaders().add("content-type", "application/x-ndjson");
        http.sendResponseHeaders(200, 0);
        OutputStream body = http.getResponseBody();
        String[] lines = {
            line("QUEUED", 0, null, 0, null),
            line("RUNNING", 0, 29_000_000L, 0, "onnx/model.onnx"),
            line("RUNNING", 12_000_000, 29_000_000L, 3_100_000, "onnx/model.onnx"),
            line("RUNNING", 13_050_000, 29_000_000L, 3_100_000, "onnx/model.onnx"),
            line("RUNNING", 28_000_000, 29_000_000L, 3_000_000, "tokenizer.json"),
            line("VERIFYING", 29_000_000, 29_000_000L, 0, "tokenizer.json"),
            line("DONE", 29_000_000, 29_000_000L, 0, "tokenizer.json"),
        };
        for (String line : lines) {
            body.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            body.flush();
            pause();
        }
    }

    private static String line(String state, long done, Long total, double rate, String file) {
        return "{\"jobId\":\"j-1\",\"modelId\":\"m-1\",\"state\":\"" + state + "\",\"bytesDone\":" + done + ",\"bytesTotal\":" + total
                + ",\"rateBytesPerSecond\":" + rate + ",\"etaMs\":null,\"currentFile\":" + (file == null ? "null" : "\"" + file + "\"")
                + ",\"filesDone\":0,\"filesTotal\":5,\"message\":null,\"at\":\"2026-01-01T00:00:00Z\"}";
    }

    private final AtomicInteger chats = new AtomicInteger();

    /** Server-sent events as the gateway frames them, written in pieces that do not follow the events. */
    private void chat(HttpExchange http, JsonNode body) throws IOException {
        chatBodies.add(body);
        int n = chats.incrementAndGet();
        if (chatScript.equals("409")) {
            problem(http, 409, "Conflict", "no chat model is installed: pull one: ./bkg pull onnx-community/Qwen2.5-0.5B-Instruct"
                    + " — or POST /api/models/download {…}");
            return;
        }
        http.getResponseHeaders().add("content-type", "text/event-stream");
        http.sendResponseHeaders(200, 0);
        OutputStream out = http.getResponseBody();
        List<byte[]> writes = new ArrayList<>();
        if (chatScript.equals("split")) {
            byte[] all = (event("{\"role\":\"assistant\",\"content\":\"\"}", null) + event("{\"content\":\"Hé\"}", null)
                    + event("{\"content\":\"llo, wö\"}", null) + event("{\"content\":\"rld!\"}", null) + event("{}", "stop")
                    + "data: [DONE]\n\n").getBytes(StandardCharsets.UTF_8);
            // cut inside "é" (two bytes in UTF-8), inside an event's line, and inside "ö"
            int e = indexOf(all, "é".getBytes(StandardCharsets.UTF_8)) + 1;
            int o = indexOf(all, "ö".getBytes(StandardCharsets.UTF_8)) + 1;
            int[] cuts = {0, e - 20, e, o, all.length};
            for (int i = 0; i + 1 < cuts.length; i++) {
                byte[] piece = new byte[cuts[i + 1] - cuts[i]];
                System.arraycopy(all, cuts[i], piece, 0, piece.length);
                writes.add(piece);
            }
        } else if (chatScript.equals("error") || chatScript.equals("error-then-ok") && n == 1) {
            writes.add(event("{\"content\":\"Hel\"}", null).getBytes(StandardCharsets.UTF_8));
            writes.add("data: {\"error\":{\"message\":\"the model ran out of memory\",\"type\":\"internal\"}}\n\n"
                    .getBytes(StandardCharsets.UTF_8));
        } else {
            writes.add((event("{\"role\":\"assistant\",\"content\":\"\"}", null) + event("{\"content\":\"Hello\"}", null))
                    .getBytes(StandardCharsets.UTF_8));
            writes.add((event("{\"content\":\" there\"}", null) + event("{}", "stop") + "data: [DONE]\n\n")
                    .getBytes(StandardCharsets.UTF_8));
        }
        for (byte[] piece : writes) {
            out.write(piece);
            out.flush();
            pause();
        }
    }

    private static String event(String delta, String finish) {
        String chunk = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"tiny\","
                + "\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"finish_reason\":" + (finish == null ? "null" : "\"" + finish + "\"")
                + "}]" + (finish == null ? "" : ",\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":12,\"total_tokens\":21},"
                        + "\"timings\":{\"time_to_first_token_ms\":84,\"tokens_per_second\":35.2,\"duration_ms\":340,\"queued_ms\":0}")
                + "}";
        return "data: " + chunk + "\n\n";
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }

    private static void pause() {
        try {
            Thread.sleep(15);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void json(HttpExchange http, int status, String body) throws IOException {
        send(http, status, "application/json", body);
    }

    private static void problem(HttpExchange http, int status, String title, String detail) throws IOException {
        send(http, status, "application/problem+json", JSON.createObjectNode().put("type", "about:blank").put("title", title)
                .put("status", status).put("detail", detail).toString());
    }

    private static void send(HttpExchange http, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        http.getResponseHeaders().add("content-type", type);
        http.sendResponseHeaders(status, bytes.length);
        http.getResponseBody().write(bytes);
    }
}
