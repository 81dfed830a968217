package dev.bkg.testsupport;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;

/** Waits for the service under test to report a readiness status (readiness changes asynchronously). */
public final class Readiness {

    private Readiness() {
    }

    /** Polls {@code /q/health/ready} until it answers {@code httpStatus} (200 UP, 503 DOWN) or fails the test. */
    public static void awaitStatus(int httpStatus, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int last;
        while ((last = given().when().get("/q/health/ready").statusCode()) != httpStatus) {
            if (System.nanoTime() > deadline) {
                fail("readiness stayed " + last + ", expected " + httpStatus + " within " + timeout);
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted");
            }
        }
    }
}
