package dev.bkg.gateway;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.bkg.proto.inference.v1.ChatMessage;
import dev.bkg.proto.inference.v1.ChatRequest;
import dev.bkg.proto.inference.v1.ChatServiceGrpc;
import dev.bkg.proto.inference.v1.IndexServiceGrpc;
import dev.bkg.proto.inference.v1.StatsRequest;
import dev.bkg.proto.model.v1.GetModelRequest;
import dev.bkg.proto.model.v1.ModelServiceGrpc;
import dev.bkg.proto.model.v1.ReadModelFileRequest;
import dev.bkg.proto.pluginmanager.v1.GetPluginRequest;
import dev.bkg.proto.pluginmanager.v1.PluginManagerGrpc;
import dev.bkg.proto.pluginmanager.v1.StartPluginRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;

/**
 * Fuzzes every REST route the gateway's OpenAPI document lists — so a new route is fuzzed without
 * anyone listing it — with malformed path parameters, queries, bodies and content types (wrong
 * JSON types per the route's schema, missing and extra fields, deep nesting, huge strings and
 * arrays, invalid UTF-8, control characters, path traversal, out-of-range numbers), over-long URIs
 * and headers, no credential; then the WebSocket endpoints (bad subprotocols and queries, binary
 * and huge frames) and the public gRPC methods. Pass: no 5xx but 503, every 4xx a problem body,
 * every route that is not public refusing a caller without a credential (and the public ones not),
 * the gateway still ready, and nothing the admin can list changed. Requests go over a raw socket
 * so that the bytes sent are exactly the malformed ones.
 */
@QuarkusTest
@WithTestResource(Backends.class)
@TestProfile(AuthResourceTest.ShortCache.class)
class ApiFuzzTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> PATH_VALUES = List.of("..%2F..%2Fetc%2Fpasswd", "%2E%2E", "%00", "%C3%28", "%FF%FE",
            "-1", "99999999999999999999999", "%0D%0Aset-cookie:%20x=1", "%E2%80%AE", "%20", "null", "x".repeat(4000));
    static final List<String> QUERY_VALUES = List.of("abc", "-1", "1e309", "99999999999999999999999", "", "%00",
            "%C3%28", "true%26x%3D1", "z".repeat(3000));

    record Case(String method, String target, String contentType, byte[] body, String credential, String why) {
    }

    record Answer(int status, String contentType, String body) {
    }

    @Test
    void everyRouteOfTheOpenApiDocumentSurvivesMalformedInput() throws Exception {
        String admin = AuthResourceTest.admin();
        String key = AuthResourceTest.createKey(admin, Map.of("name", "fuzz", "scopes", List.of("admin"),
                "rateLimitPerMinute", 1_000_000)).then().statusCode(201).extract().path("key");
        JsonNode doc = JSON.readTree(given().when().get("/q/openapi?format=json").then().statusCode(200).extract().asString());
        Map<String, String> before = snapshot(key);

        List<Case> cases = cases(doc, key);
        assertTrue(cases.size() >= 1000, "at least 1000 cases: " + cases.size());
        List<String> failures = new ArrayList<>();
        for (Case c : cases) {
            Answer answer;
            try {
                answer = send(c, 60_000);
            } catch (IOException e) {
                failures.add(c.method + " " + shorten(c.target) + " (" + c.why + "): no answer: " + e);
                continue;
            }
            String failure = judge(c, answer);
            if (failure != null) {
                failures.add(c.method + " " + shorten(c.target) + " (" + c.why + "): " + failure);
            }
        }
        failures.addAll(webSockets(key));
        failures.addAll(grpc(key));
        java.nio.file.Files.write(java.nio.file.Path.of("target/api-fuzz-failures.txt"), failures);
        assertTrue(failures.isEmpty(), failures.size() + " of " + cases.size() + " cases failed (all in target/api-fuzz-failures.txt):\n"
                + String.join("\n", failures.subList(0, Math.min(40, failures.size()))));

        given().when().get("/q/health/ready").then().statusCode(200);
        assertEquals(before, snapshot(key), "no rejected request changed what the admin can list");
    }

    /** The fuzzed routes start plugins on demand (candle, brainml): leave them as they were for the next tests. */
    @AfterEach
    void stopWhatTheFuzzStarted() {
        String admin = AuthResourceTest.admin();
        for (String plugin : given().auth().oauth2(admin).when().get("/api/plugins").then().statusCode(200)
                .extract().jsonPath().<String>getList("plugins.findAll { it.status.state != 'STOPPED' }.id")) {
            if (!runningBefore.contains(plugin)) {
                given().auth().oauth2(admin).when().post("/api/plugins/" + plugin + "/stop?wait=true");
            }
        }
    }

    private List<String> runningBefore = List.of();

    @org.junit.jupiter.api.BeforeEach
    void notePluginsRunning() {
        runningBefore = given().auth().oauth2(AuthResourceTest.admin()).when().get("/api/plugins").then().statusCode(200)
                .extract().jsonPath().getList("plugins.findAll { it.status.state != 'STOPPED' }.id");
    }

    /** Every case for every operation of the document. */
    static List<Case> cases(JsonNode doc, String key) {
        List<Case> cases = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> paths = doc.path("paths").fields(); paths.hasNext();) {
            Map.Entry<String, JsonNode> path = paths.next();
            for (Iterator<Map.Entry<String, JsonNode>> ops = path.getValue().fields(); ops.hasNext();) {
                Map.Entry<String, JsonNode> op = ops.next();
                String method = op.getKey().toUpperCase();
                if (!List.of("GET", "POST", "PUT", "DELETE", "PATCH").contains(method)) {
                    continue;
                }
                cases.addAll(casesOf(doc, method, path.getKey(), op.getValue(), key));
            }
        }
        return cases;
    }

    static List<Case> casesOf(JsonNode doc, String method, String template, JsonNode op, String key) {
        List<Case> cases = new ArrayList<>();
        List<String> pathParams = new ArrayList<>();
        List<String> queryParams = new ArrayList<>();
        for (JsonNode p : op.path("parameters")) {
            ("path".equals(p.path("in").asText()) ? pathParams : "query".equals(p.path("in").asText()) ? queryParams
                    : new ArrayList<String>()).add(p.path("name").asText());
        }
        boolean isPublic = op.has("security") && op.get("security").isEmpty();
        String plain = fill(template, Map.of());
        JsonNode content = op.path("requestBody").path("content");
        String contentType = content.fieldNames().hasNext() ? content.fieldNames().next() : null;
        byte[] validish = "{}".getBytes(StandardCharsets.UTF_8);

        // no credential: 401 unless the route is public
        cases.add(new Case(method, plain, contentType == null ? null : "application/json", contentType == null ? null : validish,
                null, isPublic ? "public, no credential" : "no credential"));
        cases.add(new Case(method, plain, null, null, "bkg_not_a_key", "a wrong credential"));
        for (String name : pathParams) {
            for (String value : PATH_VALUES) {
                cases.add(new Case(method, fill(template, Map.of(name, value)), contentType == null ? null : "application/json",
                        contentType == null ? null : validish, key, "path " + name));
            }
        }
        for (String name : queryParams) {
            for (String value : QUERY_VALUES) {
                cases.add(new Case(method, plain + "?" + name + "=" + value, null, null, key, "query " + name));
            }
        }
        cases.add(new Case(method, plain + "?unexpected=%FF&&=", null, null, key, "odd query"));
        cases.add(new Case(method, plain + "?x=" + "u".repeat(9000), null, null, key, "URI too long"));
        if (contentType != null) {
            for (Map.Entry<String, byte[]> body : bodies(doc, content.path(contentType).path("schema")).entrySet()) {
                cases.add(new Case(method, plain, "application/json", body.getValue(), key, "body " + body.getKey()));
            }
            cases.add(new Case(method, plain, "text/plain", "hello".getBytes(StandardCharsets.UTF_8), key, "text/plain body"));
            cases.add(new Case(method, plain, "application/xml", "<a/>".getBytes(StandardCharsets.UTF_8), key, "xml body"));
            cases.add(new Case(method, plain, "multipart/form-data; boundary=zz", "--zz\r\nbroken".getBytes(StandardCharsets.UTF_8),
                    key, "broken multipart"));
            cases.add(new Case(method, plain, "application/json; charset=klingon", validish, key, "unknown charset"));
        }
        return cases;
    }

    /** Malformed bodies, generic and from the route's schema (each property given a value of the wrong type). */
    static Map<String, byte[]> bodies(JsonNode doc, JsonNode schema) {
        Map<String, byte[]> bodies = new LinkedHashMap<>();
        for (String text : List.of("", "null", "[]", "\"text\"", "123", "true", "{", "{\"a\":}", "{}", "{\"unexpected\":1}",
                "{\"a\":1e999999}", "{\"a\":-99999999999999999999999999}", "{\"a\":\"\\u0000\\u0007\\u001b\"}",
                "{\"a\":\"\\ud800\"}")) {
            bodies.put(text.length() > 30 ? text.substring(0, 30) : text, text.getBytes(StandardCharsets.UTF_8));
        }
        bodies.put("deep nesting", ("[".repeat(100_000) + "]".repeat(100_000)).getBytes(StandardCharsets.UTF_8));
        bodies.put("deep objects", ("{\"a\":".repeat(20_000) + "1" + "}".repeat(20_000)).getBytes(StandardCharsets.UTF_8));
        bodies.put("huge string", ("{\"text\":\"" + "s".repeat(900_000) + "\"}").getBytes(StandardCharsets.UTF_8));
        bodies.put("huge array", ("[" + "1,".repeat(300_000) + "1]").getBytes(StandardCharsets.UTF_8));
        bodies.put("over the body limit", ("{\"text\":\"" + "s".repeat(17 << 20) + "\"}").getBytes(StandardCharsets.UTF_8));
        byte[] invalidUtf8 = "{\"name\":\"\u00ff\u00fe\"}".getBytes(StandardCharsets.ISO_8859_1);
        bodies.put("invalid UTF-8", invalidUtf8);
        JsonNode resolved = resolve(doc, schema);
        for (Iterator<Map.Entry<String, JsonNode>> props = resolved.path("properties").fields(); props.hasNext();) {
            Map.Entry<String, JsonNode> prop = props.next();
            String type = resolve(doc, prop.getValue()).path("type").asText("object");
            for (Object wrong : wrongValues(type)) {
                ObjectNode body = JSON.createObjectNode();
                body.set(prop.getKey(), JSON.valueToTree(wrong));
                bodies.put(prop.getKey() + " as " + body.get(prop.getKey()).getNodeType(), body.toString().getBytes(StandardCharsets.UTF_8));
            }
        }
        return bodies;
    }

    static List<Object> wrongValues(String type) {
        return switch (type) {
            case "string" -> List.of(123, List.of("a"), Map.of("a", 1), "x".repeat(70_000));
            case "integer", "number" -> List.of("abc", -1, Long.MAX_VALUE, 1.5e300, List.of(1));
            case "boolean" -> List.of("yes", 2);
            case "array" -> List.of("a", Map.of("a", 1), List.of(Map.of("deep", List.of(List.of(List.of())))));
            default -> List.of("a", 1, List.of());
        };
    }

    static JsonNode resolve(JsonNode doc, JsonNode schema) {
        String ref = schema.path("$ref").asText("");
        return ref.startsWith("#/components/schemas/") ? doc.path("components").path("schemas")
                .path(ref.substring("#/components/schemas/".length())) : schema;
    }

    static String fill(String template, Map<String, String> values) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < template.length()) {
            int open = template.indexOf('{', i);
            if (open < 0) {
                out.append(template, i, template.length());
                break;
            }
            int close = template.indexOf('}', open);
            out.append(template, i, open).append(values.getOrDefault(template.substring(open + 1, close), "fuzz-nothing"));
            i = close + 1;
        }
        return out.toString();
    }

    /** Null when the answer is acceptable, else why not. */
    static String judge(Case c, Answer a) {
        if (a.status >= 500 && a.status != 503) {
            return a.status + " " + shorten(a.body);
        }
        if (c.credential == null && !c.why.startsWith("public") && a.status != 401) {
            return "a route that is not public answered " + a.status + " without a credential";
        }
        if (c.why.startsWith("public") && (a.status == 401 || a.status == 403)) {
            return "a public route asked for a credential";
        }
        if (a.status >= 400) {
            if (a.contentType == null || !a.contentType.startsWith("application/problem+json")) {
                return a.status + " without a problem body (" + a.contentType + "): " + shorten(a.body);
            }
            try {
                JsonNode problem = JSON.readTree(a.body);
                if (problem.path("status").asInt() != a.status || !problem.hasNonNull("title")) {
                    return a.status + " with a problem body that does not match: " + shorten(a.body);
                }
            } catch (IOException e) {
                return a.status + " with a problem body that is not JSON: " + shorten(a.body);
            }
        }
        return null;
    }

    static String shorten(String text) {
        return text == null ? null : text.length() > 160 ? text.substring(0, 160) + "…" : text;
    }

    /** One request on its own connection, the bytes exactly as given. */
    static Answer send(Case c, int timeoutMs) throws IOException {
        try (Socket socket = new Socket()) {
            // from 127.0.0.2: the public routes' per-address rate limit the fuzz uses up is not the one
            // of 127.0.0.1, which the test classes after this one log in from
            socket.bind(new InetSocketAddress("127.0.0.2", 0));
            socket.connect(new InetSocketAddress("127.0.0.1", RestAssured.port), 5000);
            socket.setSoTimeout(timeoutMs);
            StringBuilder head = new StringBuilder(c.method).append(' ').append(c.target).append(" HTTP/1.1\r\n")
                    .append("Host: 127.0.0.1\r\nConnection: close\r\nAccept: */*\r\n");
            if (c.credential != null) {
                head.append("Authorization: Bearer ").append(c.credential).append("\r\n");
            }
            if (c.body != null) {
                head.append("Content-Type: ").append(c.contentType).append("\r\nContent-Length: ").append(c.body.length).append("\r\n");
            } else if (!c.method.equals("GET") && !c.method.equals("DELETE")) {
                head.append("Content-Length: 0\r\n");
            }
            OutputStream out = socket.getOutputStream();
            out.write(head.append("\r\n").toString().getBytes(StandardCharsets.UTF_8));
            if (c.body != null) {
                try {
                    out.write(c.body);
                } catch (IOException refusedMidBody) {
                    // the gateway may answer (413) and close before reading a body it will not take
                }
            }
            out.flush();
            return read(socket.getInputStream());
        }
    }

    static Answer read(InputStream in) throws IOException {
        byte[] all = in.readAllBytes();
        String text = new String(all, StandardCharsets.UTF_8);
        int end = text.indexOf("\r\n\r\n");
        if (end < 0) {
            throw new IOException("no HTTP answer: " + shorten(text));
        }
        String[] lines = text.substring(0, end).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        String type = null;
        boolean chunked = false;
        for (String line : lines) {
            String lower = line.toLowerCase();
            if (lower.startsWith("content-type:")) {
                type = line.substring(13).trim();
            } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                chunked = true;
            }
        }
        String body = text.substring(end + 4);
        return new Answer(status, type, chunked ? unchunk(body) : body);
    }

    static String unchunk(String body) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < body.length()) {
            int eol = body.indexOf("\r\n", i);
            if (eol < 0) {
                break;
            }
            int size = Integer.parseInt(body.substring(i, eol).split(";")[0].trim(), 16);
            if (size == 0) {
                break;
            }
            out.append(body, eol + 2, Math.min(body.length(), eol + 2 + size));
            i = eol + 2 + size + 2;
        }
        return out.toString();
    }

    /** What the admin can list: users, keys, plugins and their configs, models, brainml collections. */
    static Map<String, String> snapshot(String key) {
        Map<String, String> state = new LinkedHashMap<>();
        for (String path : List.of("/api/auth/users", "/api/auth/keys", "/api/models", "/api/brainml/collections")) {
            state.put(path, given().auth().oauth2(key).when().get(path).then().extract().asString()
                    .replaceAll("\"lastUsedAt\":\"[^\"]*\"", "").replaceAll("\"(lastUsedAt|requests\\w*)\":\\d+", ""));
        }
        List<String> plugins = given().auth().oauth2(key).when().get("/api/plugins").then().statusCode(200)
                .extract().jsonPath().getList("plugins.id");
        for (String plugin : plugins) {
            state.put(plugin + " config", given().auth().oauth2(key).when().get("/api/plugins/" + plugin + "/config")
                    .then().extract().asString());
        }
        return state;
    }

    /** The sockets: refused handshakes are HTTP answers, bad queries close with 4400, odd frames change nothing. */
    static List<String> webSockets(String key) throws Exception {
        List<String> failures = new ArrayList<>();
        String ws = "ws://127.0.0.1:" + RestAssured.port;
        for (String path : List.of("/ws/plugins/status", "/ws/plugins/apikeys/logs", "/ws/plugins/apikeys/status",
                "/ws/plugins/apikeys/telemetry", "/ws/models/nope/progress")) {
            int refused = SocketClient.refusedStatus(ws + path, "bkg.v1", "bkg.bearer.");
            if (refused != 401) {
                failures.add("WS " + path + " with an empty bearer subprotocol: " + refused);
            }
            int odd = refusedOrOpen(ws + path, "bkg.v0", "bkg.bearer." + key);
            if (odd >= 500) {
                failures.add("WS " + path + " with an unknown subprotocol: " + odd);
            }
        }
        for (String query : List.of("?afterSeq=soon", "?batch=maybe", "?afterSeq=99999999999999999999999")) {
            try (SocketClient bad = SocketClient.open(ws + "/ws/plugins/apikeys/logs" + query, key)) {
                int code = bad.closeCode.get(20, TimeUnit.SECONDS);
                if (code != 4400) {
                    failures.add("WS logs" + query + " closed with " + code + ", not 4400");
                }
            }
        }
        // frames the server never asked for (binary, text) are ignored: the socket stays open
        HttpClient http = HttpClient.newHttpClient();
        CompletableFuture<Integer> closed = new CompletableFuture<>();
        WebSocket socket = http.newWebSocketBuilder().subprotocols("bkg.v1", "bkg.bearer." + key)
                .buildAsync(URI.create(ws + "/ws/plugins/status"), new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onClose(WebSocket s, int code, String reason) {
                        closed.complete(code);
                        return null;
                    }
                }).get(15, TimeUnit.SECONDS);
        socket.sendBinary(ByteBuffer.wrap(new byte[] { 0, 1, (byte) 0xff }), true).get(10, TimeUnit.SECONDS);
        socket.sendText("{\"type\":\"hello\"}", true).get(10, TimeUnit.SECONDS);
        Integer code = closed.completeOnTimeout(-1, 3, TimeUnit.SECONDS).get();
        if (code != -1) {
            failures.add("WS frames the server never asked for closed the socket with " + code);
        }
        // a frame over the server's limit: closed as the client's fault (1009), not as a server error (1011)
        CompletableFuture<Integer> hugeClosed = new CompletableFuture<>();
        WebSocket huge = http.newWebSocketBuilder().subprotocols("bkg.v1", "bkg.bearer." + key)
                .buildAsync(URI.create(ws + "/ws/plugins/status"), new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onClose(WebSocket s, int code, String reason) {
                        hugeClosed.complete(code);
                        return null;
                    }
                }).get(15, TimeUnit.SECONDS);
        try {
            huge.sendText("h".repeat(2 << 20), true).get(10, TimeUnit.SECONDS);
        } catch (Exception cut) {
            // the server may close before the frame is through
        }
        int hugeCode = hugeClosed.completeOnTimeout(-1, 10, TimeUnit.SECONDS).get();
        if (hugeCode != 1009) {
            failures.add("WS a 2 MiB frame closed the socket with " + hugeCode + ", not 1009");
        }
        huge.abort();
        socket.abort();
        return failures;
    }

    static int refusedOrOpen(String url, String... subprotocols) {
        try {
            SocketClient.connect(url, subprotocols).close();
            return 101;
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof java.net.http.WebSocketHandshakeException refused) {
                return refused.getResponse().statusCode();
            }
            return 0; // e.g. the client refuses a server that picked no subprotocol: not a server failure
        }
    }

    /** The public gRPC methods: bad arguments are INVALID_ARGUMENT or NOT_FOUND, never UNKNOWN or INTERNAL. */
    static List<String> grpc(String key) throws Exception {
        List<String> failures = new ArrayList<>();
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", RestAssured.port).usePlaintext().build();
        try {
            Metadata headers = new Metadata();
            headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + key);
            var stub = PluginManagerGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
            var models = ModelServiceGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
            var index = IndexServiceGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
            var chat = ChatServiceGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
            for (String id : List.of("", "../etc", "\u0000", "x".repeat(5_000), "x".repeat(100_000), "\ud800", "nope")) {
                for (var call : List.<java.util.function.Consumer<String>>of(
                        v -> stub.withDeadlineAfter(30, TimeUnit.SECONDS).getPlugin(GetPluginRequest.newBuilder().setPluginId(v).build()),
                        v -> stub.withDeadlineAfter(30, TimeUnit.SECONDS).startPlugin(StartPluginRequest.newBuilder().setPluginId(v).build()),
                        v -> models.withDeadlineAfter(30, TimeUnit.SECONDS).getModel(GetModelRequest.newBuilder().setId(v).build()),
                        v -> models.withDeadlineAfter(30, TimeUnit.SECONDS).readModelFile(ReadModelFileRequest.newBuilder().setModelId("all-minilm-l6-v2")
                                .setFileName(v).build()).hasNext(),
                        v -> index.withDeadlineAfter(30, TimeUnit.SECONDS).stats(StatsRequest.newBuilder().setCollection(v).build()),
                        v -> chat.withDeadlineAfter(30, TimeUnit.SECONDS).chatStream(ChatRequest.newBuilder().setModel(v).addMessages(ChatMessage.newBuilder()
                                .setRole(v).setContent(v)).build()).hasNext())) {
                    try {
                        call.accept(id);
                        failures.add("gRPC call with " + shorten(id) + " succeeded");
                    } catch (StatusRuntimeException e) {
                        Status.Code code = e.getStatus().getCode();
                        if (code == Status.Code.UNKNOWN || code == Status.Code.INTERNAL || code == Status.Code.DEADLINE_EXCEEDED) {
                            failures.add("gRPC call with " + shorten(id) + ": " + e.getStatus());
                        }
                    }
                }
            }
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        return failures;
    }
}
