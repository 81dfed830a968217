package dev.bkg.tokenbuckets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TokenBucketsTest {

    @Test
    void aBucketAllowsItsLimitThenAsksToWait() {
        TokenBuckets buckets = new TokenBuckets(1000);
        for (int i = 0; i < 10; i++) {
            assertTrue(buckets.take("user:admin", 10).allowed());
        }
        TokenBuckets.Taken refused = buckets.take("user:admin", 10);
        assertFalse(refused.allowed());
        assertEquals(0, refused.remaining());
        assertTrue(refused.untilNext().toMillis() > 5_000 && refused.untilNext().toMillis() <= 6_000, refused.toString());
        assertTrue(buckets.take("user:alice", 10).allowed(), "other keys have their own bucket");
    }

    /** The attack the old map allowed: spraying many keys cleared every bucket, admin's too. */
    @Test
    void sprayingHundredThousandKeysLeavesTheGuessedAccountThrottled() {
        TokenBuckets buckets = new TokenBuckets(10_000);
        while (buckets.take("user:admin", 10).allowed()) {
            // the attacker spends admin's attempts
        }
        for (int i = 0; i < 100_000; i++) {
            buckets.take("user:sprayed-" + i, 10);
            if (i % 1000 == 0) {
                assertFalse(buckets.take("user:admin", 10).allowed(), "admin's bucket survived " + i + " sprayed names");
            }
        }
        assertFalse(buckets.take("user:admin", 10).allowed(), "admin is still throttled after 100k sprayed usernames");
        assertTrue(buckets.size() <= 10_000, "memory stays bounded: " + buckets.size());
        // the spray beyond the bound shares one bucket: it throttles itself
        assertFalse(buckets.take("user:one-more-sprayed", 10).allowed());
    }

    @Test
    void frequentKeysCannotPushAnotherKeysBucketOut() {
        TokenBuckets buckets = new TokenBuckets(100);
        while (buckets.take("user:admin", 10).allowed()) {
            // spent
        }
        for (int round = 0; round < 50; round++) {
            for (int i = 0; i < 200; i++) {
                buckets.take("addr:10.0.0." + i, 30);
            }
        }
        assertFalse(buckets.take("user:admin", 10).allowed());
    }
}
