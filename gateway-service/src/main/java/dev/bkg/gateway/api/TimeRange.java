package dev.bkg.gateway.api;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The time query parameters of the telemetry API: {@code from}/{@code to} as epoch milliseconds,
 * an ISO-8601 instant, {@code now}, or a time before now such as {@code -15m}; {@code step} as
 * milliseconds or a duration such as {@code 1s}, {@code 5m}. Bad text is a 400 naming the parameter.
 */
public record TimeRange(long fromMs, long toMs, long stepMs) {

    static final Duration DEFAULT_SPAN = Duration.ofMinutes(15);
    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)");

    static TimeRange parse(String from, String to, String step, long nowMs) {
        long toMs = blank(to) ? nowMs : instant("to", to, nowMs);
        long fromMs = blank(from) ? toMs - DEFAULT_SPAN.toMillis() : instant("from", from, nowMs);
        long stepMs = blank(step) ? 0 : duration("step", step);
        if (fromMs >= toMs) {
            throw ProblemException.badRequest("from must be before to");
        }
        return new TimeRange(fromMs, toMs, stepMs);
    }

    private static long instant(String name, String text, long nowMs) {
        String value = text.trim();
        if (value.equals("now")) {
            return nowMs;
        }
        if (value.startsWith("-")) {
            return nowMs - duration(name, value.substring(1));
        }
        if (!value.isEmpty() && value.chars().allMatch(Character::isDigit) && value.length() <= 15) {
            return Long.parseLong(value);
        }
        try {
            return Instant.parse(value).toEpochMilli();
        } catch (DateTimeParseException e) {
            throw ProblemException.badRequest(name + " must be epoch milliseconds, an ISO-8601 instant, 'now' or '-<duration>' "
                    + "such as -15m");
        }
    }

    private static long duration(String name, String text) {
        String value = text.trim();
        if (value.chars().allMatch(Character::isDigit) && !value.isEmpty() && value.length() <= 12) {
            return Long.parseLong(value);
        }
        Matcher m = DURATION.matcher(value);
        if (!m.matches()) {
            throw ProblemException.badRequest(name + " must be milliseconds or a duration such as 500ms, 1s, 5m, 1h, 1d");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> n;
            case "s" -> n * 1000;
            case "m" -> n * 60_000;
            case "h" -> n * 3_600_000;
            default -> n * 86_400_000;
        };
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
