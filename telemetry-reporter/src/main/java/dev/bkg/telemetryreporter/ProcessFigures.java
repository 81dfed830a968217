package dev.bkg.telemetryreporter;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * What Linux says about a process, or a whole process group (a plugin and every child it started),
 * read from /proc: CPU time used, resident memory, threads, open file descriptors. A process that
 * is gone, or a machine without /proc, gives {@link #NONE}.
 */
public record ProcessFigures(long cpuTicks, long rssBytes, int threads, int openFiles, int processes) {

    public static final ProcessFigures NONE = new ProcessFigures(0, 0, 0, 0, 0);
    static final Path PROC = Path.of("/proc");
    /** Clock ticks per second of utime/stime, and bytes per page of rss (getconf; Linux defaults if it fails). */
    public static final long CLOCK_TICKS = getconf("CLK_TCK", 100);
    static final long PAGE_BYTES = getconf("PAGESIZE", 4096);

    /** The process {@code pid} alone. */
    public static ProcessFigures ofProcess(long pid) {
        Stat stat = Stat.read(pid);
        return stat == null ? NONE
                : new ProcessFigures(stat.cpuTicks, stat.rssPages * PAGE_BYTES, stat.threads, openFiles(pid), 1);
    }

    /** The process {@code pid} and every process in the group it leads (children included). */
    public static ProcessFigures ofGroup(long pid) {
        return ofGroups(java.util.Set.of(pid)).getOrDefault(pid, NONE);
    }

    /**
     * For each of {@code leaders}: the leader and every process in its group (children included),
     * in one pass over /proc. A leader that is gone is left out.
     */
    public static java.util.Map<Long, ProcessFigures> ofGroups(java.util.Set<Long> leaders) {
        java.util.Map<Long, long[]> sums = new java.util.HashMap<>(); // ticks, pages, threads, files, processes
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(PROC, "[0-9]*")) {
            for (Path entry : entries) {
                long pid = Long.parseLong(entry.getFileName().toString());
                Stat stat = Stat.read(pid);
                if (stat == null) {
                    continue;
                }
                long leader = leaders.contains(pid) ? pid : stat.group;
                if (leaders.contains(leader)) {
                    long[] sum = sums.computeIfAbsent(leader, k -> new long[5]);
                    sum[0] += stat.cpuTicks;
                    sum[1] += stat.rssPages;
                    sum[2] += stat.threads;
                    sum[3] += openFiles(pid);
                    sum[4]++;
                }
            }
        } catch (IOException | RuntimeException e) {
            return java.util.Map.of(); // no /proc here
        }
        java.util.Map<Long, ProcessFigures> figures = new java.util.HashMap<>();
        sums.forEach((leader, s) -> figures.put(leader,
                new ProcessFigures(s[0], s[1] * PAGE_BYTES, (int) s[2], (int) s[3], (int) s[4])));
        return figures;
    }

    private static int openFiles(long pid) {
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(PROC.resolve(pid + "/fd"))) {
            int count = 0;
            for (Path ignored : fds) {
                count++;
            }
            return count;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /**
     * The fields of /proc/PID/stat we use (man 5 proc: pgrp 5, utime 14, stime 15, num_threads 20,
     * rss 24). A zombie (state Z: exited, not yet reaped) holds nothing and counts as gone.
     */
    private record Stat(long group, long cpuTicks, int threads, long rssPages) {
        static Stat read(long pid) {
            String line;
            try {
                line = Files.readString(PROC.resolve(pid + "/stat"));
            } catch (IOException | RuntimeException e) {
                return null; // gone, or no /proc
            }
            // the command name (field 2) may hold spaces and parentheses: fields restart after its last ')'
            String[] f = line.substring(line.lastIndexOf(')') + 2).trim().split(" ");
            if (f.length < 22 || f[0].equals("Z")) {
                return null;
            }
            return new Stat(Long.parseLong(f[5 - 3]), Long.parseLong(f[14 - 3]) + Long.parseLong(f[15 - 3]),
                    Integer.parseInt(f[20 - 3]), Long.parseLong(f[24 - 3]));
        }
    }

    private static long getconf(String name, long fallback) {
        try {
            Process p = new ProcessBuilder("getconf", name).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            p.waitFor(5, TimeUnit.SECONDS);
            return Long.parseLong(out);
        } catch (IOException | RuntimeException e) {
            return fallback;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fallback;
        }
    }
}
