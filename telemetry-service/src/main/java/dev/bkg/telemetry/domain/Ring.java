package dev.bkg.telemetry.domain;

import java.util.Arrays;

/**
 * A fixed-memory ring of time slots at one resolution: slot i holds the samples of one interval
 * [k·resolution, (k+1)·resolution) as count, sum, min, max and last value. A newer interval takes
 * over its slot; a sample older than what its slot holds (outside the window) is ignored. Memory:
 * 44 bytes per slot, whatever the traffic. Guarded by the owning {@link Series}.
 */
final class Ring {

    static final int BYTES_PER_SLOT = Long.BYTES + 4 * Double.BYTES + Integer.BYTES;

    final long resolutionMs;
    final int slots;
    private final long[] interval;
    private final int[] count;
    private final double[] sum;
    private final double[] min;
    private final double[] max;
    private final double[] last;

    Ring(long resolutionMs, int slots) {
        this.resolutionMs = resolutionMs;
        this.slots = slots;
        this.interval = new long[slots];
        Arrays.fill(interval, Long.MIN_VALUE);
        this.count = new int[slots];
        this.sum = new double[slots];
        this.min = new double[slots];
        this.max = new double[slots];
        this.last = new double[slots];
    }

    long windowMs() {
        return resolutionMs * slots;
    }

    void add(long epochMs, double value) {
        long k = Math.floorDiv(epochMs, resolutionMs);
        int i = (int) Math.floorMod(k, (long) slots);
        if (interval[i] > k) {
            return; // older than the window
        }
        if (interval[i] != k) {
            interval[i] = k;
            count[i] = 0;
            sum[i] = 0;
            min[i] = Double.POSITIVE_INFINITY;
            max[i] = Double.NEGATIVE_INFINITY;
        }
        count[i]++;
        sum[i] += value;
        min[i] = Math.min(min[i], value);
        max[i] = Math.max(max[i], value);
        last[i] = value;
    }

    /** Calls {@code visitor} for each filled interval in [fromMs, toMs), oldest first. */
    void forEach(long fromMs, long toMs, SlotVisitor visitor) {
        long first = Math.floorDiv(fromMs, resolutionMs);
        long end = Math.floorDiv(toMs - 1, resolutionMs);
        first = Math.max(first, end - slots + 1);
        for (long k = first; k <= end; k++) {
            int i = (int) Math.floorMod(k, (long) slots);
            if (interval[i] == k && count[i] > 0) {
                visitor.slot(k * resolutionMs, count[i], sum[i], min[i], max[i], last[i]);
            }
        }
    }

    interface SlotVisitor {
        void slot(long startMs, int count, double sum, double min, double max, double last);
    }
}
