package dev.bkg.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.bkg.testsupport.ChatTestModels;
import dev.bkg.testsupport.HuggingFaceRepoServer;

/**
 * The dashboard's end-to-end suite (web/e2e, Playwright in Debian's Chromium) against the real mesh:
 * {@code ./bkg up --detach} on free ports with a throw-away BKG_HOME, then {@code npx playwright test}
 * in web/ with the gateway's address and the admin's credentials, then {@code ./bkg down}. The suite
 * prints its own counts; this test fails when any of its tests failed or none ran. Screenshots of each
 * page land in web/target/e2e/screenshots.
 */
class DashboardE2EIT {

    static final Path WEB = MeshUnderTest.ROOT.resolve("web");
    static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("BKG_CHROMIUM", "/usr/bin/chromium"));
    static final String PASSWORD = "e2e-admin-password-0123456789";

    @TempDir
    Path home;

    MeshUnderTest mesh;
    HuggingFaceRepoServer hub;

    @AfterEach
    void down() throws Exception {
        if (mesh != null && !mesh.processes().isEmpty()) {
            mesh.bkg(Duration.ofSeconds(120), "down");
        }
    }

    @Test
    void theDashboardWorksInARealBrowserAgainstTheRealMesh() throws Exception {
        assertTrue(Files.isExecutable(CHROMIUM), CHROMIUM + " is missing: .ci/run installs Debian's chromium");
        mesh = new MeshUnderTest(home);
        mesh.useFreePorts();
        mesh.env.put("BKG_ADMIN_PASSWORD", PASSWORD);
        // the model download in the suite comes from a server the suite starts on 127.0.0.1
        mesh.env.put("BKG_MODELS_DOWNLOAD_ALLOWED_HOSTS", "127.0.0.1");
        MeshUnderTest.Result up = mesh.bkg(Duration.ofSeconds(300), "up", "--detach");
        assertEquals(0, up.exit(), up.output());
        String gateway = "http://127.0.0.1:" + mesh.port("BKG_GATEWAY_PORT");
        pullChatModel(gateway);

        Path results = WEB.resolve("target/e2e/results.json");
        Files.deleteIfExists(results);
        ProcessBuilder playwright = new ProcessBuilder(List.of("npx", "playwright", "test"))
                .directory(WEB.toFile()).redirectErrorStream(true);
        playwright.environment().put("BKG_URL", gateway);
        playwright.environment().put("BKG_E2E_CHAT_MODEL", ChatTestModels.NEXT_TOKEN);
        playwright.environment().put("BKG_USER", "admin");
        playwright.environment().put("BKG_PASSWORD", PASSWORD);
        playwright.environment().put("BKG_CHROMIUM", CHROMIUM.toString());
        playwright.environment().put("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        playwright.environment().put("NO_COLOR", "1");
        Process run = playwright.start();
        // the suite's own report, line by line into the build log (inheritIO would corrupt Failsafe's channel)
        Thread echo = new Thread(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(run.getInputStream(), StandardCharsets.UTF_8))) {
                lines.lines().forEach(line -> System.out.println("[e2e] " + line));
            } catch (IOException e) {
                System.out.println("[e2e] output lost: " + e);
            }
        });
        echo.start();
        boolean finished = run.waitFor(15, TimeUnit.MINUTES);
        if (!finished) {
            run.destroyForcibly();
        }
        assertTrue(finished, "the Playwright suite did not finish within 15 minutes");
        echo.join(10_000);

        assertTrue(Files.exists(results), "Playwright wrote no report to " + results);
        JsonNode stats = new ObjectMapper().readTree(results.toFile()).path("stats");
        int passed = stats.path("expected").asInt();
        int failed = stats.path("unexpected").asInt();
        int flaky = stats.path("flaky").asInt();
        int skipped = stats.path("skipped").asInt();
        System.out.printf("web e2e (Playwright, Chromium): %d passed, %d failed, %d flaky, %d skipped%n",
                passed, failed, flaky, skipped);
        assertEquals(0, failed, "failed end-to-end tests: see the list above and web/target/e2e");
        assertEquals(0, skipped, "skipped end-to-end tests");
        assertTrue(passed > 0, "no end-to-end test ran");
        assertEquals(0, run.exitValue(), "npx playwright test exited with " + run.exitValue());
    }

    /**
     * The chat page needs a chat model: the generated one with hand-set weights (its reply never
     * ends early), pulled through the gateway's Hugging Face download from a local hub, as a user would.
     */
    void pullChatModel(String gateway) throws Exception {
        hub = new HuggingFaceRepoServer();
        ChatTestModels.publish(hub, home.resolve("hub"), ChatTestModels.NEXT_TOKEN);
        HttpClient http = HttpClient.newHttpClient();
        ObjectMapper json = new ObjectMapper();
        String token = json.readTree(http.send(HttpRequest.newBuilder(URI.create(gateway + "/api/auth/login"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"username\":\"admin\",\"password\":\"" + PASSWORD + "\"}"))
                .build(), HttpResponse.BodyHandlers.ofString()).body()).path("token").asText();
        String body = json.writeValueAsString(java.util.Map.of("name", ChatTestModels.NEXT_TOKEN, "kind", "llm", "huggingFace",
                java.util.Map.of("repo", "test/" + ChatTestModels.NEXT_TOKEN, "endpoint", hub.endpoint(), "files",
                        ChatTestModels.FILES)));
        HttpResponse<String> started = http.send(HttpRequest.newBuilder(URI.create(gateway + "/api/models/download"))
                .header("Content-Type", "application/json").header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(202, started.statusCode(), started.body());
        String id = json.readTree(started.body()).path("modelId").asText();
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (true) {
            String status = json.readTree(http.send(HttpRequest.newBuilder(URI.create(gateway + "/api/models/" + id))
                    .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString()).body())
                    .path("status").asText();
            if (status.equals("READY")) {
                return;
            }
            assertTrue(System.nanoTime() < deadline && !status.equals("FAILED"), "the chat model did not install: " + status);
            Thread.sleep(200);
        }
    }

    @AfterEach
    void closeHub() {
        if (hub != null) {
            hub.close();
        }
    }
}
