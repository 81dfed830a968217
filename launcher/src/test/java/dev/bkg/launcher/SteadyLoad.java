package dev.bkg.launcher;

import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Light, steady traffic through the gateway to every service while the fault test kills them: one
 * route per service, round after round, each request with a deadline. What a client may see while a
 * service is gone: its answer, or a problem 503 with Retry-After (the gateway itself gone: a refused
 * connection). What it must never see: another 5xx, a 503 without Retry-After, or a request that hangs
 * past its deadline — those are {@link #violations()}.
 */
final class SteadyLoad implements AutoCloseable {

    static final Duration DEADLINE = Duration.ofSeconds(20);

    /** A route and the body it is sent with (null: GET). */
    record Route(String service, String path, String json) {
    }

    private final String gateway;
    private final String key;
    private final List<Route> routes;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<Thread> threads = new ArrayList<>();
    private final List<String> violations = new CopyOnWriteArrayList<>();
    private final Map<String, AtomicLong> outcomes = new ConcurrentHashMap<>();
    private volatile boolean running = true;

    SteadyLoad(String gateway, String key, List<Route> routes, int clients) {
        this.gateway = gateway;
        this.key = key;
        this.routes = routes;
        for (int i = 0; i < clients; i++) {
            Thread thread = new Thread(this::loop, "steady-load-" + i);
            thread.setDaemon(true);
            threads.add(thread);
            thread.start();
        }
    }

    private void loop() {
        while (running) {
            for (Route route : routes) {
                if (!running) {
                    return;
                }
                once(route);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void once(Route route) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(gateway + route.path())).timeout(DEADLINE)
                .header("x-api-key", key);
        if (route.json() == null) {
            request.GET();
        } else {
            request.header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(route.json()));
        }
        long started = System.nanoTime();
        try {
            HttpResponse<String> answer = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            int status = answer.statusCode();
            count(route, String.valueOf(status));
            boolean problem = answer.headers().firstValue("content-type").orElse("").startsWith("application/problem+json");
            if (status == 503 && (answer.headers().firstValue("retry-after").isEmpty() || !problem)) {
                violations.add(route.service() + " " + route.path() + ": 503 without Retry-After or problem body");
            } else if (status >= 500 && status != 503) {
                violations.add(route.service() + " " + route.path() + ": " + status + " " + answer.body());
            }
        } catch (HttpTimeoutException hung) {
            violations.add(route.service() + " " + route.path() + ": no answer within " + DEADLINE.toSeconds() + " s");
        } catch (ConnectException gatewayDown) {
            count(route, "refused");
        } catch (java.io.IOException reset) {
            count(route, "reset"); // the gateway killed mid-request
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (System.nanoTime() - started > DEADLINE.plusSeconds(5).toNanos()) {
            violations.add(route.service() + " " + route.path() + ": took past its deadline");
        }
    }

    private void count(Route route, String outcome) {
        outcomes.computeIfAbsent(route.service() + " " + outcome, k -> new AtomicLong()).incrementAndGet();
    }

    List<String> violations() {
        return List.copyOf(violations);
    }

    /** "service status" → how many, e.g. "model-service 503" → 4. */
    Map<String, Long> outcomes() {
        Map<String, Long> out = new TreeMap<>();
        outcomes.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        for (Thread thread : threads) {
            thread.join(DEADLINE.plusSeconds(10).toMillis());
        }
    }
}
