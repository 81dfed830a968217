package dev.bkg.gateway;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.bkg.gateway.stream.PluginStreams;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import io.restassured.http.ContentType;
import io.vertx.core.json.JsonObject;

/**
 * The plugin sockets with a real WebSocket client: authenticated at the handshake, live lines and
 * status changes of a real plugin process, one backend stream shared by many sockets, unknown
 * plugins closed with 4404, and sockets that outlive a plugin-manager crash.
 */
@QuarkusTest
@WithTestResource(Backends.class)
@TestProfile(AuthResourceTest.ShortCache.class)
class PluginSocketsTest {

    static final Duration WAIT = Duration.ofSeconds(30);

    @Backends.Inject
    Backends backends;

    @Inject
    PluginStreams streams;

    static String ws(String path) {
        return "ws://127.0.0.1:" + RestAssured.port + path;
    }

    @AfterEach
    void stopRepoagent() {
        given().auth().oauth2(AuthResourceTest.admin()).when().post("/api/plugins/repoagent/stop?wait=true");
    }

    @Test
    void handshakeNeedsAValidCredentialWithTheScope() {
        String admin = AuthResourceTest.admin();
        String outsider = AuthResourceTest.createKey(admin, Map.of("name", "ws-outsider", "scopes", List.of("inference")))
                .then().statusCode(201).extract().path("key");
        String reader = AuthResourceTest.createKey(admin, Map.of("name", "ws-reader", "scopes", List.of("plugins:read")))
                .then().statusCode(201).extract().path("key");
        assertEquals(401, SocketClient.refusedStatus(ws("/ws/plugins/repoagent/status")));
        assertEquals(401, SocketClient.refusedStatus(ws("/ws/plugins/repoagent/status"), "bkg.v1", "bkg.bearer.bkg_nope_nope"));
        assertEquals(403, SocketClient.refusedStatus(ws("/ws/plugins/repoagent/status"), "bkg.v1", "bkg.bearer." + outsider));
        try (SocketClient bySubprotocol = SocketClient.open(ws("/ws/plugins/repoagent/status"), reader);
                SocketClient byQuery = SocketClient.connect(ws("/ws/plugins/status?access_token=" + reader))) {
            assertEquals("bkg.v1", bySubprotocol.subprotocol());
            bySubprotocol.await(m -> "status".equals(m.getString("type")) && "repoagent".equals(m.getString("pluginId")),
                    WAIT, "with repoagent's status");
            byQuery.await(m -> "status".equals(m.getString("type")) && "apikeys".equals(m.getString("pluginId")),
                    WAIT, "with every plugin's status");
        }
    }

    @Test
    void statusChangesAndLogLinesArriveLiveFromOneSharedStream() throws Exception {
        String admin = AuthResourceTest.admin();
        try (SocketClient status = SocketClient.open(ws("/ws/plugins/repoagent/status"), admin);
                SocketClient logs = SocketClient.open(ws("/ws/plugins/repoagent/logs"), admin);
                SocketClient logs2 = SocketClient.open(ws("/ws/plugins/repoagent/logs"), admin)) {
            status.await(m -> "STOPPED".equals(m.getString("state")), WAIT, "STOPPED first");
            given().auth().oauth2(admin).when().post("/api/plugins/repoagent/start?wait=true").then().statusCode(200);
            status.await(m -> "STARTING".equals(m.getString("state")) && "STOPPED".equals(m.getString("previousState")),
                    WAIT, "STOPPED → STARTING");
            status.await(m -> "RUNNING".equals(m.getString("state")), WAIT, "→ RUNNING");
            JsonObject listening = logs.await(m -> "log".equals(m.getString("type"))
                    && m.getString("text").contains("listening on"), WAIT, "with the plugin's first line");
            assertEquals("STDOUT", listening.getString("stream"));

            given().auth().oauth2(admin).contentType(ContentType.JSON)
                    .body(Map.of("path", PluginsResourceTest.ANALYZABLE))
                    .when().post("/api/capabilities/repo.analyze").then().statusCode(200);
            JsonObject first = logs.await(m -> m.getString("text", "").contains("repo.analyze"), WAIT, "about the call");
            JsonObject second = logs2.await(m -> m.getString("text", "").contains("repo.analyze"), WAIT, "about the call");
            assertEquals(first.getLong("seq"), second.getLong("seq"), "both sockets get the same line");
            assertEquals("INFO", first.getString("level"));
            assertEquals(1, streams.logs().openStreams(), "one backend log stream however many sockets");
            List<Long> seqs = logs.received.stream().filter(m -> "log".equals(m.getString("type")))
                    .map(m -> m.getLong("seq")).toList();
            for (int i = 1; i < seqs.size(); i++) {
                assertTrue(seqs.get(i) > seqs.get(i - 1), "lines arrive in order, each once: " + seqs);
            }

            // a client reconnecting after that line gets nothing older again
            try (SocketClient resumed = SocketClient.open(ws("/ws/plugins/repoagent/logs?afterSeq=" + first.getLong("seq")), admin)) {
                given().auth().oauth2(admin).contentType(ContentType.JSON)
                        .body(Map.of("path", PluginsResourceTest.ANALYZABLE))
                        .when().post("/api/capabilities/repo.analyze").then().statusCode(200);
                JsonObject next = resumed.await(m -> "log".equals(m.getString("type")), WAIT, "after the resumed seq");
                assertTrue(next.getLong("seq") > first.getLong("seq"), "replay starts after afterSeq");
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (streams.logs().openStreams() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(0, streams.logs().openStreams(), "the last socket to leave closes the backend stream");
    }

    @Test
    void unknownPluginsAndBadParametersCloseTheSocketWithACode() throws Exception {
        String admin = AuthResourceTest.admin();
        try (SocketClient unknown = SocketClient.open(ws("/ws/plugins/nope/logs"), admin);
                SocketClient bad = SocketClient.open(ws("/ws/plugins/repoagent/logs?afterSeq=soon"), admin)) {
            assertEquals(4404, unknown.closeCode.get(20, TimeUnit.SECONDS));
            assertEquals(4400, bad.closeCode.get(20, TimeUnit.SECONDS));
        }
    }

    @Test
    void socketsStayOpenWhileThePluginManagerRestartsAndResumeByThemselves() {
        String admin = AuthResourceTest.admin();
        try (SocketClient status = SocketClient.open(ws("/ws/plugins/repoagent/status"), admin)) {
            status.await(m -> "status".equals(m.getString("type")), WAIT, "the current status");
            backends.pluginManager().kill();
            try {
                status.await(m -> "upstream".equals(m.getString("type")) && "reconnecting".equals(m.getString("state")),
                        WAIT, "saying it reconnects");
            } finally {
                backends.pluginManager().start();
            }
            status.await(m -> "upstream".equals(m.getString("type")) && "live".equals(m.getString("state")),
                    WAIT, "saying it is live again");
            given().auth().oauth2(admin).when().post("/api/plugins/repoagent/start?wait=true").then().statusCode(200);
            status.await(m -> "RUNNING".equals(m.getString("state")), WAIT, "from the restarted plugin manager");
            assertTrue(status.closeCode.getNow(-1) == -1, "the socket stayed open");
        }
    }
}
