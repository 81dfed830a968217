package dev.bkg.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

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

        Path results = WEB.resolve("target/e2e/results.json");
        Files.deleteIfExists(results);
        ProcessBuilder playwright = new ProcessBuilder(List.of("npx", "playwright", "test"))
                .directory(WEB.toFile()).redirectErrorStream(true);
        playwright.environment().put("BKG_URL", "http://127.0.0.1:" + mesh.port("BKG_GATEWAY_PORT"));
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
}
