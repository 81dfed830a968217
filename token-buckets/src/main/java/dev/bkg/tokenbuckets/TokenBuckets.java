package dev.bkg.tokenbuckets;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

/**
 * Token buckets per key ("user:admin", "addr:10.0.0.1", a key's id): {@code perMinute} tokens
 * refilled continuously, bursts up to {@code perMinute}. Memory stays bounded without ever handing
 * an attacker a reset: a bucket goes only once it has been idle a minute — by then it is full again,
 * so dropping it forgets nothing — and while {@code maxKeys} buckets are live, further new keys
 * share one overflow bucket per limit instead of pushing anyone's bucket out (a spray of usernames
 * throttles itself; the account being guessed at keeps its own, empty bucket). Evicting by size
 * instead would let the attacker choose who is forgotten.
 */
public final class TokenBuckets {

    /** The answer for one request: allowed or not, tokens left, and how long until the next token. */
    public record Taken(boolean allowed, int limit, int remaining, Duration untilNext, Duration untilFull) {
    }

    private final long maxKeys;
    private final Cache<String, Bucket> buckets;
    private final Map<Integer, Bucket> overflow = new ConcurrentHashMap<>();

    public TokenBuckets(long maxKeys) {
        this.maxKeys = maxKeys;
        this.buckets = Caffeine.newBuilder().expireAfterAccess(1, TimeUnit.MINUTES).build();
    }

    /** Takes one token from the key's bucket (a changed limit starts the key afresh). */
    public Taken take(String key, int perMinute) {
        Bucket bucket = buckets.getIfPresent(key);
        if (bucket == null || bucket.limit != perMinute) {
            if (bucket == null && full()) {
                return overflow.computeIfAbsent(perMinute, Bucket::new).take(System.nanoTime());
            }
            bucket = buckets.asMap().compute(key, (k, b) -> b == null || b.limit != perMinute ? new Bucket(perMinute) : b);
        }
        return bucket.take(System.nanoTime());
    }

    private boolean full() {
        if (buckets.estimatedSize() < maxKeys) {
            return false;
        }
        buckets.cleanUp(); // drop the idle ones first
        return buckets.estimatedSize() >= maxKeys;
    }

    /** Buckets held now (after pending evictions). */
    public long size() {
        buckets.cleanUp();
        return buckets.estimatedSize();
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

        synchronized Taken take(long now) {
            tokens = Math.min(limit, tokens + (now - last) * refillPerNano);
            last = now;
            boolean allowed = tokens >= 1;
            if (allowed) {
                tokens -= 1;
            }
            Duration wait = allowed ? Duration.ZERO : Duration.ofNanos((long) Math.ceil((1 - tokens) / refillPerNano));
            return new Taken(allowed, limit, (int) Math.floor(tokens), wait,
                    Duration.ofNanos((long) Math.ceil((limit - tokens) / refillPerNano)));
        }
    }
}
