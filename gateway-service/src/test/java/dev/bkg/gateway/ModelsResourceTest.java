package dev.bkg.gateway;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpServer;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import io.vertx.core.json.JsonObject;

/**
 * The model API through the gateway to a real model-service: a download from a real HTTP server on
 * loopback with its progress bar fed by a real WebSocket (in order, to DONE, then a normal close),
 * the NDJSON progress for curl users, the catalog, deletion, and bad input as problems.
 */
@QuarkusTest
@WithTestResource(Backends.class)
@TestProfile(AuthResourceTest.ShortCache.class)
class ModelsResourceTest {

    static final Duration WAIT = Duration.ofSeconds(60);
    static final byte[] CONTENT = new byte[2 * 1024 * 1024];
    static final HttpServer FILES = serve();

    /** /slow.bin: 2 MiB in 64 KiB pieces every 30 ms, so a progress bar has something to show. */
    static HttpServer serve() {
        new Random(7).nextBytes(CONTENT);
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.setExecutor(Executors.newCachedThreadPool());
            server.createContext("/slow.bin", exchange -> {
                exchange.sendResponseHeaders(200, exchange.getRequestMethod().equals("HEAD") ? -1 : CONTENT.length);
                if (!exchange.getRequestMethod().equals("HEAD")) {
                    try (OutputStream out = exchange.getResponseBody()) {
                        for (int at = 0; at < CONTENT.length; at += 64 * 1024) {
                            out.write(CONTENT, at, 64 * 1024);
                            out.flush();
                            Thread.sleep(30);
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                exchange.close();
            });
            server.start();
            return server;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static String url(String path) {
        return "http://127.0.0.1:" + FILES.getAddress().getPort() + path;
    }

    @Test
    void aDownloadShowsLiveProgressOnASocketAndLandsInTheCatalog() throws Exception {
        String admin = AuthResourceTest.admin();
        String reader = AuthResourceTest.createKey(admin, Map.of("name", "models-reader", "scopes", List.of("models:read")))
                .then().statusCode(201).extract().path("key");
        var started = given().auth().oauth2(admin).contentType("application/json")
                .body(Map.of("name", "gateway-slow", "kind", "generic", "url", url("/slow.bin")))
                .when().post("/api/models/download")
                .then().statusCode(202).body("jobId", containsString("j_")).extract().jsonPath();
        String modelId = started.getString("modelId");
        assertEquals("/ws/models/" + modelId + "/progress", started.getString("progress"));

        try (SocketClient socket = SocketClient.open("ws://127.0.0.1:" + RestAssured.port + "/ws/models/" + modelId
                + "/progress", reader)) {
            JsonObject done = socket.await(m -> "progress".equals(m.getString("type")) && "DONE".equals(m.getString("state")),
                    WAIT, "the download to finish");
            assertEquals(CONTENT.length, done.getLong("bytesDone"));
            assertEquals(1000, socket.closeCode.get(10, TimeUnit.SECONDS), "closed normally once it ended");
            List<JsonObject> updates = socket.received.stream().filter(m -> "progress".equals(m.getString("type"))).toList();
            assertTrue(updates.size() >= 3, "several updates: " + updates.size());
            for (int i = 1; i < updates.size(); i++) {
                assertTrue(updates.get(i).getLong("bytesDone") >= updates.get(i - 1).getLong("bytesDone"), "in order");
            }
        }
        given().auth().oauth2(reader).when().get("/api/models/" + modelId)
                .then().statusCode(200).body("status", equalTo("READY")).body("kind", equalTo("generic"))
                .body("files[0].name", equalTo("slow.bin")).body("files[0].sizeBytes", equalTo(CONTENT.length));
        given().auth().oauth2(reader).when().get("/api/models?status=ready")
                .then().statusCode(200).body("models.name", hasItem("gateway-slow"));
        // curl users: NDJSON, here the final state of a finished job
        String ndjson = given().auth().oauth2(reader).when().get("/api/models/" + modelId + "/progress")
                .then().statusCode(200).extract().asString();
        assertTrue(ndjson.trim().lines().allMatch(l -> l.startsWith("{")) && ndjson.contains("\"DONE\""), ndjson);

        given().auth().oauth2(reader).when().delete("/api/models/" + modelId).then().statusCode(403);
        given().auth().oauth2(admin).when().delete("/api/models/" + modelId)
                .then().statusCode(200).body("freedBytes", equalTo(CONTENT.length));
        given().auth().oauth2(admin).when().get("/api/models/" + modelId).then().statusCode(404);
    }

    @Test
    void theBuiltInEmbedderIsReadyAndValidatesWithItsSignature() {
        String admin = AuthResourceTest.admin();
        var minilm = given().auth().oauth2(admin).when().get("/api/models?kind=embedding")
                .then().statusCode(200).extract().jsonPath();
        String id = minilm.getString("models.find { it.name == 'all-minilm-l6-v2' }.id");
        assertEquals("READY", minilm.getString("models.find { it.name == 'all-minilm-l6-v2' }.status"));
        given().auth().oauth2(admin).when().post("/api/models/" + id + "/validate?runInference=true")
                .then().statusCode(200).body("ok", equalTo(true)).body("status", equalTo("READY"))
                .body("inputs.name", hasItem("attention_mask")).body("outputs[0].name", equalTo("last_hidden_state"))
                .body("outputs[0].shape", equalTo(List.of(-1, -1, 384)))
                .body("message", containsString("ran one inference"));
        given().auth().oauth2(admin).when().get("/api/models/" + id)
                .then().statusCode(200).body("validation.graphFile", equalTo("model.onnx"))
                .body("properties.dimensions", equalTo("384"));
        given().auth().oauth2(admin).when().post("/api/models/m_nope/validate").then().statusCode(404);
    }

    /** The real MobileFace TF.js graph (unpacked by model-service's build) downloaded as tfjs, then imported. */
    @Test
    void aDownloadedTfjsModelImportsAsAValidatedOnnxModel() throws Exception {
        String admin = AuthResourceTest.admin();
        java.nio.file.Path tfjs = Backends.REPO_ROOT.resolve("model-service/target/classes/builtin/mobileface");
        serveFile("/tfjs/model.json", java.nio.file.Files.readAllBytes(tfjs.resolve("mobileface.json")));
        serveFile("/tfjs/mobileface.bin", java.nio.file.Files.readAllBytes(tfjs.resolve("mobileface.bin")));
        String sourceId = given().auth().oauth2(admin).contentType("application/json")
                .body(Map.of("name", "mobileface-tfjs", "kind", "face-embedder", "format", "tfjs", "files", List.of(
                        Map.of("name", "model.json", "url", url("/tfjs/model.json")),
                        Map.of("name", "mobileface.bin", "url", url("/tfjs/mobileface.bin")))))
                .when().post("/api/models/download").then().statusCode(202).extract().path("modelId");
        long deadline = System.currentTimeMillis() + WAIT.toMillis();
        while (!"READY".equals(given().auth().oauth2(admin).when().get("/api/models/" + sourceId).then().extract().path("status"))
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(200);
        }
        given().auth().oauth2(admin).contentType("application/json")
                .body(Map.of("format", "tfjs", "name", "mobileface-imported", "kind", "face-embedder", "sourceModelId", sourceId))
                .when().post("/api/models/import")
                .then().statusCode(201).body("status", equalTo("READY")).body("format", equalTo("onnx"))
                .body("source", equalTo("import:" + sourceId))
                .body("validation.outputs[0].shape", equalTo(List.of(-1, 256)));
        given().auth().oauth2(admin).contentType("application/json")
                .body(Map.of("format", "keras", "name", "x", "kind", "generic", "sourceModelId", sourceId))
                .when().post("/api/models/import").then().statusCode(400).body("detail", containsString("tfjs"));
        given().auth().oauth2(admin).contentType("application/json")
                .body(Map.of("format", "tfjs", "name", "x", "kind", "generic", "sourceModelId", "m_nope"))
                .when().post("/api/models/import").then().statusCode(404);
    }

    static void serveFile(String path, byte[] content) {
        FILES.createContext(path, exchange -> {
            boolean head = exchange.getRequestMethod().equals("HEAD");
            if (head) {
                exchange.getResponseHeaders().add("content-length", String.valueOf(content.length));
            }
            exchange.sendResponseHeaders(200, head ? -1 : content.length);
            try (OutputStream out = exchange.getResponseBody()) {
                if (!head) {
                    out.write(content);
                }
            }
        });
    }

    @Test
    void badDownloadsAreProblemsAndNothingIsStored() {
        String admin = AuthResourceTest.admin();
        given().contentType("application/json").body(Map.of("name", "x", "kind", "generic", "url", url("/slow.bin")))
                .when().post("/api/models/download").then().statusCode(401);
        given().auth().oauth2(admin).contentType("application/json")
                .body(Map.of("name", "x", "kind", "banana", "url", url("/slow.bin")))
                .when().post("/api/models/download").then().statusCode(400).body("detail", containsString("kind"));
        given().auth().oauth2(admin).contentType("application/json").body(Map.of("kind", "generic", "url", url("/slow.bin")))
                .when().post("/api/models/download").then().statusCode(400).body("detail", containsString("name"));
        given().auth().oauth2(admin).contentType("application/json")
                .body(Map.of("name", "ssrf", "kind", "generic", "url", "http://localhost:1/secret"))
                .when().post("/api/models/download").then().statusCode(400)
                .contentType("application/problem+json").body("detail", containsString("private"));
        given().auth().oauth2(admin).contentType("application/json")
                .body(Map.of("name", "traversal", "kind", "generic", "files",
                        List.of(Map.of("name", "../../etc/cron.d/x", "url", url("/slow.bin")))))
                .when().post("/api/models/download").then().statusCode(400);
        given().auth().oauth2(admin).contentType("application/json").body("[1,2]")
                .when().post("/api/models/download").then().statusCode(400);
        given().auth().oauth2(admin).when().get("/api/models")
                .then().statusCode(200).body("models.name", org.hamcrest.Matchers.not(hasItem("ssrf")));
        given().auth().oauth2(admin).when().get("/api/models/m_nope").then().statusCode(404);
        given().auth().oauth2(admin).when().get("/api/models?kind=banana").then().statusCode(400);
        try (SocketClient unknown = SocketClient.open("ws://127.0.0.1:" + RestAssured.port + "/ws/models/m_nope/progress",
                admin)) {
            assertEquals(4404, unknown.closeCode.get(20, TimeUnit.SECONDS));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
