package dev.bkg.gateway;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;

/**
 * Socket pressure, smaller than bench/SocketBench.java's: many sockets on one plugin's logs while
 * a real plugin writes lines at a steady rate, some taking one message per line and some one per
 * batch ({@code ?batch=true}), beside slow readers that never read. Every healthy socket gets every
 * line once, in order; the slow readers do not hold the others up and, rather than the gateway
 * keeping what they cannot take, are told how many lines they missed ({"type":"skipped"}), which
 * the gateway's Prometheus counter adds up.
 */
@QuarkusTest
@WithTestResource(Backends.class)
@TestProfile(AuthResourceTest.ShortCache.class)
class SocketPressureTest {

    /** The pacer plugin's lines: ~10 MB for each socket, more than a slow reader's kernel buffers take. */
    static final int LINES = 5000;
    static final int LINES_PER_SECOND = 500;
    static final int PADDING = 2000;
    static final int PER_LINE_SOCKETS = 40;
    static final int BATCHED_SOCKETS = 20;
    static final int SLOW_READERS = 2;
    private static final Pattern PACE = Pattern.compile("pace n=(\\d+) ");

    @AfterEach
    void stopPacer() {
        given().auth().oauth2(AuthResourceTest.admin()).when().post("/api/plugins/pacer/stop?wait=true");
    }

    @Test
    void healthySocketsGetEveryLineWhileSlowReadersAreSkippedAndTold() throws Exception {
        String admin = AuthResourceTest.admin();
        String key = AuthResourceTest.createKey(admin, Map.of("name", "socket-pressure", "scopes", List.of("plugins:read"),
                "rateLimitPerMinute", 100_000)).then().statusCode(201).extract().path("key");
        double skippedBefore = skippedMessagesTotal(admin);
        HttpClient http = HttpClient.newHttpClient();
        List<Follower> followers = new ArrayList<>();
        List<WebSocket> sockets = new ArrayList<>();
        List<Socket> slow = new ArrayList<>();
        try {
            for (int i = 0; i < PER_LINE_SOCKETS + BATCHED_SOCKETS; i++) {
                boolean batched = i >= PER_LINE_SOCKETS;
                Follower follower = new Follower(batched);
                followers.add(follower);
                sockets.add(http.newWebSocketBuilder().subprotocols("bkg.v1", "bkg.bearer." + key)
                        .buildAsync(URI.create(PluginSocketsTest.ws("/ws/plugins/pacer/logs" + (batched ? "?batch=true" : ""))),
                                follower)
                        .get(15, TimeUnit.SECONDS));
            }
            for (int i = 0; i < SLOW_READERS; i++) {
                slow.add(openWithoutReading("/ws/plugins/pacer/logs", key));
            }
            given().auth().oauth2(admin).when().post("/api/plugins/pacer/start?wait=true").then().statusCode(200);

            long seconds = LINES / LINES_PER_SECOND + 60;
            for (Follower follower : followers) {
                assertTrue(follower.done.await(seconds, TimeUnit.SECONDS),
                        "a healthy socket got \"pace done\" (" + follower.lines.get() + " lines so far)");
            }
            for (Follower follower : followers) {
                assertEquals(LINES, follower.lines.get(), "every line reached every healthy socket (skipped: "
                        + follower.skipped.get() + ")");
                assertEquals(null, follower.problem, "each line once, in order, in the socket's shape");
                assertEquals(0, follower.skipped.get(), "nothing skipped for a healthy socket");
            }
            assertTrue(followers.stream().filter(f -> f.batched).allMatch(f -> f.messages.get() < LINES),
                    "batched sockets got fewer messages than lines");

            // the slow readers read at last: what they get and what they are told they missed add up to it all
            for (Socket reader : slow) {
                long[] seen = readAll(reader); // {pace lines, skipped}
                assertTrue(seen[1] > 0, "the slow reader was told it missed lines: " + seen[1]);
                assertTrue(seen[0] + seen[1] >= LINES, "received " + seen[0] + " + skipped " + seen[1] + " cover every line");
            }
            assertTrue(skippedMessagesTotal(admin) - skippedBefore >= SLOW_READERS,
                    "bkg_ws_skipped_messages_total counts what slow readers missed");
            given().when().get("/q/health/ready").then().statusCode(200);
        } finally {
            sockets.forEach(WebSocket::abort);
            for (Socket s : slow) {
                s.close();
            }
        }
    }

    /** Counts the pace lines of one socket, checking each arrives once and in order. */
    static final class Follower implements WebSocket.Listener {
        final boolean batched;
        final AtomicLong lines = new AtomicLong();
        final AtomicLong messages = new AtomicLong();
        final AtomicLong skipped = new AtomicLong();
        final CountDownLatch done = new CountDownLatch(1);
        volatile String problem;
        private final StringBuilder partial = new StringBuilder();
        private long last = -1;

        Follower(boolean batched) {
            this.batched = batched;
        }

        @Override
        public java.util.concurrent.CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean complete) {
            partial.append(data);
            if (complete) {
                message(partial.toString());
                partial.setLength(0);
            }
            socket.request(1);
            return null;
        }

        private void message(String text) {
            messages.incrementAndGet();
            if (text.contains("\"type\":\"skipped\"")) {
                skipped.addAndGet(Long.parseLong(text.replaceAll(".*\"count\":(\\d+).*", "$1")));
                return;
            }
            boolean batch = text.startsWith("{\"type\":\"batch\",\"messages\":[");
            if (batch != batched && text.contains("\"type\":\"log\"")) {
                problem = "a " + (batch ? "batch" : "single line") + " on a socket that asked otherwise: " + text;
            }
            Matcher pace = PACE.matcher(text);
            while (pace.find()) {
                long n = Long.parseLong(pace.group(1));
                if (n != last + 1 && problem == null) {
                    problem = "line " + n + " after line " + last;
                }
                last = n;
                lines.incrementAndGet();
            }
            if (text.contains("pace done lines=")) {
                done.countDown();
            }
        }
    }

    /** A WebSocket that completes its handshake on a small receive window and then reads nothing. */
    static Socket openWithoutReading(String path, String key) throws IOException {
        Socket socket = new Socket();
        socket.setReceiveBufferSize(4096);
        socket.connect(new java.net.InetSocketAddress("127.0.0.1", RestAssured.port));
        OutputStream out = socket.getOutputStream();
        out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                + "Sec-WebSocket-Protocol: bkg.v1\r\nx-api-key: " + key + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        StringBuilder head = new StringBuilder();
        InputStream in = socket.getInputStream();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed during the handshake: " + head);
            }
            head.append((char) b);
        }
        assertTrue(head.toString().startsWith("HTTP/1.1 101"), head.toString());
        return socket;
    }

    /** Reads a socket's text frames until it stays quiet: {pace lines, lines it was told it missed}. */
    static long[] readAll(Socket socket) throws IOException {
        socket.setSoTimeout(3000);
        InputStream in = new java.io.BufferedInputStream(socket.getInputStream(), 1 << 16);
        long lines = 0;
        long skipped = 0;
        try {
            while (true) {
                int first = in.read();
                if (first < 0) {
                    break;
                }
                long length = in.read() & 0x7f;
                if (length == 126) {
                    length = (in.read() << 8) | in.read();
                } else if (length == 127) {
                    length = 0;
                    for (int i = 0; i < 8; i++) {
                        length = (length << 8) | in.read();
                    }
                }
                String text = new String(in.readNBytes((int) length), StandardCharsets.UTF_8);
                if ((first & 0x0f) != 1) {
                    continue;
                }
                if (text.contains("\"type\":\"skipped\"")) {
                    skipped += Long.parseLong(text.replaceAll(".*\"count\":(\\d+).*", "$1"));
                } else if (PACE.matcher(text).find()) {
                    lines++;
                }
            }
        } catch (SocketTimeoutException quiet) {
            // nothing more for a while: all there is
        }
        return new long[] { lines, skipped };
    }

    static double skippedMessagesTotal(String admin) {
        String metrics = given().auth().oauth2(admin).when().get("/q/metrics").then().statusCode(200).extract().asString();
        Matcher m = Pattern.compile("(?m)^bkg_ws_skipped_messages_total\\{[^}]*} ([0-9.eE+-]+)$").matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }
}
