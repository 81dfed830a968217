package dev.bkg.inference.domain;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/** The once-a-second check that unloads idle models (chat, runner, embeddings): one daemon thread each, shut down with its owner. */
public final class KeepAlive {

    private KeepAlive() {
    }

    public static ScheduledExecutorService everySecond(String threadName, Runnable check) {
        ScheduledExecutorService reaper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
        reaper.scheduleWithFixedDelay(check, 1, 1, TimeUnit.SECONDS);
        return reaper;
    }
}
