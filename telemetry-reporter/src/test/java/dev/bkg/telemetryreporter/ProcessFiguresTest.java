package dev.bkg.telemetryreporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** /proc figures of real processes, CPU percentages and latency percentiles from histogram buckets. */
class ProcessFiguresTest {

    @Test
    void aProcessGroupCountsTheLeaderAndItsChildren() throws Exception {
        // a group leader (setsid) with two children, like a plugin
        Process leader = new ProcessBuilder("setsid", "sh", "-c", "sleep 30 & sleep 30 & wait").start();
        try {
            long pid = leader.pid();
            ProcessFigures group = null;
            for (int i = 0; i < 50; i++) {
                group = ProcessFigures.ofGroup(pid);
                if (group.processes() == 3) {
                    break;
                }
                Thread.sleep(100);
            }
            assertEquals(3, group.processes(), "sh and its two sleeps");
            assertTrue(group.rssBytes() > 0);
            assertTrue(group.threads() >= 3);
            assertTrue(group.openFiles() >= 3, "each holds at least stdin/stdout/stderr");
            assertEquals(1, ProcessFigures.ofProcess(pid).processes());
        } finally {
            new ProcessBuilder("kill", "--", "-" + leader.pid()).start().waitFor(5, TimeUnit.SECONDS);
            leader.destroyForcibly();
        }
        Map<Long, ProcessFigures> gone = null;
        for (int i = 0; i < 50; i++) { // the kernel takes a moment to end them
            gone = ProcessFigures.ofGroups(Set.of(leader.pid()));
            if (gone.isEmpty()) {
                break;
            }
            Thread.sleep(100);
        }
        assertEquals(Map.of(), gone, "a group that is gone is left out");
    }

    @Test
    void cpuPercentOfABusyThreadIsAboutOneCore() throws Exception {
        long pid = ProcessHandle.current().pid();
        CpuMeter meter = new CpuMeter();
        assertEquals(-1, meter.percent(ProcessFigures.ofProcess(pid).cpuTicks(), System.nanoTime()));
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
        long spins = 0;
        while (System.nanoTime() < until) {
            spins++;
        }
        double percent = meter.percent(ProcessFigures.ofProcess(pid).cpuTicks(), System.nanoTime());
        assertTrue(spins > 0);
        // one busy thread is at most a core (plus the JVM's own threads); a loaded machine gives it less
        assertTrue(percent > 30 && percent < 200, "cpu " + percent);
    }

    @Test
    void percentilesInterpolateInsideTheirBucket() {
        TreeMap<Double, Double> cumulative = new TreeMap<>(Map.of(1.0, 0.0, 10.0, 50.0, 100.0, 90.0, 1000.0, 100.0));
        assertEquals(10.0, RequestFigures.quantile(0.5, cumulative, 100), 1e-9);
        assertEquals(5.5, RequestFigures.quantile(0.25, cumulative, 100), 1e-9);
        assertEquals(550.0, RequestFigures.quantile(0.95, cumulative, 100), 1e-9);
        // past the last bucket: the last bound
        assertEquals(1000.0, RequestFigures.quantile(0.99, new TreeMap<>(Map.of(1000.0, 50.0)), 100), 1e-9);
    }
}
