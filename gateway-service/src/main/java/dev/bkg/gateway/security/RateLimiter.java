package dev.bkg.gateway.security;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import dev.bkg.tokenbuckets.TokenBuckets;

/**
 * Token buckets per caller (a key, a session's user, or a client address on public routes):
 * {@code limit} requests a minute, refilled continuously, bursts up to the limit; bounded in
 * memory without a flood of new callers resetting anyone's budget (see {@link TokenBuckets}).
 */
@ApplicationScoped
public class RateLimiter {

    /** What a request may know about its budget (the X-RateLimit-* headers). */
    public record Decision(boolean allowed, int limit, int remaining, long resetSeconds) {
    }

    private final int defaultPerMinute;
    private final int anonymousPerMinute;
    private final TokenBuckets buckets;

    RateLimiter(@ConfigProperty(name = "bkg.gateway.rate-limit-per-minute", defaultValue = "600") int defaultPerMinute,
            @ConfigProperty(name = "bkg.gateway.anonymous-rate-limit-per-minute", defaultValue = "30") int anonymousPerMinute,
            @ConfigProperty(name = "bkg.gateway.rate-limit-max-keys", defaultValue = "200000") long maxKeys) {
        this.defaultPerMinute = defaultPerMinute;
        this.anonymousPerMinute = anonymousPerMinute;
        this.buckets = new TokenBuckets(maxKeys);
    }

    public Decision forCaller(CallerPrincipal caller) {
        int limit = caller.rateLimitPerMinute() > 0 ? caller.rateLimitPerMinute() : defaultPerMinute;
        return take(caller.subject(), limit);
    }

    public Decision forAddress(String address) {
        return take("addr:" + address, anonymousPerMinute);
    }

    private Decision take(String subject, int limit) {
        TokenBuckets.Taken taken = buckets.take(subject, limit);
        // reset: when the budget is whole again (allowed), or when the next request may pass (refused)
        long reset = (long) Math.ceil((taken.allowed() ? taken.untilFull() : taken.untilNext()).toNanos() / 1e9);
        return new Decision(taken.allowed(), limit, taken.remaining(), Math.max(1, reset));
    }
}
