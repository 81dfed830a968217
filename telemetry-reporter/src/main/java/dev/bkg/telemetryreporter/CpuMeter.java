package dev.bkg.telemetryreporter;

/**
 * CPU use between two readings of a process's CPU ticks, in percent of one core (as top and PM2
 * show it: a process busy on two cores is at 200 %). Not thread-safe: one meter per sampler.
 */
public final class CpuMeter {

    private long lastTicks = -1;
    private long lastNanos;

    /** The percentage since the previous reading, or -1 on the first one (nothing to compare with yet). */
    public double percent(long cpuTicks, long nowNanos) {
        long ticks = lastTicks;
        long nanos = lastNanos;
        lastTicks = cpuTicks;
        lastNanos = nowNanos;
        if (ticks < 0 || nowNanos <= nanos || cpuTicks < ticks) {
            return -1;
        }
        double cpuSeconds = (cpuTicks - ticks) / (double) ProcessFigures.CLOCK_TICKS;
        return 100.0 * cpuSeconds / ((nowNanos - nanos) / 1e9);
    }
}
