package dev.bkg.testsupport;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A real HTTP server on 127.0.0.1 for download tests: {@code /model.bin} (4 MiB, Range aware),
 * {@code /flaky.bin} (the first GET breaks off half-way, later ones honour Range),
 * {@code /slow.bin} (64 KiB every 50 ms), {@code /redirect} (to a loopback address that is not
 * allow-listed), {@code /enormous.bin} (announces {@link #ENORMOUS} bytes, more than any disk here,
 * and sends none) and 404 for anything else. It records the Range header of each GET.
 */
public final class LocalFileServer implements AutoCloseable {

    public static final byte[] CONTENT = new byte[4 * 1024 * 1024];
    public static final String SHA256;
    static {
        new Random(42).nextBytes(CONTENT);
        try {
            SHA256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(CONTENT));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
    public static final long ENORMOUS = 1L << 50;
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-");

    public final List<String> ranges = new CopyOnWriteArrayList<>();
    /** Extra files served whole at their path (GET and HEAD). */
    private final java.util.Map<String, byte[]> extra = new java.util.concurrent.ConcurrentHashMap<>();
    private final HttpServer server;
    private volatile boolean flakyBroke;

    private static LocalFileServer shared;

    public static synchronized LocalFileServer shared() {
        if (shared == null) {
            try {
                shared = new LocalFileServer();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return shared;
    }

    public LocalFileServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/", this::handle);
        server.start();
    }

    public void serve(String path, byte[] content) {
        extra.put(path, content);
    }

    public String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        String range = exchange.getRequestHeaders().getFirst("range");
        if (exchange.getRequestMethod().equals("GET")) {
            ranges.add(path + " " + (range == null ? "-" : range));
        }
        switch (path) {
            case "/model.bin", "/flaky.bin", "/slow.bin" -> serve(exchange, path, range);
            case "/enormous.bin" -> {
                boolean head = exchange.getRequestMethod().equals("HEAD");
                if (head) {
                    exchange.getResponseHeaders().add("content-length", String.valueOf(ENORMOUS));
                }
                exchange.sendResponseHeaders(200, head ? -1 : ENORMOUS);
                try {
                    exchange.close(); // the body never comes
                } catch (RuntimeException e) {
                    // "insufficient bytes written": exactly so
                }
            }
            case "/redirect" -> {
                exchange.getResponseHeaders().add("location", "http://127.0.0.2:" + server.getAddress().getPort() + "/model.bin");
                exchange.sendResponseHeaders(302, -1);
                exchange.close();
            }
            default -> {
                byte[] content = extra.get(path);
                if (content == null) {
                    exchange.sendResponseHeaders(404, -1);
                    exchange.close();
                    return;
                }
                boolean head = exchange.getRequestMethod().equals("HEAD");
                if (head) {
                    exchange.getResponseHeaders().add("content-length", String.valueOf(content.length));
                }
                exchange.sendResponseHeaders(200, head ? -1 : content.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    if (!head) {
                        out.write(content);
                    }
                }
            }
        }
    }

    private void serve(HttpExchange exchange, String path, String range) throws IOException {
        int from = 0;
        Matcher m = range == null ? null : RANGE.matcher(range);
        if (m != null && m.matches()) {
            from = Integer.parseInt(m.group(1));
        }
        int length = CONTENT.length - from;
        exchange.getResponseHeaders().add("accept-ranges", "bytes");
        if (from > 0) {
            exchange.getResponseHeaders().add("content-range", "bytes " + from + "-" + (CONTENT.length - 1) + "/" + CONTENT.length);
        }
        if (exchange.getRequestMethod().equals("HEAD")) {
            exchange.getResponseHeaders().add("content-length", String.valueOf(CONTENT.length));
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
            return;
        }
        exchange.sendResponseHeaders(from > 0 ? 206 : 200, length);
        try (OutputStream out = exchange.getResponseBody()) {
            if (path.equals("/flaky.bin") && !flakyBroke) {
                flakyBroke = true;
                out.write(CONTENT, from, length / 2);
                out.flush();
                throw new IOException("breaking off on purpose: the connection closes mid-body");
            }
            if (path.equals("/slow.bin")) {
                for (int at = from; at < CONTENT.length; at += 64 * 1024) {
                    out.write(CONTENT, at, Math.min(64 * 1024, CONTENT.length - at));
                    out.flush();
                    sleep(50);
                }
                return;
            }
            out.write(CONTENT, from, length);
        } catch (IOException e) {
            exchange.close();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
