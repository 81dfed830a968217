package dev.bkg.gateway;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import dev.bkg.testsupport.RunnerTestModels;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;

/**
 * The model runner (plugin candle) through the gateway, with candle a real process the plugin
 * manager starts on demand: the Open Inference Protocol v2 (JSON and binary tensors) on MiniLM
 * and on a graph with known weights, /api/candle's load/list/unload, and the refusals.
 */
@QuarkusTest
@WithTestResource(Backends.class)
@TestProfile(AuthResourceTest.ShortCache.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CandleTest {

    String key;

    @org.junit.jupiter.api.BeforeEach
    void key() {
        key = AuthResourceTest.createKey(AuthResourceTest.admin(), Map.of("name", "candle-user", "scopes", List.of("inference")))
                .then().statusCode(201).extract().path("key");
    }

    /** Waits (public readiness) until candle, started on demand, answers. */
    static void awaitCandle() throws InterruptedException {
        long deadline = System.currentTimeMillis() + 150_000;
        while (given().get("/v2/health/ready").statusCode() != 200) {
            assertTrue(System.currentTimeMillis() < deadline, "candle did not start within 150 s");
            Thread.sleep(500);
        }
    }

    @Test
    @Order(1)
    void candleStartsOnDemandWhileTheCallerIsToldToRetry() throws InterruptedException {
        // an earlier test class may have started it (the fuzz suite calls every route)
        given().auth().oauth2(AuthResourceTest.admin()).when().post("/api/plugins/candle/stop?wait=true").then().statusCode(200);
        given().when().get("/v2/health/live").then().statusCode(200).body("live", equalTo(true));
        // candle is not running: the first call asks the plugin manager to start it and answers 503
        given().header("x-api-key", key).when().get("/v2/models/" + RunnerTestModels.AFFINE)
                .then().statusCode(503).header("Retry-After", "5").contentType("application/problem+json")
                .body("detail", containsString("started on demand"));
        awaitCandle();
        // the plugin manager calls it RUNNING at its next health probe (candle may answer a moment before)
        long deadline = System.currentTimeMillis() + 60_000;
        while (!"RUNNING".equals(given().auth().oauth2(AuthResourceTest.admin()).when().get("/api/plugins/candle")
                .then().statusCode(200).extract().path("status.state"))) {
            assertTrue(System.currentTimeMillis() < deadline, "candle answers but is not RUNNING after 60 s");
            Thread.sleep(250);
        }
    }

    @Test
    @Order(2)
    void miniLmThroughTheProtocolMatchesTheEmbeddingsPath() throws InterruptedException {
        awaitCandle();
        // "hello world" as MiniLM's tokenizer writes it: [CLS] hello world [SEP]
        Map<String, Object> body = Map.of("id", "q-1", "inputs", List.of(
                Map.of("name", "input_ids", "shape", List.of(1, 4), "datatype", "INT64", "data", List.of(101, 7592, 2088, 102)),
                Map.of("name", "attention_mask", "shape", List.of(1, 4), "datatype", "INT64", "data", List.of(List.of(1, 1, 1, 1))),
                Map.of("name", "token_type_ids", "shape", List.of(1, 4), "datatype", "INT64", "data", List.of(0, 0, 0, 0))),
                "outputs", List.of(Map.of("name", "last_hidden_state")));
        Response reply = given().header("x-api-key", key).contentType("application/json").body(body)
                .when().post("/v2/models/all-minilm-l6-v2/infer");
        reply.then().statusCode(200).contentType("application/json").body("model_name", equalTo("all-minilm-l6-v2"))
                .body("id", equalTo("q-1")).body("outputs[0].name", equalTo("last_hidden_state"))
                .body("outputs[0].datatype", equalTo("FP32")).body("outputs[0].shape", equalTo(List.of(1, 4, 384)));
        List<Float> hidden = reply.jsonPath().getList("outputs[0].data", Float.class);
        assertEquals(4 * 384, hidden.size());
        // mean over the four tokens, then L2-normalised: the sentence embedding
        double[] pooled = new double[384];
        for (int t = 0; t < 4; t++) {
            for (int d = 0; d < 384; d++) {
                pooled[d] += hidden.get(t * 384 + d) / 4.0;
            }
        }
        double norm = Math.sqrt(Arrays.stream(pooled).map(v -> v * v).sum());
        List<Float> embedded = given().header("x-api-key", key).contentType("application/json")
                .body(Map.of("model", "all-minilm-l6-v2", "input", "hello world")).when().post("/v1/embeddings")
                .then().statusCode(200).extract().jsonPath().getList("data[0].embedding", Float.class);
        for (int d = 0; d < 384; d++) {
            assertEquals(embedded.get(d), pooled[d] / norm, 1e-5, "dimension " + d);
        }

        given().header("x-api-key", key).when().get("/v2/models/all-minilm-l6-v2").then().statusCode(200)
                .body("platform", equalTo("onnxruntime_onnx")).body("versions", equalTo(List.of("1")))
                .body("inputs.name", hasItem("input_ids")).body("outputs[0].shape", equalTo(List.of(-1, -1, 384)));
        given().header("x-api-key", key).when().get("/v2/models/all-minilm-l6-v2/ready").then().statusCode(200)
                .body("ready", equalTo(true));
    }

    @Test
    @Order(3)
    void binaryTensorsInAndOutGiveTheExactNumbers() throws InterruptedException {
        awaitCandle();
        String header = "{\"inputs\":[{\"name\":\"x\",\"shape\":[2,3],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":24}}],"
                + "\"outputs\":[{\"name\":\"y\",\"parameters\":{\"binary_data\":true}}]}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer body = ByteBuffer.allocate(json.length + 24).order(ByteOrder.LITTLE_ENDIAN).put(json);
        for (float v : new float[] {1, 2, 3, -1, 0, 0.5f}) {
            body.putFloat(v);
        }
        Response reply = given().header("x-api-key", key).header("Inference-Header-Content-Length", json.length)
                .contentType("application/octet-stream").body(body.array())
                .when().post("/v2/models/" + RunnerTestModels.AFFINE + "/versions/1/infer");
        reply.then().statusCode(200).contentType("application/octet-stream");
        int jsonLength = Integer.parseInt(reply.header("Inference-Header-Content-Length"));
        byte[] bytes = reply.asByteArray();
        String answer = new String(bytes, 0, jsonLength, StandardCharsets.UTF_8);
        assertTrue(answer.contains("\"binary_data_size\":16"), answer);
        assertTrue(answer.contains("\"shape\":[2,2]"), answer);
        float[] y = new float[4];
        ByteBuffer.wrap(bytes, jsonLength, 16).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(y);
        assertArrayEquals(new float[] {22.5f, 27f, 2f, 0f}, y, 0f);
    }

    @Test
    @Order(4)
    void badRequestsGetProblemsNamingTheExpectedSignature() throws Exception {
        awaitCandle();
        String url = "/v2/models/" + RunnerTestModels.AFFINE + "/infer";
        given().contentType("application/json").body("{}").when().post(url).then().statusCode(401);
        given().header("x-api-key", key).contentType("application/json")
                .body(Map.of("inputs", List.of(Map.of("name", "x", "shape", List.of(1, 3), "datatype", "INT64", "data", List.of(1, 2, 3)))))
                .when().post(url).then().statusCode(400).contentType("application/problem+json")
                .body("detail", containsString("expects FLOAT [-1, 3]"));
        given().header("x-api-key", key).contentType("application/json")
                .body(Map.of("inputs", List.of(Map.of("name", "x", "shape", List.of(2, 3), "datatype", "FP32", "data", List.of(1, 2, 3)))))
                .when().post(url).then().statusCode(400).body("detail", containsString("needs 6"));
        given().header("x-api-key", key).contentType("application/json")
                .body(Map.of("inputs", List.of(Map.of("name", "z", "shape", List.of(1, 3), "datatype", "FP32", "data", List.of(1, 2, 3)))))
                .when().post(url).then().statusCode(400).body("detail", containsString("x FLOAT [-1, 3]"));
        given().header("x-api-key", key).contentType("application/json").body("{\"inputs\": [")
                .when().post(url).then().statusCode(400).contentType("application/problem+json");
        given().header("x-api-key", key).contentType("application/json")
                .body(Map.of("inputs", List.of(Map.of("name", "x", "shape", List.of(1, 3), "datatype", "FP32", "data", List.of(1, 2, 3)))))
                .when().post("/v2/models/no-such-model/infer").then().statusCode(404).body("detail", containsString("no-such-model"));
        given().header("x-api-key", key).when().get("/v2/models/" + RunnerTestModels.AFFINE + "/versions/2")
                .then().statusCode(404);
        // over the 16 MiB the gateway takes on this route: a problem, before anything reaches candle
        String oversized = OversizedRequest.announce(url, 17 << 20);
        assertTrue(oversized.startsWith("HTTP/1.1 413"), oversized);
        assertTrue(oversized.contains("application/problem+json"), oversized);
    }

    @Test
    @Order(5)
    void loadListAndUnloadThroughTheApi() throws InterruptedException {
        awaitCandle();
        given().header("x-api-key", key).contentType("application/json").body(Map.of("keepAliveSeconds", -1))
                .when().post("/api/candle/models/" + RunnerTestModels.ECHO + "/load").then().statusCode(200)
                .body("model.name", equalTo(RunnerTestModels.ECHO)).body("model.provider", equalTo("CPU"))
                .body("model.expiresAtEpochMs", equalTo("0")).body("model.dynamicBatch", equalTo(false));
        given().header("x-api-key", key).when().get("/api/candle/models").then().statusCode(200)
                .body("models.name", hasItem(RunnerTestModels.ECHO));
        // candle reports what it holds to telemetry-service (once a second) as its own source
        String admin = AuthResourceTest.admin();
        long deadline = System.currentTimeMillis() + 30_000;
        while (!given().auth().oauth2(admin).when().get("/api/telemetry/sources/inference-service-runner?metric=runner_models_loaded&from=-1m")
                .then().extract().jsonPath().getList("series[0].points.max", Double.class).stream().anyMatch(v -> v != null && v >= 1)) {
            assertTrue(System.currentTimeMillis() < deadline, "no runner_models_loaded >= 1 in telemetry within 30 s");
            Thread.sleep(500);
        }
        given().header("x-api-key", key).when().post("/v2/repository/index").then().statusCode(200)
                .body("find { it.name == '" + RunnerTestModels.ECHO + "' }.state", equalTo("READY"));
        given().header("x-api-key", key).when().post("/api/candle/models/" + RunnerTestModels.ECHO + "/unload")
                .then().statusCode(200).body("unloaded", equalTo(true));
        given().header("x-api-key", key).when().get("/v2/models/" + RunnerTestModels.ECHO + "/ready").then().statusCode(400);
        given().header("x-api-key", key).contentType("application/json").body(Map.of("keepAliveSeconds", "soon"))
                .when().post("/api/candle/models/" + RunnerTestModels.ECHO + "/load").then().statusCode(400);
    }
}
