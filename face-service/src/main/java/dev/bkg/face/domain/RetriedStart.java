package dev.bkg.face.domain;

import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import org.jboss.logging.Logger;

/**
 * A start-up step that needs a peer (model-service, PostgreSQL) run on its own daemon thread until
 * it succeeds: 0.5 s between tries, doubling up to 10 s; each try's failure is reported (the
 * caller shows it as not ready), a new reason logged once. Null is reported when it succeeded.
 */
final class RetriedStart {

    private static final Logger LOG = Logger.getLogger(RetriedStart.class);

    interface Step {
        void run() throws Exception;
    }

    private RetriedStart() {
    }

    static void begin(String threadName, String what, Step step, Consumer<String> problem, BooleanSupplier stopped) {
        Thread thread = new Thread(() -> {
            long waitMs = 500;
            String last = null;
            while (!stopped.getAsBoolean()) {
                try {
                    step.run();
                    problem.accept(null);
                    return;
                } catch (Exception e) {
                    String reason = what + " (" + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()) + ")";
                    if (!reason.equals(last)) {
                        LOG.warnf("%s; retrying", reason);
                    }
                    last = reason;
                    problem.accept(reason);
                }
                try {
                    Thread.sleep(waitMs);
                } catch (InterruptedException e) {
                    return;
                }
                waitMs = Math.min(waitMs * 2, 10_000);
            }
        }, threadName);
        thread.setDaemon(true);
        thread.start();
    }
}
