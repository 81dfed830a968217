import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Socket pressure: N WebSockets on one plugin's logs while the plugin writes R lines/s, each line
 * carrying the time it was written. Per N: the latency from the plugin's write to each socket's
 * read (p50/p99/max), lines lost by healthy sockets (never reading slower than they can), the
 * gateway's RSS, and a few slow readers (sockets that never read) that must not slow the others:
 * the gateway drops what they cannot take and tells them how many ("skipped"). The baseline is
 * the same path with one socket; the ratio is p99 at N over p99 at one. Both ways a socket can
 * take the lines are measured: one message per line, and one message per batch ({@code ?batch=true}).
 *
 * The clients are one NIO selector thread speaking just enough RFC 6455 (server frames are never
 * masked), so that on a 2-core machine the load generator takes little of what the gateway needs.
 * Usage (the mesh must load the bench registry: plugins.json plus the pacing plugin):
 * <pre>
 * java bench/SocketBench.java registry > /tmp/bench-sockets.json
 * BKG_PLUGINS_REGISTRY=/tmp/bench-sockets.json BKG_ADMIN_PASSWORD=pw ./bkg up --detach
 * java bench/SocketBench.java http://127.0.0.1:8080 admin pw [sockets=100,500,1000] [lines/s=200] [seconds=20] [slow=10] [lines|batch|both]
 * </pre>
 */
public class SocketBench {

    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final String PLUGIN = "logpace";
    static String base;
    static String token;

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("registry")) {
            System.out.println(registry());
            return;
        }
        base = args[0];
        token = find(post("/api/auth/login", "{\"username\":\"" + args[1] + "\",\"password\":\"" + args[2] + "\"}"),
                "\"token\":\"([^\"]+)\"");
        String key = find(post("/api/auth/keys", "{\"name\":\"socket-bench-" + System.nanoTime()
                + "\",\"scopes\":[\"plugins:read\"],\"rateLimitPerMinute\":1000000}"), "\"key\":\"([^\"]+)\"");
        int[] counts = java.util.Arrays.stream((args.length > 3 ? args[3] : "100,500,1000").split(","))
                .mapToInt(Integer::parseInt).toArray();
        int rate = args.length > 4 ? Integer.parseInt(args[4]) : 200;
        int seconds = args.length > 5 ? Integer.parseInt(args[5]) : 20;
        int slow = args.length > 6 ? Integer.parseInt(args[6]) : 10;
        List<Boolean> modes = switch (args.length > 7 ? args[7] : "both") {
            case "lines" -> List.of(false);
            case "batch" -> List.of(true);
            default -> List.of(false, true);
        };
        long gatewayPid = pidOf("gateway-service/target/quarkus-app");
        System.out.printf("%d lines/s for %d s to each socket, %d slow readers beside them; gateway pid %d%n",
                rate, seconds, slow, gatewayPid);
        for (boolean batch : modes) {
            String mode = batch ? "one message per batch (?batch=true)" : "one message per line";
            System.out.printf("%n== %s ==%n", mode);
            Result baseline = run(key, 1, 0, rate, seconds, gatewayPid, batch);
            List<Result> results = new ArrayList<>();
            for (int n : counts) {
                results.add(run(key, n, slow, rate, seconds, gatewayPid, batch));
            }
            System.out.printf("%n%s%n| sockets | p50 ms | p99 ms | max ms | lines lost (healthy) | sockets complete | "
                    + "skipped for slow readers | gateway RSS MB before → max | p99 ratio to 1 socket |%n|---|---|---|---|---|---|---|---|---|%n", mode);
            for (Result r : prepend(baseline, results)) {
                System.out.printf("| %d | %d | %d | %d | %,d of %,d | %d of %d | %,d | %,d → %,d | %.1f |%n", r.sockets,
                        r.p50, r.p99, r.max, r.lost, r.expected * r.sockets, r.complete, r.sockets, r.skipped,
                        r.rssBeforeKb / 1024, r.rssMaxKb / 1024, r.p99 / (double) Math.max(1, baseline.p99));
            }
            for (Result r : results) {
                System.out.printf("RESULT\tsockets %d x %d lines/s, %s: p99 (p50 %d ms, lost %d)\t%d ms\t%d ms\t%.2f%n",
                        r.sockets, rate, batch ? "batched" : "per line", r.p50, r.lost, r.p99, baseline.p99,
                        r.p99 / (double) Math.max(1, baseline.p99));
            }
        }
    }

    static List<Result> prepend(Result first, List<Result> rest) {
        List<Result> all = new ArrayList<>(List.of(first));
        all.addAll(rest);
        return all;
    }

    record Result(int sockets, long p50, long p99, long max, long lost, long expected, int complete, long skipped,
            long rssBeforeKb, long rssMaxKb) {
    }

    static Result run(String key, int healthy, int slow, int rate, int seconds, long gatewayPid, boolean batch)
            throws Exception {
        post("/api/plugins/" + PLUGIN + "/stop?wait=true", null);
        String run = UUID.randomUUID().toString().substring(0, 8);
        post("/api/plugins/" + PLUGIN + "/config",
                "{\"floodSeconds\":" + seconds + ",\"floodRate\":" + rate + ",\"floodRun\":\"" + run + "\"}");
        URI uri = URI.create(base);
        Clients clients = new Clients(new InetSocketAddress(uri.getHost(), uri.getPort()),
                "/ws/plugins/" + PLUGIN + "/logs" + (batch ? "?batch=true" : ""), key, run, healthy, slow);
        Thread io = new Thread(clients::loop, "socket-bench-io");
        io.start();
        clients.awaitOpen(60_000);
        long rssBefore = rssKb(gatewayPid);
        double skippedBefore = skippedTotal();
        long rssMax = rssBefore;
        post("/api/plugins/" + PLUGIN + "/start?wait=true", null);
        long deadline = System.currentTimeMillis() + (seconds + 60) * 1000L;
        while (System.currentTimeMillis() < deadline && !clients.allDone()) {
            Thread.sleep(500);
            rssMax = Math.max(rssMax, rssKb(gatewayPid));
        }
        Thread.sleep(1000); // late lines of slow readers
        clients.stop();
        io.join();
        long expected = clients.expected;
        long lost = 0;
        int complete = 0;
        for (int i = 0; i < healthy; i++) {
            lost += Math.max(0, expected - clients.received.get(i));
            complete += clients.received.get(i) >= expected && expected > 0 ? 1 : 0;
        }
        // slow readers never read, so they never see their "skipped" notices: the gateway's counter tells
        long skipped = (long) (skippedTotal() - skippedBefore);
        Result result = new Result(healthy, clients.percentile(0.50), clients.percentile(0.99), clients.maxLatency,
                lost, expected, complete, skipped, rssBefore, rssMax);
        System.out.printf("%4d sockets: p50 %d ms, p99 %d ms, max %d ms; lost %,d; complete %d/%d; slow readers skipped %,d; "
                + "gateway RSS %,d → %,d KB%n", healthy, result.p50, result.p99, result.max, lost, complete, healthy,
                skipped, rssBefore, rssMax);
        return result;
    }

    /** N WebSocket clients on one selector thread; the first {@code healthy} read all they can, the others never read. */
    static final class Clients {
        final Selector selector;
        final String run;
        final int healthy;
        final int total;
        final AtomicLongArray received;
        final AtomicLongArray skipped;
        final long[] latencyMsHistogram = new long[120_001];
        volatile long maxLatency;
        volatile long expected = -1;
        volatile boolean stopping;
        volatile int open;
        volatile int failed;
        int done;
        final Pattern pace;

        Clients(InetSocketAddress address, String path, String key, String run, int healthy, int slow) throws IOException {
            this.selector = Selector.open();
            this.run = run;
            this.healthy = healthy;
            this.total = healthy + slow;
            this.received = new AtomicLongArray(total);
            this.skipped = new AtomicLongArray(total);
            this.pace = Pattern.compile("pace run=" + run + " n=\\d+ t=(\\d+)");
            byte[] handshake = ("GET " + path + " HTTP/1.1\r\nHost: " + address.getHostString() + ":" + address.getPort()
                    + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: bkg.v1\r\nx-api-key: " + key + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < total; i++) {
                SocketChannel channel = SocketChannel.open();
                if (i >= healthy) {
                    // a slow reader on a small window: the gateway, not the kernel, holds what it cannot take
                    channel.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 4096);
                }
                channel.configureBlocking(false);
                channel.connect(address);
                channel.register(selector, SelectionKey.OP_CONNECT, new Conn(i, ByteBuffer.wrap(handshake)));
            }
        }

        final class Conn {
            final int index;
            final ByteBuffer handshake;
            ByteBuffer in = ByteBuffer.allocate(64 * 1024);
            boolean upgraded;
            boolean finished;

            Conn(int index, ByteBuffer handshake) {
                this.index = index;
                this.handshake = handshake.duplicate();
            }
        }

        void loop() {
            try {
                while (!stopping) {
                    selector.select(200);
                    Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                    while (keys.hasNext()) {
                        SelectionKey k = keys.next();
                        keys.remove();
                        try {
                            handle(k);
                        } catch (IOException e) {
                            k.cancel();
                            k.channel().close();
                        }
                    }
                }
                for (SelectionKey k : selector.keys()) {
                    k.channel().close();
                }
                selector.close();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }

        private void handle(SelectionKey k) throws IOException {
            SocketChannel channel = (SocketChannel) k.channel();
            Conn c = (Conn) k.attachment();
            if (k.isConnectable()) {
                channel.finishConnect();
                k.interestOps(SelectionKey.OP_WRITE);
            } else if (k.isWritable()) {
                channel.write(c.handshake);
                if (!c.handshake.hasRemaining()) {
                    k.interestOps(SelectionKey.OP_READ);
                }
            } else if (k.isReadable()) {
                if (channel.read(c.in) < 0) {
                    throw new IOException("closed");
                }
                c.in.flip();
                if (!c.upgraded) {
                    String head = StandardCharsets.ISO_8859_1.decode(c.in.duplicate()).toString();
                    int end = head.indexOf("\r\n\r\n");
                    if (end < 0) {
                        c.in.compact();
                        return;
                    }
                    if (!head.startsWith("HTTP/1.1 101")) {
                        failed++;
                        throw new IOException("refused: " + head.lines().findFirst().orElse(""));
                    }
                    c.upgraded = true;
                    open++;
                    c.in.position(end + 4);
                    if (c.index >= healthy) {
                        k.interestOps(0); // a slow reader: never reads again
                    }
                }
                frames(c);
                c.in.compact();
            }
        }

        private void frames(Conn c) {
            ByteBuffer b = c.in;
            while (b.remaining() >= 2) {
                int start = b.position();
                int opcode = b.get(start) & 0x0f;
                long length = b.get(start + 1) & 0x7f;
                int header = 2;
                if (length == 126) {
                    if (b.remaining() < 4) {
                        return;
                    }
                    length = b.getShort(start + 2) & 0xffff;
                    header = 4;
                } else if (length == 127) {
                    if (b.remaining() < 10) {
                        return;
                    }
                    length = b.getLong(start + 2);
                    header = 10;
                }
                if (header + length > b.capacity()) {
                    ByteBuffer bigger = ByteBuffer.allocate((int) (header + length) * 2);
                    bigger.put(b);
                    bigger.flip();
                    c.in = b = bigger;
                    continue;
                }
                if (b.remaining() < header + length) {
                    return;
                }
                if (opcode == 1) {
                    message(c, new String(b.array(), start + header, (int) length, StandardCharsets.ISO_8859_1));
                }
                b.position(start + header + (int) length);
            }
        }

        /** One message: a line, a batch of lines ({@code ?batch=true}), or a skipped notice. */
        private void message(Conn c, String m) {
            if (m.startsWith("{\"count\"") || m.contains("\"type\":\"skipped\"")) {
                skipped.addAndGet(c.index, Long.parseLong(find(m, "\"count\":(\\d+)")));
                return;
            }
            long now = System.currentTimeMillis();
            Matcher match = pace.matcher(m);
            int at = m.indexOf("pace ");
            while (at >= 0) {
                if (m.startsWith("pace done run=" + run + " ", at)) {
                    expected = Long.parseLong(find(m.substring(at), "lines=(\\d+)"));
                    if (!c.finished) {
                        c.finished = true;
                        done++;
                    }
                } else if (match.find(at) && match.start() == at) {
                    received.incrementAndGet(c.index);
                    long latency = Math.max(0, now - Long.parseLong(match.group(1)));
                    latencyMsHistogram[(int) Math.min(latency, latencyMsHistogram.length - 1)]++;
                    maxLatency = Math.max(maxLatency, latency);
                }
                at = m.indexOf("pace ", at + 5);
            }
        }

        void awaitOpen(long millis) throws InterruptedException {
            long deadline = System.currentTimeMillis() + millis;
            while (open + failed < total && System.currentTimeMillis() < deadline) {
                Thread.sleep(50);
            }
            if (open < total) {
                System.out.printf("only %d of %d sockets opened (%d refused)%n", open, total, failed);
            }
        }

        boolean allDone() {
            return expected >= 0 && done >= healthy;
        }

        void stop() {
            stopping = true;
            selector.wakeup();
        }

        long percentile(double p) {
            long count = 0;
            for (long n : latencyMsHistogram) {
                count += n;
            }
            long rank = (long) Math.ceil(p * count);
            long seen = 0;
            for (int ms = 0; ms < latencyMsHistogram.length; ms++) {
                seen += latencyMsHistogram[ms];
                if (seen >= rank && seen > 0) {
                    return ms;
                }
            }
            return -1;
        }
    }

    /** plugins.json with the pacing plugin added (its config sets the rate, the duration and the run's name). */
    static String registry() throws IOException {
        String json = Files.readString(Path.of("plugins/plugins.json"));
        String pace = """
                    {
                      "name": "logpace",
                      "description": "SocketBench: writes log lines at a set rate, each with the time it was written",
                      "entrypoint": "python3 bench/logflood.py",
                      "autostart": false,
                      "capabilities": [],
                      "healthcheck": { "path": "/health", "intervalSeconds": 5 },
                      "port": 8096, "portEnv": "BENCH_PACE_PORT",
                      "transport": "http",
                      "env": { "FLOOD_DELAY_SECONDS": "1" },
                      "restart": { "maxRestarts": 0, "backoffBaseMs": 1000, "backoffCapMs": 1000 },
                      "stopGraceSeconds": 2,
                      "startTimeoutSeconds": 20,
                      "configSchema": { "type": "object", "properties": {
                        "floodSeconds": { "type": "number", "minimum": 0, "x-env": "FLOOD_SECONDS" },
                        "floodRate": { "type": "number", "minimum": 0, "x-env": "FLOOD_RATE" },
                        "floodRun": { "type": "string", "x-env": "FLOOD_RUN" } } }
                    }
                """;
        int end = json.lastIndexOf(']');
        return json.substring(0, end).stripTrailing() + ",\n" + pace + "  ]\n}\n";
    }

    /** The gateway's bkg_ws_skipped_messages_total: lines dropped for slow readers. */
    static double skippedTotal() throws Exception {
        HttpResponse<String> metrics = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/q/metrics"))
                .header("authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
        Matcher m = Pattern.compile("(?m)^bkg_ws_skipped_messages_total\\{[^}]*} ([0-9.eE+-]+)$").matcher(metrics.body());
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    static long pidOf(String commandLinePart) throws IOException {
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                try {
                    String cmd = Files.readString(p.resolve("cmdline")).replace('\0', ' ');
                    if (cmd.contains(commandLinePart) && !cmd.contains("SocketBench")) {
                        return Long.parseLong(p.getFileName().toString());
                    }
                } catch (IOException | NumberFormatException ignored) {
                    // not a process, or gone
                }
            }
        }
        return -1;
    }

    static long rssKb(long pid) {
        try {
            return Long.parseLong(find(Files.readString(Path.of("/proc/" + pid + "/status")), "VmRSS:\\s+(\\d+)"));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    static String post(String path, String json) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path));
        if (token != null) {
            request.header("authorization", "Bearer " + token);
        }
        request.header("content-type", "application/json");
        HttpResponse<String> response = HTTP.send(request.POST(json == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() >= 400) {
            throw new IllegalStateException("POST " + path + " → " + response.statusCode() + " " + response.body());
        }
        return response.body();
    }

    static String find(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        if (!m.find()) {
            throw new IllegalStateException(regex + " not in " + text);
        }
        return m.group(1);
    }
}
