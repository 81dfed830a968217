package dev.bkg.gateway;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;

/**
 * OpenAI-shaped embeddings through the gateway → gRPC → inference-service (llmserver) → ONNX
 * Runtime with the built-in MiniLM it fetched from model-service: the response shape an OpenAI
 * client reads, base64 vectors equal to the float ones, the model list, scopes, and bad input as
 * problems with the limit named.
 */
@QuarkusTest
@WithTestResource(Backends.class)
@TestProfile(AuthResourceTest.ShortCache.class)
class OpenAiEmbeddingsTest {

    static double cosine(List<Float> a, List<Float> b) {
        double dot = 0;
        for (int i = 0; i < a.size(); i++) {
            dot += a.get(i) * b.get(i);
        }
        return dot; // the vectors come normalised
    }

    @Test
    void embeddingsComeInTheOpenAiShape() {
        String key = AuthResourceTest.createKey(AuthResourceTest.admin(), Map.of("name", "embedder", "scopes",
                List.of("inference"))).then().statusCode(201).extract().path("key");
        JsonPath reply = given().header("x-api-key", key).contentType("application/json")
                .body(Map.of("input", List.of("A man is eating food.", "A man is eating bread.", "A girl is carrying a baby."),
                        "model", "all-minilm-l6-v2"))
                .when().post("/v1/embeddings").then().statusCode(200)
                .body("object", equalTo("list")).body("model", equalTo("all-minilm-l6-v2"))
                .body("data.object", hasItem("embedding")).body("data.index", equalTo(List.of(0, 1, 2)))
                .body("usage.prompt_tokens", equalTo(25)).body("usage.total_tokens", equalTo(25)) // 8 + 8 + 9 word pieces
                .extract().jsonPath();
        List<Float> food = reply.getList("data[0].embedding", Float.class);
        assertEquals(384, food.size());
        assertTrue(cosine(food, reply.getList("data[1].embedding", Float.class)) > cosine(food,
                reply.getList("data[2].embedding", Float.class)) + 0.5);

        // one string, base64: the same little-endian float32 values
        String encoded = given().header("x-api-key", key).contentType("application/json")
                .body(Map.of("input", "A man is eating food.", "encoding_format", "base64"))
                .when().post("/v1/embeddings").then().statusCode(200).extract().path("data[0].embedding");
        ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(encoded)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < food.size(); i++) {
            assertEquals(food.get(i), bytes.getFloat(), 1e-6);
        }

        given().header("x-api-key", key).when().get("/v1/models").then().statusCode(200)
                .body("object", equalTo("list")).body("data.id", hasItem("all-minilm-l6-v2"))
                .body("data.find { it.id == 'all-minilm-l6-v2' }.dimensions", equalTo(384))
                .body("data.id", org.hamcrest.Matchers.not(hasItem("mobileface")));
    }

    @Test
    void badInputIsAProblemWithTheLimitNamed() throws Exception {
        String admin = AuthResourceTest.admin();
        given().contentType("application/json").body(Map.of("input", "x")).when().post("/v1/embeddings").then().statusCode(401);
        String reader = AuthResourceTest.createKey(admin, Map.of("name", "no-inference", "scopes", List.of("models:read")))
                .then().statusCode(201).extract().path("key");
        given().header("x-api-key", reader).contentType("application/json").body(Map.of("input", "x"))
                .when().post("/v1/embeddings").then().statusCode(403);

        problem(admin, Map.of("input", List.of()), 400, "no input");
        problem(admin, Map.of("input", List.of(1, 2, 3)), 400, "token arrays");
        problem(admin, Map.of("model", "all-minilm-l6-v2"), 400, "input must be");
        problem(admin, Map.of("input", "x", "encoding_format", "int8"), 400, "encoding_format");
        problem(admin, Map.of("input", "x", "model", "no-such-model"), 404, "no-such-model");
        problem(admin, Map.of("input", "x", "model", "mobileface"), 400, "not an embedding model");
        problem(admin, Map.of("input", "x", "dimensions", 1536), 400, "384 dimensions");
        problem(admin, Map.of("input", IntStream.range(0, 10_000).mapToObj(i -> "t").toList()), 413, "at most 2048");
        problem(admin, Map.of("input", "x".repeat(100_000)), 413, "at most 65536");
        // a body larger than the gateway takes at all, even on this bulk route
        String oversized = OversizedRequest.announce("/v1/embeddings", 17 << 20);
        assertTrue(oversized.startsWith("HTTP/1.1 413") && oversized.contains("16777216 bytes"), oversized);
        // a batch over the 1 MiB other routes take is still served here: the service's limits decide
        List<String> long4k = IntStream.range(0, 300).mapToObj(i -> (i + " a long text about bread. ").repeat(160)).toList();
        given().auth().oauth2(admin).contentType("application/json").body(Map.of("input", long4k, "encoding_format", "base64"))
                .when().post("/v1/embeddings").then().statusCode(200).body("data.size()", equalTo(300));
        // invalid UTF-8 inside a JSON string
        byte[] broken = "{\"input\":\"caf\u00e9 \"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        broken[broken.length - 4] = (byte) 0xC3;
        broken[broken.length - 3] = (byte) 0x28;
        given().auth().oauth2(admin).contentType("application/json").body(broken)
                .when().post("/v1/embeddings").then().statusCode(400);
    }

    static void problem(String token, Map<String, ?> body, int status, String detail) {
        given().auth().oauth2(token).contentType("application/json").body(body).when().post("/v1/embeddings")
                .then().statusCode(status).contentType("application/problem+json").body("detail", containsString(detail));
    }
}
