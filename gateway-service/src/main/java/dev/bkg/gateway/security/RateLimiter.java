package dev.bkg.gateway.security;

import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Token buckets per caller (a key, a session's user, or a client address on public routes):
 * {@code limit} requests a minute, refilled continuously, bursts up to the limit.
 */
@ApplicationScoped
public class RateLimiter {

    /** What a request may know about its budget (the X-RateLimit-* headers). */
    public record Decision(boolean allowed, int limit, int remaining, long resetSeconds) {
    }

    private final int defaultPerMinute;
    private final int anonymousPerMinute;
    private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    RateLimiter(@ConfigProperty(name = "bkg.gateway.rate-limit-per-minute", defaultValue = "600") int defaultPerMinute,
            @ConfigProperty(name = "bkg.gateway.anonymous-rate-limit-per-minute", defaultValue = "30") int anonymousPerMinute) {
        this.defaultPerMinute = defaultPerMinute;
        this.anonymousPerMinute = anonymousPerMinute;
    }

    public Decision forCaller(CallerPrincipal caller) {
        int limit = caller.rateLimitPerMinute() > 0 ? caller.rateLimitPerMinute() : defaultPerMinute;
        return take(caller.subject(), limit);
    }

    public Decision forAddress(String address) {
        return take("addr:" + address, anonymousPerMinute);
    }

    private Decision take(String subject, int limit) {
        if (buckets.size() > 200_000) {
            buckets.clear(); // bounded memory whatever the traffic; only forgets spent budgets
        }
        // a changed limit (a new key with the same subject cannot happen; a config change can) starts a fresh bucket
        Bucket bucket = buckets.compute(subject, (k, b) -> b == null || b.limit != limit ? new Bucket(limit) : b);
        return bucket.take(System.nanoTime());
    }

    private static final class Bucket {
        final int limit;
        private final double refillPerNano;
        private double tokens;
        private long last;

        Bucket(int limit) {
            this.limit = limit;
            this.refillPerNano = limit / 60e9;
            this.tokens = limit;
            this.last = System.nanoTime();
        }

        synchronized Decision take(long now) {
            tokens = Math.min(limit, tokens + (now - last) * refillPerNano);
            last = now;
            boolean allowed = tokens >= 1;
            if (allowed) {
                tokens -= 1;
            }
            long reset = (long) Math.ceil((allowed ? limit - tokens : 1 - tokens) / refillPerNano / 1e9);
            return new Decision(allowed, limit, (int) Math.floor(tokens), Math.max(1, reset));
        }
    }
}
