package dev.bkg.pluginmanager.domain;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.jboss.logging.Logger;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.subscription.MultiEmitter;

/**
 * One plugin's log: every captured line gets a sequence number and a timestamp, goes into a
 * bounded in-memory ring (the recent past, for pages and replay), to a size-capped file rotated on
 * disk, and to live subscribers. Memory and disk stay bounded whatever the plugin prints. The ring
 * and the followers have this object's lock; the file has its own, so that a page or a replay
 * never waits for a disk write or a rotation.
 */
public final class PluginLog {

    private static final Logger LOG = Logger.getLogger(PluginLog.class);
    static final int MAX_LINE_CHARS = 16 * 1024;
    private static final Pattern LEVEL = Pattern.compile("\\b(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|SEVERE)\\b");

    public enum Stream {
        STDOUT, STDERR, SYSTEM
    }

    public record Line(long seq, long timestampMs, Stream stream, String level, String text) {
    }

    /** A page of lines; {@code dropped} counts lines that fell out of the ring before it. */
    public record Page(List<Line> lines, boolean more, long dropped) {
    }

    private final String pluginId;
    private final int capacity;
    private final Path file;
    private final long maxFileBytes;
    private final int keptFiles;
    private final ArrayDeque<Line> ring;
    private final List<Follower> followers = new ArrayList<>();
    private long nextSeq = 1;
    private long evicted;
    /** Lines on their way to the file, in order; written by whoever holds fileLock. */
    private final java.util.concurrent.ConcurrentLinkedQueue<Line> unwritten = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.concurrent.locks.ReentrantLock fileLock = new java.util.concurrent.locks.ReentrantLock();
    /** Guarded by fileLock. */
    private BufferedWriter writer;
    private long fileBytes;

    public PluginLog(String pluginId, int capacity, Path dir, long maxFileBytes, int keptFiles) {
        this.pluginId = pluginId;
        this.capacity = capacity;
        this.ring = new ArrayDeque<>(Math.min(capacity, 1024));
        this.file = dir == null ? null : dir.resolve(pluginId + ".log");
        this.maxFileBytes = maxFileBytes;
        this.keptFiles = keptFiles;
    }

    public void append(Stream stream, String text) {
        synchronized (this) {
            Line line = new Line(nextSeq++, System.currentTimeMillis(), stream, level(stream, text), text);
            if (ring.size() == capacity) {
                ring.removeFirst();
                evicted++;
            }
            ring.addLast(line);
            if (file != null) {
                unwritten.add(line);
            }
            followers.forEach(f -> f.offer(line));
        }
        writeOut(false);
    }

    /**
     * Writes the lines not yet on disk, in order, outside the lock that pages and followers take
     * (a rotation renames files): whoever holds the file lock writes for everyone; a caller that
     * finds it taken leaves its lines to the holder, unless it must see them written (flush).
     */
    private void writeOut(boolean wait) {
        while (file != null && !unwritten.isEmpty()) {
            if (wait) {
                fileLock.lock();
            } else if (!fileLock.tryLock()) {
                return;
            }
            try {
                Line line;
                while ((line = unwritten.poll()) != null) {
                    writeToFile(line);
                }
                if (wait) {
                    flushFile();
                }
            } finally {
                fileLock.unlock();
            }
        }
    }

    public void system(String text) {
        append(Stream.SYSTEM, text);
        flush();
    }

    /**
     * Copies a stream (a process's output, a pod's log) into this log line by line on a daemon
     * thread of its own, until the stream ends or fails; long lines are cut, so a flood stays bounded.
     */
    public void copyLines(InputStream stream, Stream kind, String threadName) {
        Thread reader = new Thread(() -> {
            try (Reader in = new InputStreamReader(stream, StandardCharsets.UTF_8)) {
                char[] buffer = new char[8192];
                StringBuilder line = new StringBuilder();
                boolean cut = false;
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    for (int i = 0; i < n; i++) {
                        char c = buffer[i];
                        if (c == '\n') {
                            append(kind, cut ? line + " …[cut at " + MAX_LINE_CHARS + " chars]" : stripCr(line));
                            line.setLength(0);
                            cut = false;
                        } else if (line.length() < MAX_LINE_CHARS) {
                            line.append(c);
                        } else {
                            cut = true;
                        }
                    }
                    if (!in.ready()) {
                        flush();
                    }
                }
                if (line.length() > 0) {
                    append(kind, stripCr(line));
                }
            } catch (IOException e) {
                // the process or the pod is gone
            }
            flush();
        }, threadName);
        reader.setDaemon(true);
        reader.start();
    }

    private static String stripCr(StringBuilder line) {
        int end = line.length();
        return end > 0 && line.charAt(end - 1) == '\r' ? line.substring(0, end - 1) : line.toString();
    }

    /** Lines after {@code afterSeq} and not older than {@code sinceMs}, oldest first. */
    public synchronized Page page(long afterSeq, long sinceMs, int limit) {
        List<Line> lines = new ArrayList<>(Math.min(limit, ring.size()));
        long firstKept = ring.isEmpty() ? nextSeq : ring.peekFirst().seq();
        long dropped = Math.max(0, firstKept - afterSeq - 1);
        boolean more = false;
        for (Line line : ring) {
            if (line.seq() <= afterSeq || line.timestampMs() < sinceMs) {
                continue;
            }
            if (lines.size() == limit) {
                more = true;
                break;
            }
            lines.add(line);
        }
        return new Page(lines, more, afterSeq == 0 && sinceMs == 0 ? evicted : dropped);
    }

    /** The last {@code n} lines. */
    public synchronized List<Line> tail(int n) {
        List<Line> all = new ArrayList<>(ring);
        return all.subList(Math.max(0, all.size() - n), all.size());
    }

    /**
     * Replays recent lines (those after {@code afterSeq}, else the last {@code tail}) then follows
     * live ones, with nothing lost or doubled in between. A follower that does not keep up loses
     * lines rather than holding memory: it then gets one SYSTEM line saying how many it missed.
     */
    public Multi<Line> follow(int tail, long afterSeq) {
        return Multi.createFrom().emitter(emitter -> {
            Follower follower = new Follower(emitter);
            synchronized (this) {
                List<Line> replay = afterSeq > 0 ? page(afterSeq, 0, capacity).lines() : tail(tail);
                replay.forEach(follower::offer);
                followers.add(follower);
            }
            emitter.onTermination(() -> {
                synchronized (this) {
                    followers.remove(follower);
                }
            });
        });
    }

    /** One live reader; called under the log's lock, so never blocks. */
    private final class Follower {
        private final MultiEmitter<? super Line> emitter;
        private long missed;

        Follower(MultiEmitter<? super Line> emitter) {
            this.emitter = emitter;
        }

        void offer(Line line) {
            if (emitter.requested() <= 0) {
                missed++;
                return;
            }
            if (missed > 0) {
                emitter.emit(new Line(0, line.timestampMs(), Stream.SYSTEM, "WARN",
                        missed + " log lines skipped: this reader did not keep up"));
                missed = 0;
                if (emitter.requested() <= 0) {
                    missed++;
                    return;
                }
            }
            emitter.emit(line);
        }
    }

    public synchronized List<String> lastTexts(int n) {
        return tail(n).stream().map(Line::text).toList();
    }

    /** Every line appended so far is on disk when this returns. */
    public void flush() {
        writeOut(true);
        fileLock.lock();
        try {
            flushFile();
        } finally {
            fileLock.unlock();
        }
    }

    private void flushFile() {
        if (writer != null) {
            try {
                writer.flush();
            } catch (IOException e) {
                closeFile(e);
            }
        }
    }

    public Path file() {
        return file;
    }

    private void writeToFile(Line line) {
        if (file == null) {
            return;
        }
        try {
            if (writer == null) {
                Files.createDirectories(file.getParent());
                fileBytes = Files.exists(file) ? Files.size(file) : 0;
                writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            }
            String out = Instant.ofEpochMilli(line.timestampMs()) + " " + line.stream() + " " + line.text() + "\n";
            writer.write(out);
            fileBytes += out.length();
            if (fileBytes >= maxFileBytes) {
                rotate();
            }
        } catch (IOException e) {
            closeFile(e);
        }
    }

    /** plugin.log → plugin.log.1 → … → plugin.log.N (the oldest is deleted). */
    private void rotate() throws IOException {
        writer.close();
        writer = null;
        for (int i = keptFiles - 1; i >= 1; i--) {
            Path from = Path.of(file + "." + i);
            if (Files.exists(from)) {
                Files.move(from, Path.of(file + "." + (i + 1)), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Files.deleteIfExists(Path.of(file + "." + keptFiles));
        Files.move(file, Path.of(file + ".1"), StandardCopyOption.REPLACE_EXISTING);
        fileBytes = 0;
    }

    private void closeFile(IOException e) {
        LOG.warnf("log file of plugin %s: %s (lines stay in memory)", pluginId, e.getMessage());
        try {
            if (writer != null) {
                writer.close();
            }
        } catch (IOException ignored) {
            // already failing
        }
        writer = null;
    }

    private static String level(Stream stream, String text) {
        if (stream == Stream.SYSTEM) {
            return "INFO";
        }
        Matcher m = LEVEL.matcher(text.length() > 80 ? text.substring(0, 80) : text);
        if (!m.find()) {
            return "";
        }
        return switch (m.group(1)) {
            case "WARNING" -> "WARN";
            case "SEVERE", "FATAL" -> "ERROR";
            default -> m.group(1);
        };
    }
}
