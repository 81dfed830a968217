import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import dev.bkg.proto.telemetry.v1.ReportRequest;
import dev.bkg.proto.telemetry.v1.Sample;
import dev.bkg.proto.telemetry.v1.TelemetryServiceGrpc;
import dev.bkg.telemetry.domain.SeriesStore;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;

/**
 * telemetry-service ingest: samples/s through gRPC Report (batches of 1000, as the reporters send)
 * into a real telemetry-service pinned to ONE core (taskset -c 0), against the store's own
 * in-process add on one thread (the baseline: what storing costs without the network and
 * protobuf). Also the memory one series really takes (heap after GC, 500 series).
 *
 *   ./mvnw -q install -DskipTests -pl telemetry-service -am
 *   java -cp "telemetry-service/target/quarkus-app/lib/main/*:telemetry-service/target/quarkus-app/app/*" \
 *        bench/TelemetryBench.java [seconds=10] [runs=5]
 */
public class TelemetryBench {

    static final int SERIES = 200;
    static final int BATCH = 1000;

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        long computedBytesPerSeries = store().bytesPerSeries();
        System.out.printf("memory: %d bytes per series computed; %s measured%n", computedBytesPerSeries, measuredBytesPerSeries());

        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        ProcessBuilder launch = new ProcessBuilder("taskset", "-c", "0", "java", "-XX:+UseSerialGC", "-Xmx512m",
                "-Dbkg.telemetry.report-enabled=false", "-jar",
                Path.of("telemetry-service/target/quarkus-app/quarkus-run.jar").toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        launch.environment().put("QUARKUS_HTTP_PORT", String.valueOf(port));
        launch.environment().put("QUARKUS_HTTP_HOST", "127.0.0.1");
        Process service = launch.start();
        try {
            waitReady(port, service);
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
            TelemetryServiceGrpc.TelemetryServiceBlockingStub stub = TelemetryServiceGrpc.newBlockingStub(channel);
            grpcRate(stub, seconds); // warm-up (JIT on both sides), not counted
            inProcessRate(seconds);
            List<Double> ours = new ArrayList<>();
            List<Double> baseline = new ArrayList<>();
            for (int run = 0; run < runs; run++) {
                ours.add(grpcRate(stub, seconds));
                baseline.add(inProcessRate(seconds));
                System.out.printf("run %d: gRPC Report %,.0f samples/s, in-process add %,.0f samples/s%n", run + 1,
                        ours.get(run), baseline.get(run));
            }
            double o = median(ours);
            double b = median(baseline);
            System.out.printf("median: telemetry-service on one core ingests %,.0f samples/s over gRPC; in-process store "
                    + "%,.0f samples/s; ratio %.3f%n", o, b, o / b);
            channel.shutdownNow();
            result("gRPC Report on one core vs in-process store add, median samples/s", String.format(Locale.ROOT,
                    "%,.0f samples/s", o), String.format(Locale.ROOT, "%,.0f samples/s", b), o / b);
            result("bytes per series, measured (heap after GC) vs computed", measuredPerSeries + " B",
                    computedBytesPerSeries + " B", measuredPerSeries / (double) computedBytesPerSeries);
        } finally {
            service.destroy();
            service.waitFor(20, TimeUnit.SECONDS);
        }
    }

    static SeriesStore store() {
        return new SeriesStore(List.of(new SeriesStore.Resolution(Duration.ofSeconds(1), Duration.ofMinutes(15)),
                new SeriesStore.Resolution(Duration.ofMinutes(1), Duration.ofHours(24))), 1000);
    }

    /** What measuredBytesPerSeries found, for the RESULT line. */
    static long measuredPerSeries;

    static String measuredBytesPerSeries() {
        Runtime rt = Runtime.getRuntime();
        System.gc();
        long before = rt.totalMemory() - rt.freeMemory();
        SeriesStore store = store();
        long now = System.currentTimeMillis();
        for (int i = 0; i < 500; i++) {
            store.add(sample(i, now), now);
        }
        System.gc();
        long after = rt.totalMemory() - rt.freeMemory();
        measuredPerSeries = (after - before) / 500;
        return String.format("%,d bytes per series (500 series: %,d bytes; %d kept)", (after - before) / 500, after - before,
                store.seriesCount());
    }

    static Sample sample(int series, long at) {
        return Sample.newBuilder().setSource("bench-" + (series % 20)).setKind("plugin").setMetric("m" + (series / 20))
                .setValue(series).setTimestampEpochMs(at).build();
    }

    static List<Sample> batch(long at) {
        List<Sample> samples = new ArrayList<>(BATCH);
        for (int i = 0; i < BATCH; i++) {
            samples.add(sample(i % SERIES, at));
        }
        return samples;
    }

    static double grpcRate(TelemetryServiceGrpc.TelemetryServiceBlockingStub stub, int seconds) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        long start = System.nanoTime();
        long samples = 0;
        while (System.nanoTime() < end) {
            ReportRequest request = ReportRequest.newBuilder().addAllSamples(batch(System.currentTimeMillis())).build();
            samples += stub.report(request).getAccepted();
        }
        return samples / ((System.nanoTime() - start) / 1e9);
    }

    static double inProcessRate(int seconds) {
        SeriesStore store = store();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        long start = System.nanoTime();
        long samples = 0;
        while (System.nanoTime() < end) {
            long now = System.currentTimeMillis();
            for (Sample s : batch(now)) {
                if (store.add(s, now) == null) {
                    samples++;
                }
            }
        }
        return samples / ((System.nanoTime() - start) / 1e9);
    }

    static void waitReady(int port, Process service) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        for (int i = 0; i < 600; i++) {
            if (!service.isAlive()) {
                throw new IllegalStateException("telemetry-service exited");
            }
            try {
                if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/health/ready")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (java.io.IOException e) {
                // not yet
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("telemetry-service not ready");
    }

    /** One machine-readable line for bench/run: RESULT, label, ours, baseline, ratio (ours / baseline), tab-separated. */
    static void result(String label, String ours, String baseline, double ratio) {
        System.out.println(String.join("\t", "RESULT", label, ours, baseline,
                String.format(Locale.ROOT, Math.abs(ratio) < 0.1 ? "%.3f" : "%.2f", ratio)));
    }

    static double median(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return sorted[sorted.length / 2];
    }
}
