package dev.bkg.auth.domain;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Slows password guessing: at most {@code perUser} login attempts a minute for one username and
 * {@code perAddress} for one client address (token buckets, refilled continuously).
 */
@ApplicationScoped
public class LoginThrottle {

    private final int perUser;
    private final int perAddress;
    private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    LoginThrottle(@ConfigProperty(name = "bkg.auth.login-attempts-per-user-per-minute", defaultValue = "10") int perUser,
            @ConfigProperty(name = "bkg.auth.login-attempts-per-address-per-minute", defaultValue = "30") int perAddress) {
        this.perUser = perUser;
        this.perAddress = perAddress;
    }

    /** Takes one attempt from both buckets; returns how long to wait when either is empty, else zero. */
    public Duration tryAttempt(String username, String clientAddress) {
        long now = System.nanoTime();
        Duration userWait = bucket("user:" + username, perUser).take(now);
        Duration addressWait = clientAddress == null || clientAddress.isBlank() ? Duration.ZERO
                : bucket("addr:" + clientAddress, perAddress).take(now);
        if (buckets.size() > 100_000) {
            buckets.clear(); // bounded memory under a spray of usernames; only costs some throttling state
        }
        return userWait.compareTo(addressWait) >= 0 ? userWait : addressWait;
    }

    private Bucket bucket(String key, int perMinute) {
        return buckets.computeIfAbsent(key, k -> new Bucket(perMinute));
    }

    private static final class Bucket {
        private final double capacity;
        private final double refillPerNano;
        private double tokens;
        private long last;

        Bucket(int perMinute) {
            this.capacity = perMinute;
            this.refillPerNano = perMinute / 60e9;
            this.tokens = perMinute;
            this.last = System.nanoTime();
        }

        synchronized Duration take(long now) {
            tokens = Math.min(capacity, tokens + (now - last) * refillPerNano);
            last = now;
            if (tokens >= 1) {
                tokens -= 1;
                return Duration.ZERO;
            }
            return Duration.ofNanos((long) Math.ceil((1 - tokens) / refillPerNano));
        }
    }
}
