package dev.bkg.testsupport;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A real HTTP server on 127.0.0.1 that answers like the Hugging Face hub's file route,
 * {@code GET /{owner}/{repo}/resolve/{revision}/{path}}, from folders published here — so that
 * a model pulled in a test goes through model-service's real Hugging Face download path.
 */
public final class HuggingFaceRepoServer implements AutoCloseable {

    private final HttpServer server;
    private final Map<String, Path> repos = new ConcurrentHashMap<>();

    public HuggingFaceRepoServer() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/", this::serve);
        server.setExecutor(Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "hf-repo-server");
            t.setDaemon(true);
            return t;
        }));
        server.start();
    }

    /** The endpoint to give a download ({@code huggingFace.endpoint}). */
    public String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Serves a folder as repo {@code owner/name} at every revision. */
    public HuggingFaceRepoServer publish(String repo, Path dir) {
        repos.put(repo, dir);
        return this;
    }

    private void serve(HttpExchange exchange) throws IOException {
        try (exchange) {
            String[] parts = exchange.getRequestURI().getPath().split("/", 6); // "", owner, name, resolve, revision, path
            Path dir = parts.length == 6 && parts[3].equals("resolve") ? repos.get(parts[1] + "/" + parts[2]) : null;
            Path file = dir == null ? null : dir.resolve(parts[5]).normalize();
            if (file == null || !file.startsWith(dir) || !Files.isRegularFile(file)) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
            exchange.sendResponseHeaders(200, Files.size(file));
            try (OutputStream out = exchange.getResponseBody()) {
                Files.copy(file, out);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
