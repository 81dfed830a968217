package dev.bkg.auth.domain;

import java.time.Duration;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import dev.bkg.tokenbuckets.TokenBuckets;

/**
 * Slows password guessing: at most {@code perUser} login attempts a minute for one username and
 * {@code perAddress} for one client address (token buckets, refilled continuously). Bounded in
 * memory without letting a spray of usernames reset the bucket of the account being guessed at.
 */
@ApplicationScoped
public class LoginThrottle {

    private final int perUser;
    private final int perAddress;
    private final TokenBuckets buckets;

    LoginThrottle(@ConfigProperty(name = "bkg.auth.login-attempts-per-user-per-minute", defaultValue = "10") int perUser,
            @ConfigProperty(name = "bkg.auth.login-attempts-per-address-per-minute", defaultValue = "30") int perAddress,
            @ConfigProperty(name = "bkg.auth.login-throttle-max-keys", defaultValue = "100000") long maxKeys) {
        this.perUser = perUser;
        this.perAddress = perAddress;
        this.buckets = new TokenBuckets(maxKeys);
    }

    /** Takes one attempt from both buckets; returns how long to wait when either is empty, else zero. */
    public Duration tryAttempt(String username, String clientAddress) {
        Duration userWait = buckets.take("user:" + username, perUser).untilNext();
        Duration addressWait = clientAddress == null || clientAddress.isBlank() ? Duration.ZERO
                : buckets.take("addr:" + clientAddress, perAddress).untilNext();
        return userWait.compareTo(addressWait) >= 0 ? userWait : addressWait;
    }
}
