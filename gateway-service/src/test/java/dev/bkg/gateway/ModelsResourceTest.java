package dev.bkg.gateway;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.bkg.testsupport.LocalFileServer;
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
    static final LocalFileServer FILES = LocalFileServer.shared();
    static final byte[] CONTENT = LocalFileServer.CONTENT;

    @Backends.Inject
    Backends backends;

    static String url(String path) {
        return FILES.url(path);
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

    /**
     * A download outlives its service: model-service is SIGKILLed mid-transfer and started again; it
     * picks the job up from the catalog and asks the source for the rest with a Range request, and
     * the file it ends with has the expected SHA-256.
     */
    @Test
    void aDownloadCutOffByAServiceCrashResumesWithARangeRequestAfterTheRestart() throws Exception {
        String admin = AuthResourceTest.admin();
        FILES.ranges.clear();
        String modelId = given().auth().oauth2(admin).contentType("application/json")
                .body(Map.of("name", "crash-survivor", "kind", "generic", "url", url("/slow.bin"), "sha256", LocalFileServer.SHA256))
                .when().post("/api/models/download").then().statusCode(202).extract().path("modelId");
        long deadline = System.currentTimeMillis() + WAIT.toMillis();
        while (!FILES.ranges.contains("/slow.bin -") && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        Thread.sleep(1000); // about a third of /slow.bin has arrived
        backends.model().kill();
        backends.model().start();

        deadline = System.currentTimeMillis() + WAIT.toMillis();
        String status = null;
        while (!"READY".equals(status) && System.currentTimeMillis() < deadline) {
            Thread.sleep(200);
            status = given().auth().oauth2(admin).when().get("/api/models/" + modelId).then().extract().path("status");
        }
        assertEquals("READY", status, "the download finished after the restart");
        List<String> resumed = FILES.ranges.stream().filter(r -> r.startsWith("/slow.bin bytes=")).toList();
        assertEquals(1, resumed.size(), "one resumed request: " + FILES.ranges);
        long from = Long.parseLong(resumed.get(0).replaceAll("\\D+(\\d+)-.*", "$1"));
        assertTrue(from > 0 && from < CONTENT.length, "resumed from where it stopped: " + resumed);
        given().auth().oauth2(admin).when().get("/api/models/" + modelId).then().statusCode(200)
                .body("files[0].sizeBytes", equalTo(CONTENT.length)).body("files[0].sha256", equalTo(LocalFileServer.SHA256));
        given().auth().oauth2(admin).when().delete("/api/models/" + modelId).then().statusCode(200);
    }

    /** The real MobileFace TF.js graph (unpacked by model-service's build) downloaded as tfjs, then imported. */
    @Test
    void aDownloadedTfjsModelImportsAsAValidatedOnnxModel() throws Exception {
        String admin = AuthResourceTest.admin();
        java.nio.file.Path tfjs = Backends.REPO_ROOT.resolve("model-service/target/classes/builtin/mobileface");
        FILES.serve("/tfjs/model.json", java.nio.file.Files.readAllBytes(tfjs.resolve("mobileface.json")));
        FILES.serve("/tfjs/mobileface.bin", java.nio.file.Files.readAllBytes(tfjs.resolve("mobileface.bin")));
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
