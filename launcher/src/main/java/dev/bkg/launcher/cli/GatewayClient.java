package dev.bkg.launcher.cli;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The CLI's HTTP client for the gateway. The URL is {@code BKG_URL}, else that of the mesh running
 * under this {@code BKG_HOME}. The credential is {@code BKG_API_KEY} ({@code x-api-key}), else an
 * admin session ({@code Authorization: Bearer}): logged in with {@code BKG_ADMIN_PASSWORD} or
 * {@code $BKG_HOME/admin-password}, and kept in {@code $BKG_HOME/run/cli-session} (mode 600) until it
 * expires, so that commands in a loop do not run into the login throttle. A refusal becomes a
 * {@link CliException} carrying the problem's {@code detail}.
 */
final class GatewayClient {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(120);

    private final CliContext ctx;
    private final HttpClient http;
    private String base;
    private String authHeader;
    private String authValue;
    private boolean sessionFromCache;

    GatewayClient(CliContext ctx) {
        this.ctx = ctx;
        // HTTP/1.1: no h2c upgrade attempt in front of every streamed answer
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** The gateway's base URL, without a trailing slash; exit 3 when no mesh runs and BKG_URL is unset. */
    String base() {
        if (base == null) {
            String url = ctx.env("BKG_URL");
            if (url == null) {
                url = ctx.runningGateway().get().orElseThrow(() -> new CliException(3, "no mesh is running under "
                        + ctx.home() + "; start it with ./bkg up, or set BKG_URL to a gateway"));
            }
            base = url.trim().replaceAll("/+$", "");
        }
        return base;
    }

    JsonNode get(String path) {
        return call("GET", path, null);
    }

    /** A call answered with JSON (a MissingNode for an empty body); any status but 2xx is a CliException. */
    JsonNode call(String method, String path, JsonNode body) {
        HttpResponse<InputStream> response = open(method, path, body, "application/json", CALL_TIMEOUT);
        try (InputStream in = response.body()) {
            byte[] bytes = in.readAllBytes();
            if (bytes.length == 0) {
                return MissingNode.getInstance();
            }
            return JSON.readTree(bytes);
        } catch (IOException e) {
            throw new CliException(1, "unreadable answer from " + method + " " + path + ": " + e.getMessage());
        }
    }

    /** A streamed answer (NDJSON, server-sent events): the caller reads and closes the body. */
    HttpResponse<InputStream> stream(String method, String path, JsonNode body, String accept) {
        return open(method, path, body, accept, null);
    }

    private HttpResponse<InputStream> open(String method, String path, JsonNode body, String accept, Duration timeout) {
        base(); // a mesh that is not running is said before any missing credential
        authenticate(false);
        HttpResponse<InputStream> response = exchange(method, path, body, accept, timeout, true);
        if (response.statusCode() == 401 && sessionFromCache) {
            // the kept session ended early (logged out, or the mesh's database was reset): log in again once
            discard(response);
            forgetSession();
            authenticate(true);
            response = exchange(method, path, body, accept, timeout, true);
        }
        if (response.statusCode() / 100 != 2) {
            throw refused(response);
        }
        return response;
    }

    private HttpResponse<InputStream> exchange(String method, String path, JsonNode body, String accept, Duration timeout,
            boolean authenticated) {
        String url = base() + path;
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).header("accept", accept + ", application/problem+json")
                .header("user-agent", "bkg-cli");
        if (timeout != null) {
            request.timeout(timeout);
        }
        if (authenticated) {
            request.header(authHeader, authValue);
        }
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("content-type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8));
        }
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (ConnectException | HttpConnectTimeoutException e) {
            throw new CliException(3, "cannot reach the gateway at " + base() + " ("
                    + (e.getMessage() == null || e.getMessage().isBlank() ? "connection refused" : e.getMessage())
                    + "); is the mesh running? see ./bkg status");
        } catch (IOException e) {
            throw new CliException(1, method + " " + url + " failed: " + reason(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(1, "interrupted");
        }
    }

    /** The problem's detail (RFC 7807), else its title, else the status and the start of the body. */
    static CliException refused(HttpResponse<InputStream> response) {
        String text;
        try (InputStream in = response.body()) {
            text = new String(in.readNBytes(64 * 1024), StandardCharsets.UTF_8);
        } catch (IOException e) {
            text = "";
        }
        int status = response.statusCode();
        String message = null;
        try {
            JsonNode problem = JSON.readTree(text);
            if (problem != null && problem.isObject()) {
                message = firstText(problem, "detail", "title", "message");
                if (message == null && problem.path("error").isObject()) {
                    message = firstText(problem.get("error"), "message");
                }
            }
        } catch (IOException e) {
            // not JSON: the text itself below
        }
        if (message == null) {
            String start = text.strip();
            message = "HTTP " + status + (start.isEmpty() ? "" : ": " + (start.length() > 300 ? start.substring(0, 300) + "…" : start));
        }
        String retry = response.headers().firstValue("retry-after").map(s -> " (retry after " + s + " s)").orElse("");
        return new CliException(1, status, message + retry);
    }

    private static String firstText(JsonNode node, String... fields) {
        for (String field : fields) {
            JsonNode value = node.get(field);
            if (value != null && value.isTextual() && !value.asText().isBlank()) {
                return value.asText();
            }
        }
        return null;
    }

    private static void discard(HttpResponse<InputStream> response) {
        try (InputStream in = response.body()) {
            in.readNBytes(64 * 1024);
        } catch (IOException e) {
            // nothing to keep
        }
    }

    private static String reason(Exception e) {
        return e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : e.getMessage();
    }

    // ---- credentials

    private void authenticate(boolean fresh) {
        if (authHeader != null && !fresh) {
            return;
        }
        String key = ctx.env("BKG_API_KEY");
        if (key != null) {
            authHeader = "x-api-key";
            authValue = key.trim();
            return;
        }
        String token = fresh ? null : cachedSession();
        sessionFromCache = token != null;
        if (token == null) {
            token = login();
        }
        authHeader = "authorization";
        authValue = "Bearer " + token;
    }

    private String login() {
        String password = ctx.env("BKG_ADMIN_PASSWORD");
        Path file = ctx.home().resolve("admin-password");
        if (password == null) {
            try {
                password = Files.isRegularFile(file) ? Files.readString(file).trim() : null;
            } catch (IOException e) {
                throw new CliException(1, "cannot read " + file + ": " + reason(e));
            }
        }
        if (password == null || password.isEmpty()) {
            throw new CliException(1, "no credentials: set BKG_API_KEY to an API key, or BKG_ADMIN_PASSWORD to the admin's"
                    + " password (" + file + ", where the first start keeps a generated one, does not exist)");
        }
        ObjectNode body = JSON.createObjectNode().put("username", "admin").put("password", password);
        HttpResponse<InputStream> response = exchange("POST", "/api/auth/login", body, "application/json", CALL_TIMEOUT, false);
        if (response.statusCode() / 100 != 2) {
            CliException refused = refused(response);
            throw new CliException(1, refused.httpStatus(), "logging in as admin failed: " + refused.getMessage()
                    + (refused.httpStatus() == 401 ? " (set BKG_API_KEY, or BKG_ADMIN_PASSWORD to the admin's password)" : ""));
        }
        JsonNode reply;
        try (InputStream in = response.body()) {
            reply = JSON.readTree(in);
        } catch (IOException e) {
            throw new CliException(1, "unreadable login answer: " + reason(e));
        }
        String token = reply == null ? null : reply.path("token").asText(null);
        if (token == null || token.isBlank()) {
            throw new CliException(1, "the login answer carries no token");
        }
        keepSession(token, reply.path("expiresAt").asText(null));
        return token;
    }

    private Path sessionFile() {
        return ctx.home().resolve("run").resolve("cli-session");
    }

    /** The kept admin session for this gateway, unless it expires within a minute. */
    private String cachedSession() {
        try {
            List<String> lines = Files.readAllLines(sessionFile(), StandardCharsets.UTF_8);
            if (lines.size() >= 3 && lines.get(0).equals(base())
                    && Instant.parse(lines.get(2)).isAfter(Instant.now().plusSeconds(60))) {
                return lines.get(1);
            }
        } catch (IOException | RuntimeException e) {
            // none kept (or unreadable): log in
        }
        return null;
    }

    private void keepSession(String token, String expiresAt) {
        if (expiresAt == null) {
            return;
        }
        try {
            Instant.parse(expiresAt);
            Path file = sessionFile();
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling("cli-session.tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, base() + "\n" + token + "\n" + expiresAt + "\n");
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            // best effort: the next command logs in again
        }
    }

    private void forgetSession() {
        try {
            Files.deleteIfExists(sessionFile());
        } catch (IOException e) {
            // the next login overwrites it
        }
    }
}
