package dev.bkg.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Scale-out of the gateway: a second gateway process, started with exactly the first one's command
 * line and environment but its own port (what a second replica of the Deployment is), against the
 * one set of services {@code ./bkg up} started. Every socket on either replica gets the same log
 * lines and telemetry samples (each replica follows the backends' streams itself), a session made
 * through one works on the other (sessions live in auth-service), and a key revoked through one is
 * refused by the other within the credential cache's TTL (bkg.gateway.auth-cache-ttl, 5 s).
 */
class GatewayScaleOutIT {

    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration CACHE_TTL = Duration.ofSeconds(5);

    @TempDir
    Path home;

    MeshUnderTest mesh;
    Process second;

    @AfterEach
    void leaveNothingBehind() throws Exception {
        if (second != null) {
            second.destroyForcibly().waitFor();
        }
        if (mesh != null && !mesh.processes().isEmpty()) {
            mesh.bkg(Duration.ofSeconds(90), "down");
        }
    }

    @Test
    void twoGatewaysServeTheSameStreamsSessionsAndKeyRevocations() throws Exception {
        mesh = new MeshUnderTest(home);
        mesh.useFreePorts();
        String password = "scale-out-admin-password";
        mesh.env.put("BKG_ADMIN_PASSWORD", password);
        MeshUnderTest.Result up = mesh.bkg(LauncherIT.UP_TIMEOUT, "up", "--detach");
        assertEquals(0, up.exit(), up.output());

        String a = "http://127.0.0.1:" + mesh.port("BKG_GATEWAY_PORT");
        int portB = Ports.free();
        second = startSecondGateway(portB);
        String b = "http://127.0.0.1:" + portB;
        HttpClient http = HttpClient.newHttpClient();
        await(Duration.ofSeconds(120), "the second gateway is ready", () -> status(http, b + "/q/health/ready", null, null) == 200);

        String token = JSON.readTree(LauncherIT.post(http, a + "/api/auth/login", null,
                "{\"username\":\"admin\",\"password\":\"" + password + "\"}").body()).get("token").asText();
        assertEquals(200, withToken(http, b + "/api/plugins", token), "a session made through one gateway works on the other");

        // sockets on both replicas, then a plugin started through one of them
        List<String> logsA = listen(http, a, "/ws/plugins/repoagent/logs", token);
        List<String> logsB = listen(http, b, "/ws/plugins/repoagent/logs", token);
        List<String> samplesA = listen(http, a, "/ws/plugins/repoagent/telemetry", token);
        List<String> samplesB = listen(http, b, "/ws/plugins/repoagent/telemetry", token);
        HttpResponse<String> started = LauncherIT.post(http, a + "/api/plugins/repoagent/start?wait=true", token, "");
        assertEquals(200, started.statusCode(), started.body());
        try {
            long pid = JSON.readTree(get(http, a + "/api/plugins/repoagent", token)).path("status").path("pid").asLong();
            assertTrue(pid > 0);
            String startLine = "started pid " + pid;
            await(Duration.ofSeconds(30), "both replicas' sockets got the plugin's start line and RUNNING",
                    () -> logged(logsA, startLine) && logged(logsB, startLine)
                            && logged(logsA, "healthy: RUNNING") && logged(logsB, "healthy: RUNNING"));
            // the same telemetry sample (same time, same figures) reaches the sockets on both replicas
            await(Duration.ofSeconds(45), "a telemetry sample reached both replicas' sockets",
                    () -> samplesA.stream().filter(m -> m.contains("\"type\":\"sample\"")).anyMatch(samplesB::contains));
        } finally {
            LauncherIT.post(http, a + "/api/plugins/repoagent/stop?wait=true", token, "");
        }

        // a key: created and revoked through A; B, which validated (and cached) it, refuses it within the TTL
        JsonNode created = JSON.readTree(LauncherIT.post(http, a + "/api/auth/keys", token,
                "{\"name\":\"scale-out\",\"scopes\":[\"plugins:read\"]}").body());
        String key = created.get("key").asText();
        assertEquals(200, withKey(http, b + "/api/plugins", key));
        HttpResponse<String> revoked = http.send(HttpRequest.newBuilder(URI.create(a + "/api/auth/keys/" + created.get("id").asText()))
                .header("Authorization", "Bearer " + token).DELETE().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, revoked.statusCode(), revoked.body());
        assertEquals(401, withKey(http, a + "/api/plugins", key), "the replica that revoked it refuses it at once");
        long revokedAt = System.nanoTime();
        await(CACHE_TTL.plusSeconds(3), "the other replica refuses the revoked key", () -> withKey(http, b + "/api/plugins", key) == 401);
        Duration took = Duration.ofNanos(System.nanoTime() - revokedAt);
        System.out.printf("GatewayScaleOutIT: the second gateway refused the revoked key after %d ms%n", took.toMillis());
        assertTrue(took.compareTo(CACHE_TTL.plusSeconds(1)) <= 0, "refused only after " + took);
    }

    /** The running gateway's own command line and environment, on another port: a second replica. */
    private Process startSecondGateway(int port) throws Exception {
        ProcessHandle first = ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains(home.toString()) && c.contains("gateway-service")).orElse(false))
                .findFirst().orElseThrow(() -> new AssertionError("no gateway of this mesh runs: " + mesh.processes()));
        List<String> command = nulSeparated(Path.of("/proc/" + first.pid() + "/cmdline"));
        Map<String, String> environment = new HashMap<>();
        for (String entry : nulSeparated(Path.of("/proc/" + first.pid() + "/environ"))) {
            int eq = entry.indexOf('=');
            if (eq > 0) {
                environment.put(entry.substring(0, eq), entry.substring(eq + 1));
            }
        }
        environment.put("QUARKUS_HTTP_PORT", String.valueOf(port));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(home.resolve("second-gateway.log").toFile());
        builder.environment().clear();
        builder.environment().putAll(environment);
        return builder.start();
    }

    private static List<String> nulSeparated(Path file) throws Exception {
        List<String> parts = new ArrayList<>(Arrays.asList(new String(Files.readAllBytes(file), StandardCharsets.UTF_8).split("\0")));
        parts.removeIf(String::isEmpty);
        return parts;
    }

    /** Opens a socket with the credential as a subprotocol (as the dashboard does); its text messages, as they come. */
    private static List<String> listen(HttpClient http, String gateway, String path, String token) {
        List<String> messages = new CopyOnWriteArrayList<>();
        http.newWebSocketBuilder().subprotocols("bkg.v1", "bkg.bearer." + token)
                .buildAsync(URI.create(gateway.replace("http://", "ws://") + path), new WebSocket.Listener() {
                    private final StringBuilder partial = new StringBuilder();

                    @Override
                    public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
                        partial.append(data);
                        if (last) {
                            messages.add(partial.toString());
                            partial.setLength(0);
                        }
                        socket.request(1);
                        return null;
                    }
                }).join();
        return messages;
    }

    private static boolean logged(List<String> messages, String text) {
        return messages.stream().anyMatch(m -> m.contains("\"type\":\"log\"") && m.contains(text));
    }

    /** The status a GET answers with this credential header (none when null); -1 while nothing listens. */
    private static int status(HttpClient http, String url, String header, String credential) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET();
        if (header != null) {
            request.header(header, credential);
        }
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    private static int withToken(HttpClient http, String url, String token) {
        return status(http, url, "Authorization", "Bearer " + token);
    }

    private static int withKey(HttpClient http, String url, String key) {
        return status(http, url, "x-api-key", key);
    }

    private static String get(HttpClient http, String url, String token) throws Exception {
        HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token)
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, answer.statusCode(), url + " " + answer.body());
        return answer.body();
    }

    private static void await(Duration timeout, String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            assertFalse(System.nanoTime() > deadline, what + ": not within " + timeout);
            Thread.sleep(100);
        }
    }
}
