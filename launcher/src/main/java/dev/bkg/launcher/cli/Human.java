package dev.bkg.launcher.cli;

import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Sizes, times and tables as a person reads them (decimal units, like Ollama). */
final class Human {

    private static final String[] UNITS = {"B", "kB", "MB", "GB", "TB"};
    private static final DateTimeFormatter DATE_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm", Locale.ROOT)
            .withZone(ZoneId.systemDefault());

    private Human() {
    }

    /** "1.2 GB", "512 B"; "-" for an unknown (negative) size. */
    static String bytes(long bytes) {
        if (bytes < 0) {
            return "-";
        }
        int unit = unit(bytes);
        return unit == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", scaled(bytes, unit), UNITS[unit]);
    }

    /** "12.3/29.0 MB": both in the unit of the total. */
    static String bytesOf(long done, long total) {
        int unit = unit(total);
        if (unit == 0) {
            return done + "/" + total + " B";
        }
        return String.format(Locale.ROOT, "%.1f/%.1f %s", scaled(done, unit), scaled(total, unit), UNITS[unit]);
    }

    static String rate(double bytesPerSecond) {
        return bytesPerSecond <= 0 ? "" : bytes(Math.round(bytesPerSecond)) + "/s";
    }

    private static int unit(long bytes) {
        int unit = 0;
        double value = bytes;
        while (value >= 1000 && unit < UNITS.length - 1) {
            value /= 1000;
            unit++;
        }
        return unit;
    }

    private static double scaled(long bytes, int unit) {
        return bytes / Math.pow(1000, unit);
    }

    /** "4 minutes from now", "less than a second from now"; "now" for a time already past. */
    static String fromNow(long epochMs, long nowMs) {
        long seconds = (epochMs - nowMs) / 1000;
        if (epochMs <= nowMs) {
            return "now";
        }
        if (seconds < 1) {
            return "less than a second from now";
        }
        if (seconds < 60) {
            return seconds + (seconds == 1 ? " second" : " seconds") + " from now";
        }
        long minutes = seconds / 60;
        if (minutes < 2) {
            return "about a minute from now";
        }
        if (minutes < 60) {
            return minutes + " minutes from now";
        }
        long hours = minutes / 60;
        if (hours < 2) {
            return "about an hour from now";
        }
        if (hours < 48) {
            return hours + " hours from now";
        }
        return hours / 24 + " days from now";
    }

    /** An ISO-8601 instant as local "yyyy-MM-dd HH:mm"; {@code absent} when there is none. */
    static String dateTime(String iso, String absent) {
        if (iso == null || iso.isBlank() || iso.equals("null")) {
            return absent;
        }
        try {
            return DATE_TIME.format(Instant.parse(iso));
        } catch (RuntimeException e) {
            return iso;
        }
    }

    /** The first {@code n} characters (ids are long; a prefix is enough to tell them apart). */
    static String shortId(String id, int n) {
        return id == null ? "-" : id.length() <= n ? id : id.substring(0, n);
    }

    /** Columns left-aligned, three spaces apart, no trailing blanks; the header always. */
    static void table(PrintStream out, List<String> header, List<List<String>> rows) {
        List<List<String>> all = new ArrayList<>();
        all.add(header);
        all.addAll(rows);
        int[] widths = new int[header.size()];
        for (List<String> row : all) {
            for (int c = 0; c < row.size(); c++) {
                widths[c] = Math.max(widths[c], cell(row, c).length());
            }
        }
        for (List<String> row : all) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < header.size(); c++) {
                String cell = cell(row, c);
                line.append(cell);
                if (c < header.size() - 1) {
                    line.append(" ".repeat(widths[c] - cell.length() + 3));
                }
            }
            out.println(line.toString().stripTrailing());
        }
        out.flush();
    }

    private static String cell(List<String> row, int c) {
        String value = c < row.size() ? row.get(c) : null;
        return value == null || value.isEmpty() ? "-" : value;
    }
}
