package dev.bkg.auth.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.junit.jupiter.api.Test;

/**
 * The login throttle cannot be reset from outside: the old map cleared every bucket once it held
 * 100,000 keys, so spraying usernames gave an attacker a fresh ten guesses at admin.
 */
class LoginThrottleTest {

    @Test
    void hundredThousandSprayedUsernamesLeaveAdminsThrottleIntact() {
        LoginThrottle throttle = new LoginThrottle(10, 30, 100_000);
        for (int i = 0; i < 10; i++) {
            assertEquals(Duration.ZERO, throttle.tryAttempt("admin", null));
        }
        assertTrue(throttle.tryAttempt("admin", null).toMillis() > 0, "the eleventh guess in a minute waits");
        for (int i = 0; i < 100_000; i++) {
            throttle.tryAttempt("sprayed-" + i, "10.0." + (i / 250) + "." + (i % 250));
        }
        assertTrue(throttle.tryAttempt("admin", null).toMillis() > 0, "admin is still throttled after the spray");
    }
}
