package dev.bkg.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.Reader;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Runs the real {@code ./bkg} against the services' packaged jars, with a throw-away BKG_HOME and
 * free ports, and checks what a person would: every service ready, the admin credentials printed,
 * a second {@code up} refused, and nothing left running after {@code down} or Ctrl-C.
 */
class LauncherIT {

    static final Path ROOT = MeshUnderTest.ROOT;
    static final Duration UP_TIMEOUT = Duration.ofSeconds(300);
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path home;

    MeshUnderTest mesh;
    Map<String, String> env;

    @BeforeEach
    void newMesh() {
        mesh = new MeshUnderTest(home);
        env = mesh.env;
    }

    @AfterEach
    void leaveNothingBehind() throws Exception {
        if (!mesh.processes().isEmpty()) {
            mesh.bkg(Duration.ofSeconds(90), "down");
        }
    }

    @Test
    void upDetachedBringsEveryServiceUpAndDownLeavesNoProcessBehind() throws Exception {
        mesh.useFreePorts();
        long started = System.nanoTime();
        MeshUnderTest.Result up = mesh.bkg(UP_TIMEOUT, "up", "--detach");
        assertEquals(0, up.exit(), up.output());
        System.out.printf("LauncherIT: up --detach took %.1f s%n", (System.nanoTime() - started) / 1e9);

        assertTrue(up.output().contains("bkg mesh is up"), up.output());
        assertTrue(up.output().contains("http://127.0.0.1:" + env.get("BKG_GATEWAY_PORT") + "/"), up.output());
        Path passwordFile = home.resolve("admin-password");
        String password = Files.readString(passwordFile).trim();
        assertTrue(password.length() >= 20, "generated password too short");
        assertTrue(up.output().contains(password), "the generated password is printed once");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(passwordFile)));
        assertFalse(Files.readString(home.resolve("logs/launcher.log")).contains(password),
                "the password never reaches a log file");

        HttpClient http = HttpClient.newHttpClient();
        for (ServiceSpec spec : ServiceSpec.MESH) {
            assertTrue(Mesh.isReady(http, "127.0.0.1", Integer.parseInt(env.get(spec.portEnv()))),
                    spec.name() + " is not ready");
        }

        MeshUnderTest.Result status = mesh.bkg(Duration.ofSeconds(60), "status");
        assertEquals(0, status.exit(), status.output());
        for (ServiceSpec spec : ServiceSpec.MESH) {
            assertTrue(status.output().lines().anyMatch(l -> l.startsWith(spec.name()) && l.endsWith("ready")
                    && !l.endsWith("not ready")), status.output());
        }

        // the capability bus reaches a plugin the manager runs as its child: llm.embed answers from llmserver
        String gateway = "http://127.0.0.1:" + env.get("BKG_GATEWAY_PORT");
        String token = JSON.readTree(post(http, gateway + "/api/auth/login", null,
                "{\"username\":\"admin\",\"password\":\"" + password + "\"}").body()).get("token").asText();
        HttpResponse<String> embedded = post(http, gateway + "/api/capabilities/llm.embed", token,
                "{\"input\":[\"a man is eating food\",\"a man is eating bread\"]}");
        assertEquals(200, embedded.statusCode(), embedded.body());
        assertEquals("llmserver", embedded.headers().firstValue("X-Bkg-Plugin").orElse(""));
        JsonNode vectors = JSON.readTree(embedded.body()).get("embeddings");
        assertEquals(2, vectors.size(), embedded.body());
        assertEquals(384, vectors.get(0).size());
        // and the face plugin serves its capabilities on the bus too
        String photo = java.util.Base64.getEncoder().encodeToString(java.nio.file.Files.readAllBytes(
                java.nio.file.Path.of("/usr/share/doc/opencv-doc/opencv4/html/227943776_1.jpg")));
        HttpResponse<String> detected = post(http, gateway + "/api/capabilities/rustyface.face.detect", token,
                "{\"image\":\"" + photo + "\"}");
        assertEquals(200, detected.statusCode(), detected.body());
        assertEquals(1, JSON.readTree(detected.body()).get("faces").size(), detected.body());
        // chat through the bus on a fresh machine: no chat model installed is a 409 saying how to pull one
        HttpResponse<String> chat = post(http, gateway + "/api/capabilities/llm.chat", token,
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(409, chat.statusCode(), chat.body());
        assertTrue(chat.body().contains("./bkg pull"), chat.body());
        // the CLI against the real mesh (as admin, from $BKG_HOME/admin-password)
        MeshUnderTest.Result models = mesh.bkg(Duration.ofSeconds(60), "models");
        assertEquals(0, models.exit(), models.output());
        assertTrue(models.output().contains("all-minilm-l6-v2") && models.output().contains("mobileface"), models.output());
        MeshUnderTest.Result ps = mesh.bkg(Duration.ofSeconds(60), "ps");
        assertEquals(0, ps.exit(), ps.output());
        assertTrue(ps.output().contains("NAME"), ps.output());
        MeshUnderTest.Result created = mesh.bkg(Duration.ofSeconds(60), "keys", "create", "cli-key", "--scopes", "inference");
        assertEquals(0, created.exit(), created.output());
        assertTrue(created.output().contains("bkg_"), created.output());
        MeshUnderTest.Result keys = mesh.bkg(Duration.ofSeconds(60), "keys", "list");
        assertTrue(keys.exit() == 0 && keys.output().contains("cli-key"), keys.output());
        MeshUnderTest.Result notChat = mesh.bkg(Duration.ofSeconds(60), "chat", "all-minilm-l6-v2", "hello");
        assertEquals(1, notChat.exit(), notChat.output());
        assertTrue(notChat.output().contains("not a chat"), notChat.output());

        MeshUnderTest.Result second = mesh.bkg(Duration.ofSeconds(60), "up", "--detach");
        assertEquals(3, second.exit(), second.output());
        assertTrue(second.output().contains("already running"), second.output());

        List<Long> pids = meshPids();
        assertEquals(ServiceSpec.MESH.size() + 2, pids.size(), "launcher, postgres and 7 services: " + pids);
        pids.forEach(pid -> assertTrue(alive(pid), "pid " + pid + " should be running"));

        MeshUnderTest.Result down = mesh.bkg(Duration.ofSeconds(120), "down");
        assertEquals(0, down.exit(), down.output());
        pids.forEach(pid -> assertFalse(alive(pid), "pid " + pid + " survived ./bkg down"));
        assertEquals(List.of(), mesh.processes());
        for (ServiceSpec spec : ServiceSpec.MESH) {
            int port = Integer.parseInt(env.get(spec.portEnv()));
            assertTrue(Ports.isFree("127.0.0.1", port), "port " + port + " still taken after down");
        }
        assertEquals(3, mesh.bkg(Duration.ofSeconds(60), "status").exit(), "status says not running");

        // a restart keeps the state under BKG_HOME: same database, so the admin is not created again
        MeshUnderTest.Result again = mesh.bkg(UP_TIMEOUT, "up", "--detach");
        assertEquals(0, again.exit(), again.output());
        assertFalse(again.output().contains(password), "the password is shown only at the first start");
        assertTrue(Files.readString(home.resolve("logs/plugins/apikeys.log")).contains("user 'admin' exists; left as it is"));
        assertEquals(0, mesh.bkg(Duration.ofSeconds(120), "down").exit());
        assertEquals(List.of(), mesh.processes());
    }

    @Test
    void killedServicesComeBackByThemselvesUnderLoadAndStatusTellsTheTruth() throws Exception {
        mesh.useFreePorts();
        MeshUnderTest.Result up = mesh.bkg(UP_TIMEOUT, "up", "--detach");
        assertEquals(0, up.exit(), up.output());
        HttpClient http = HttpClient.newHttpClient();
        String gateway = "http://127.0.0.1:" + env.get("BKG_GATEWAY_PORT");
        String password = Files.readString(home.resolve("admin-password")).trim();
        String token = JSON.readTree(post(http, gateway + "/api/auth/login", null,
                "{\"username\":\"admin\",\"password\":\"" + password + "\"}").body()).get("token").asText();
        HttpResponse<String> created = post(http, gateway + "/api/auth/keys", token,
                "{\"name\":\"made-before-the-kills\",\"scopes\":[\"admin\"],\"rateLimitPerMinute\":1000000}");
        assertEquals(201, created.statusCode(), created.body());
        String key = JSON.readTree(created.body()).get("key").asText();

        // what must survive every kill: a user, a plugin config, brainml documents (and the key, the model catalog)
        assertEquals(201, post(http, gateway + "/api/auth/users", token,
                "{\"username\":\"kept\",\"password\":\"kept-password-1\"}").statusCode());
        assertEquals(200, post(http, gateway + "/api/plugins/repoagent/config", token, "{\"maxBodyBytes\":2048}").statusCode());
        assertEquals(200, post(http, gateway + "/api/plugins/brainml/start?wait=true", token, "{}").statusCode());
        assertEquals(201, post(http, gateway + "/api/brainml/collections", token, "{\"name\":\"kept\"}").statusCode());
        HttpResponse<String> indexed = post(http, gateway + "/api/brainml/collections/kept/documents", token,
                "{\"documents\":[{\"id\":\"1\",\"text\":\"heavy rain tonight\"},{\"id\":\"2\",\"text\":\"sunny tomorrow\"}]}");
        assertTrue(indexed.statusCode() < 300, indexed.body());
        Map<String, String> before = committed(http, gateway, key);

        List<SteadyLoad.Route> routes = List.of(
                new SteadyLoad.Route("plugin-manager-service", "/api/plugins", null),
                new SteadyLoad.Route("model-service", "/api/models", null),
                new SteadyLoad.Route("telemetry-service", "/api/telemetry", null),
                new SteadyLoad.Route("auth-service", "/api/auth/keys", null),
                new SteadyLoad.Route("inference-service", "/v1/embeddings", "{\"input\":\"steady\",\"model\":\"all-minilm-l6-v2\"}"),
                new SteadyLoad.Route("face-service", "/api/face/subjects", null),
                new SteadyLoad.Route("brainml", "/api/brainml/collections/kept", null));
        try (SteadyLoad load = new SteadyLoad(gateway, key, routes, 2)) {
            // kill -9 each core service in turn, the plugin manager last: each comes back by itself
            for (String name : List.of("model-service", "telemetry-service", "gateway-service", "plugin-manager-service")) {
                long pid = Long.parseLong(runState().getProperty(name + ".pid"));
                killHard(pid);
                MeshUnderTest.Result degraded = mesh.bkg(Duration.ofSeconds(60), "status");
                assertEquals(1, degraded.exit(), degraded.output());
                assertTrue(degraded.output().lines().findFirst().orElse("").contains("DEGRADED"), degraded.output());
                long seconds = awaitReady();
                System.out.printf("LauncherIT: %s killed with SIGKILL, the mesh READY again in %d s%n", name, seconds);
                assertTrue(Long.parseLong(runState().getProperty(name + ".pid")) != pid);
                assertEquals("1", runState().getProperty(name + ".restarts"));
                assertEquals("137", runState().getProperty(name + ".last-exit"));
            }
            // the new plugin manager replaced the plugins the dead one left, and supervises them: kill each
            for (String plugin : List.of("apikeys", "llmserver", "rustyface", "brainml")) {
                long pid = pluginPid(http, gateway, key, plugin);
                killHard(pid);
                long started = System.nanoTime();
                awaitRunningAgain(http, gateway, key, plugin, pid);
                long seconds = Math.max(awaitReady(), Duration.ofNanos(System.nanoTime() - started).toSeconds());
                System.out.printf("LauncherIT: plugin %s killed with SIGKILL, running and the mesh READY again in %d s%n",
                        plugin, seconds);
            }
            // and the database: the launcher starts it again over its data
            killHard(Long.parseLong(runState().getProperty("postgres.pid")));
            System.out.printf("LauncherIT: PostgreSQL killed, the mesh READY again in %d s%n", awaitReady());
            assertEquals("1", runState().getProperty("postgres.restarts"));
            load.close();
            System.out.println("LauncherIT: what the steady load saw: " + load.outcomes());
            assertEquals(List.of(), load.violations(), "only answers, 503s with Retry-After, or a refused connection");
            assertTrue(load.outcomes().keySet().stream().anyMatch(k -> k.endsWith(" 503")),
                    "a service gone answers 503: " + load.outcomes());
        }

        // nothing committed was lost
        assertEquals(before, committed(http, gateway, key));
        MeshUnderTest.Result status = mesh.bkg(Duration.ofSeconds(60), "status");
        assertEquals(0, status.exit(), status.output());
        assertTrue(status.output().startsWith("bkg mesh: READY"), status.output());

        assertEquals(0, mesh.bkg(Duration.ofSeconds(120), "down").exit());
        assertEquals(List.of(), mesh.processes());
    }

    /** What the fault test checks survives: users, keys, the model catalog, a plugin config, brainml documents. */
    private static Map<String, String> committed(HttpClient http, String gateway, String key) throws Exception {
        Map<String, String> state = new java.util.LinkedHashMap<>();
        state.put("users", names(get(http, gateway + "/api/auth/users", key), "username"));
        state.put("keys", names(get(http, gateway + "/api/auth/keys", key), "name"));
        state.put("models", names(get(http, gateway + "/api/models", key), "id"));
        state.put("repoagent config", JSON.readTree(get(http, gateway + "/api/plugins/repoagent/config", key))
                .path("config").toString());
        state.put("brainml documents", JSON.readTree(get(http, gateway + "/api/brainml/collections/kept", key))
                .path("documents").asText());
        return state;
    }

    /** The sorted values of one field over every object in a JSON answer (wherever the list sits in it). */
    private static String names(String json, String field) throws Exception {
        return new java.util.TreeSet<>(JSON.readTree(json).findValuesAsText(field)).toString();
    }

    private static String get(HttpClient http, String url, String key) throws Exception {
        HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(url)).header("x-api-key", key)
                .timeout(Duration.ofSeconds(60)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, answer.statusCode(), url + " " + answer.body());
        return answer.body();
    }

    private static long pluginPid(HttpClient http, String gateway, String key, String plugin) throws Exception {
        JsonNode status = JSON.readTree(get(http, gateway + "/api/plugins/" + plugin + "/status", key));
        assertEquals("RUNNING", status.path("state").asText(), plugin + ": " + status);
        return status.path("pid").asLong();
    }

    /** Waits until the plugin manager reports the plugin RUNNING with a new process (its crash backoff included). */
    private static void awaitRunningAgain(HttpClient http, String gateway, String key, String plugin, long oldPid)
            throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        JsonNode status = null;
        while (System.nanoTime() < deadline) {
            HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(gateway + "/api/plugins/" + plugin + "/status"))
                    .header("x-api-key", key).timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
            if (answer.statusCode() == 200) {
                status = JSON.readTree(answer.body());
                if ("RUNNING".equals(status.path("state").asText()) && status.path("pid").asLong() != oldPid) {
                    return;
                }
            }
            Thread.sleep(500);
        }
        throw new AssertionError(plugin + " not RUNNING again within 90 s: " + status);
    }

    /** SIGKILL, and wait until the process is gone. */
    private static void killHard(long pid) throws InterruptedException {
        ProcessHandle process = ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("no process " + pid));
        process.destroyForcibly();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (process.isAlive()) {
            assertTrue(System.nanoTime() < deadline, "pid " + pid + " survived SIGKILL");
            Thread.sleep(50);
        }
    }

    /** Seconds until ./bkg status says READY (exit 0); fails after 60 s with the last status. */
    private long awaitReady() throws Exception {
        long started = System.nanoTime();
        MeshUnderTest.Result status = null;
        while (System.nanoTime() - started < Duration.ofSeconds(60).toNanos()) {
            status = mesh.bkg(Duration.ofSeconds(60), "status");
            if (status.exit() == 0) {
                return Duration.ofNanos(System.nanoTime() - started).toSeconds();
            }
            Thread.sleep(500);
        }
        throw new AssertionError("not READY within 60 s:\n" + (status == null ? "" : status.output()));
    }

    private java.util.Properties runState() throws Exception {
        java.util.Properties props = new java.util.Properties();
        try (var reader = Files.newBufferedReader(home.resolve("run/mesh.properties"))) {
            props.load(reader);
        }
        return props;
    }

    @Test
    void ctrlCOnAForegroundUpStopsEveryProcess() throws Exception {
        mesh.useFreePorts();
        env.put("BKG_ADMIN_PASSWORD", "a-password-from-the-environment");
        Path out = home.resolve("foreground.out");
        Process launcher = mesh.command(List.of(ROOT.resolve("bkg").toString(), "up"))
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        long deadline = System.nanoTime() + UP_TIMEOUT.toNanos();
        while (!Files.readString(out).contains("bkg mesh is up")) {
            if (!launcher.isAlive() || System.nanoTime() > deadline) {
                launcher.destroy();
                fail("foreground up did not come up:\n" + Files.readString(out));
            }
            Thread.sleep(250);
        }
        assertFalse(Files.readString(out).contains("a-password-from-the-environment"), "password printed");
        List<Long> pids = meshPids();
        assertEquals(ServiceSpec.MESH.size() + 2, pids.size(), pids.toString());

        // ./bkg execs java, so this is the launcher itself: what Ctrl-C sends it
        new ProcessBuilder("kill", "-INT", String.valueOf(launcher.pid())).start().waitFor();
        assertTrue(launcher.waitFor(90, TimeUnit.SECONDS), "launcher did not stop on SIGINT");
        pids.forEach(pid -> assertFalse(alive(pid), "pid " + pid + " survived Ctrl-C"));
        assertEquals(List.of(), mesh.processes());
        assertTrue(Files.readString(out).contains("bkg: stopped"), Files.readString(out));
    }

    @Test
    void aTakenPortIsNamedAndNothingIsLeftRunning() throws Exception {
        mesh.useFreePorts();
        int authPort = Integer.parseInt(env.get("BKG_AUTH_PORT"));
        try (ServerSocket squatter = new ServerSocket()) {
            squatter.bind(new InetSocketAddress("127.0.0.1", authPort));
            MeshUnderTest.Result up = mesh.bkg(Duration.ofSeconds(120), "up", "--detach");
            assertEquals(1, up.exit(), up.output());
            assertTrue(up.output().contains("port " + authPort + " for auth-service is already in use"), up.output());
        }
        assertEquals(List.of(), mesh.processes());
    }

    @Test
    void aDatabaseUrlThatDoesNotAnswerIsNamedAndNothingIsLeftRunning() throws Exception {
        mesh.useFreePorts();
        env.put("BKG_DB_URL", "postgresql://bkg:secret@127.0.0.1:" + Ports.free() + "/bkg");
        MeshUnderTest.Result up = mesh.bkg(Duration.ofSeconds(120), "up", "--detach");
        assertEquals(1, up.exit(), up.output());
        assertTrue(up.output().contains("(BKG_DB_URL) does not answer"), up.output());
        assertFalse(up.output().contains("secret"), "the database password is never printed");
        assertEquals(List.of(), mesh.processes());
    }

    @Test
    void aMissingBuildIsNamed() throws Exception {
        mesh.useFreePorts();
        env.put("BKG_ROOT", home.resolve("empty-checkout").toString());
        ProcessBuilder builder = mesh.command(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-jar", ROOT.resolve("launcher/target/launcher.jar").toString(), "up"));
        MeshUnderTest.Result up = mesh.run(builder, Duration.ofSeconds(60));
        assertEquals(1, up.exit(), up.output());
        assertTrue(up.output().contains("missing build: "), up.output());
        assertTrue(up.output().contains("auth-service/target/quarkus-app/quarkus-run.jar"), up.output());
        assertEquals(List.of(), mesh.processes());
    }

    private List<Long> meshPids() throws IOException {
        Properties props = new Properties();
        try (Reader reader = Files.newBufferedReader(home.resolve("run/mesh.properties"))) {
            props.load(reader);
        }
        List<Long> pids = new ArrayList<>();
        pids.add(Long.parseLong(props.getProperty("launcher.pid")));
        pids.add(Long.parseLong(props.getProperty("postgres.pid")));
        long pluginManager = Long.parseLong(props.getProperty("plugin-manager-service.pid"));
        for (ServiceSpec spec : ServiceSpec.MESH) {
            pids.add(spec.isPlugin() ? pluginPid(pluginManager, spec) : Long.parseLong(props.getProperty(spec.name() + ".pid")));
        }
        return pids;
    }

    /** A plugin service is a child process of the plugin manager, running its module's jar. */
    private static long pluginPid(long pluginManager, ServiceSpec spec) {
        return ProcessHandle.of(pluginManager).orElseThrow().descendants()
                .filter(h -> h.info().commandLine().orElse("").contains(spec.name() + "/target/quarkus-app/quarkus-run.jar"))
                .findFirst().orElseThrow(() -> new AssertionError("the plugin manager runs no " + spec.name())).pid();
    }

    static HttpResponse<String> post(HttpClient http, String url, String token, String json) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString(json));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }
}
