package dev.bkg.gateway;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.bkg.testsupport.ChatTestModels;
import dev.bkg.testsupport.HuggingFaceRepoServer;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * OpenAI-shaped chat through the gateway → gRPC → inference-service (llmserver) over real HTTP and
 * real server-sent events: first with no chat model (409 saying how to pull one, also for a
 * stream), then with generated models pulled through the gateway's own Hugging Face download from
 * a local hub — whole replies, streamed chunks that add up to the same reply, a client that goes
 * away stopping its generation, and bad settings as problems.
 */
@QuarkusTest
@WithTestResource(Backends.class)
@TestProfile(AuthResourceTest.ShortCache.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChatCompletionsTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static HuggingFaceRepoServer hub;

    @Backends.Inject
    Backends backends;

    @TestHTTPResource("/v1/chat/completions")
    URI completions;

    static String key() {
        return AuthResourceTest.createKey(AuthResourceTest.admin(), Map.of("name", "chatter", "scopes", List.of("inference")))
                .then().statusCode(201).extract().path("key");
    }

    static Map<String, Object> hello(String model, int maxTokens, boolean stream) {
        return Map.of("model", model, "messages", List.of(Map.of("role", "user", "content", "Hello")), "max_tokens", maxTokens,
                "temperature", 0, "stream", stream);
    }

    @AfterAll
    static void closeHub() {
        if (hub != null) {
            hub.close();
        }
    }

    @Test
    @Order(1)
    void withNoChatModelChatSaysHowToPullOne() {
        String key = key();
        for (boolean stream : new boolean[] {false, true}) {
            given().header("x-api-key", key).contentType("application/json")
                    .body(Map.of("messages", List.of(Map.of("role", "user", "content", "hi")), "stream", stream))
                    .when().post("/v1/chat/completions").then().statusCode(409)
                    .contentType("application/problem+json").body("detail", containsString("./bkg pull"))
                    .body("detail", containsString("/api/models/download"));
        }
    }

    @Test
    @Order(2)
    void modelsArePulledInTheHuggingFaceLayoutThroughTheGateway() throws Exception {
        hub = new HuggingFaceRepoServer();
        Path repos = Files.createTempDirectory("bkg-chat-hub");
        String admin = AuthResourceTest.admin();
        for (String name : List.of(ChatTestModels.NEXT_TOKEN, ChatTestModels.TINY_QWEN)) {
            ChatTestModels.publish(hub, repos, name);
            String id = given().auth().oauth2(admin).contentType("application/json")
                    .body(Map.of("name", name, "kind", "llm", "huggingFace", Map.of("repo", "test/" + name,
                            "endpoint", hub.endpoint(), "files", ChatTestModels.FILES)))
                    .when().post("/api/models/download").then().statusCode(202).extract().path("modelId");
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (!"READY".equals(given().auth().oauth2(admin).when().get("/api/models/" + id).then().statusCode(200)
                    .extract().path("status"))) {
                assertTrue(System.nanoTime() < deadline, name + " did not become READY");
                Thread.sleep(200);
            }
        }
        given().header("x-api-key", key()).when().get("/v1/models").then().statusCode(200)
                .body("data.find { it.id == '" + ChatTestModels.TINY_QWEN + "' }.kind", equalTo("llm"));
    }

    @Test
    @Order(3)
    void aWholeReplyAndTheSameReplyStreamedAsServerSentEvents() throws Exception {
        String key = key();
        JsonNode whole = JSON.readTree(given().header("x-api-key", key).contentType("application/json")
                .body(hello(ChatTestModels.NEXT_TOKEN, 10, false)).when().post("/v1/chat/completions").then().statusCode(200)
                .contentType("application/json").extract().asString());
        assertEquals("chat.completion", whole.path("object").asText());
        assertEquals(ChatTestModels.NEXT_TOKEN, whole.path("model").asText());
        assertEquals("length", whole.path("choices").get(0).path("finish_reason").asText());
        assertEquals(10, whole.path("usage").path("completion_tokens").asInt());
        String content = whole.path("choices").get(0).path("message").path("content").asText();
        assertTrue(content.length() > 3, whole.toString());

        // OpenAI's own client asks for application/json even for a stream; browsers for text/event-stream
        for (String accept : List.of("application/json", "text/event-stream")) {
            given().header("x-api-key", key).header("Accept", accept).contentType("application/json")
                    .body(hello(ChatTestModels.NEXT_TOKEN, 2, accept.equals("text/event-stream"))).when()
                    .post("/v1/chat/completions").then().statusCode(200);
        }
        HttpResponse<InputStream> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(completions)
                .header("x-api-key", key).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(hello(ChatTestModels.NEXT_TOKEN, 10, true))))
                .build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<String> events = new ArrayList<>();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                if (line.startsWith("data: ")) {
                    events.add(line.substring(6));
                } else {
                    assertEquals("", line, "SSE lines are data lines and blank separators");
                }
            }
        }
        assertEquals("[DONE]", events.get(events.size() - 1));
        JsonNode first = JSON.readTree(events.get(0));
        assertEquals("chat.completion.chunk", first.path("object").asText());
        assertEquals("assistant", first.path("choices").get(0).path("delta").path("role").asText());
        StringBuilder streamed = new StringBuilder();
        for (String event : events.subList(1, events.size() - 1)) {
            streamed.append(JSON.readTree(event).path("choices").get(0).path("delta").path("content").asText(""));
        }
        assertEquals(content, streamed.toString());
        JsonNode last = JSON.readTree(events.get(events.size() - 2));
        assertEquals("length", last.path("choices").get(0).path("finish_reason").asText());
        assertEquals(10, last.path("usage").path("completion_tokens").asInt());
        assertTrue(last.path("timings").path("tokens_per_second").asDouble() > 0, last.toString());
        assertTrue(last.path("timings").has("time_to_first_token_ms"), last.toString());
    }

    @Test
    @Order(4)
    void aClientThatGoesAwayStopsItsGeneration() throws Exception {
        String key = key();
        // a raw socket, so that "going away" is unambiguous: the TCP connection closes mid-stream
        try (Socket socket = new Socket(completions.getHost(), completions.getPort())) {
            fiveEventsOfALongStream(socket, key);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (true) {
            JsonNode models = JSON.readTree(given().header("x-api-key", key).when().get("/api/chat/models").then().statusCode(200)
                    .extract().asString());
            JsonNode nextToken = null;
            for (JsonNode m : models.path("models")) {
                if (m.path("name").asText().equals(ChatTestModels.NEXT_TOKEN)) {
                    nextToken = m;
                }
            }
            assertTrue(nextToken != null && nextToken.path("loaded").asBoolean(), models.toString());
            if (nextToken.path("active").asInt() == 0) {
                break;
            }
            assertTrue(System.nanoTime() < deadline, "the generation still runs after its client went away: " + models);
            Thread.sleep(100);
        }
    }

    @Test
    @Order(5)
    void badSettingsAreProblems() {
        String key = key();
        given().contentType("application/json").body(hello(ChatTestModels.TINY_QWEN, 4, false))
                .when().post("/v1/chat/completions").then().statusCode(401);
        for (Map<String, Object> bad : List.<Map<String, Object>>of(
                Map.of("messages", List.of()),
                Map.of("messages", List.of(Map.of("role", "user", "content", "x")), "max_tokens", 0),
                Map.of("messages", List.of(Map.of("role", "user", "content", "x")), "temperature", -1),
                Map.of("messages", List.of(Map.of("role", "user", "content", "x")), "n", 2),
                Map.of("messages", List.of(Map.of("role", "user", "content", "x")), "stop", 5),
                Map.of("messages", List.of(Map.of("role", "wizard", "content", "x")), "model", ChatTestModels.TINY_QWEN))) {
            given().header("x-api-key", key).contentType("application/json").body(bad).when().post("/v1/chat/completions")
                    .then().statusCode(400).contentType("application/problem+json");
        }
        given().header("x-api-key", key).contentType("application/json")
                .body(Map.of("model", "no-such-model", "messages", List.of(Map.of("role", "user", "content", "x"))))
                .when().post("/v1/chat/completions").then().statusCode(404);
        given().header("x-api-key", key).contentType("application/json")
                .body(Map.of("model", ChatTestModels.TINY_QWEN, "stream", true,
                        "messages", List.of(Map.of("role", "user", "content", "x")), "top_p", 0))
                .when().post("/v1/chat/completions").then().statusCode(400).body("detail", containsString("top_p"));
        given().header("x-api-key", key).when().get("/api/chat/models").then().statusCode(200)
                .body("models.name", hasItem(ChatTestModels.TINY_QWEN));
    }

    @Test
    @Order(6)
    void aServiceThatDiesMidStreamEndsTheStreamWithAnErrorEventNotAHang() throws Exception {
        String key = key();
        try (Socket socket = new Socket(completions.getHost(), completions.getPort())) {
            socket.setSoTimeout(30_000); // a hang fails the test instead of blocking it
            BufferedReader lines = fiveEventsOfALongStream(socket, key);
            backends.inference().kill();
            // what follows: maybe a few tokens already on their way, then an error event, then the chunked body's end
            String error = null;
            for (String line = lines.readLine(); line != null && !line.equals("0"); line = lines.readLine()) {
                if (line.startsWith("data: ") && line.contains("\"error\"")) {
                    error = line;
                }
                assertFalse(line.contains("[DONE]"), "a broken generation must not end as if complete");
            }
            assertTrue(error != null, "no error event after inference-service died");
            assertTrue(JSON.readTree(error.substring(6)).path("error").path("message").asText().length() > 0, error);
        } finally {
            backends.inference().start();
        }
    }

    /** Starts a 4000-token stream over a raw HTTP/1.1 socket and reads its first five events; the rest is the caller's. */
    BufferedReader fiveEventsOfALongStream(Socket socket, String key) throws Exception {
        byte[] body = JSON.writeValueAsBytes(hello(ChatTestModels.NEXT_TOKEN, 4000, true));
        OutputStream out = socket.getOutputStream();
        out.write(("POST " + completions.getPath() + " HTTP/1.1\r\nHost: localhost\r\nx-api-key: " + key
                + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        BufferedReader lines = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        assertTrue(lines.readLine().contains(" 200 "));
        int events = 0;
        while (events < 5) {
            if (lines.readLine().contains("data: ")) {
                events++;
            }
        }
        return lines;
    }
}
