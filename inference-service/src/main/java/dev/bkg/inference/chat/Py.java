package dev.bkg.inference.chat;

import static dev.bkg.inference.chat.ChatTemplate.MAX_OUTPUT_CHARS;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.hubspot.jinjava.interpret.OutputTooBigException;
import com.hubspot.jinjava.objects.SafeString;

import jinjava.javax.el.ELException;

/**
 * Python's semantics for the values templates see (Jinjava's differ): str() and repr(), truthiness, slices,
 * printf-style {@code %}, json.dumps. Strings count code points, as Python's.
 */
final class Py {

    private Py() {
    }

    /** Python's str.isspace for one code point. */
    static boolean isSpace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85;
    }

    static boolean truthy(Object o) {
        if (o == null) {
            return false;
        }
        if (o instanceof Boolean b) {
            return b;
        }
        if (o instanceof Number n) {
            return n.doubleValue() != 0;
        }
        if (o instanceof CharSequence c) {
            return c.length() > 0;
        }
        if (o instanceof Collection<?> c) {
            return !c.isEmpty();
        }
        if (o instanceof Map<?, ?> m) {
            return !m.isEmpty();
        }
        return true;
    }

    static Iterable<?> iterate(Object o) {
        if (o instanceof Map<?, ?> m) {
            return m.keySet();
        }
        if (o instanceof Iterable<?> it) {
            return it;
        }
        if (o instanceof Object[] a) {
            return Arrays.asList(a);
        }
        if (o instanceof CharSequence c) {
            return c.toString().codePoints().mapToObj(cp -> new String(Character.toChars(cp))).toList();
        }
        throw new ELException("'" + typeName(o) + "' object is not iterable");
    }

    static String typeName(Object o) {
        if (o == null) {
            return "NoneType";
        }
        if (o instanceof CharSequence) {
            return "str";
        }
        if (o instanceof Boolean) {
            return "bool";
        }
        if (o instanceof Double || o instanceof Float || o instanceof BigDecimal) {
            return "float";
        }
        if (o instanceof Number) {
            return "int";
        }
        if (o instanceof Map) {
            return "dict";
        }
        if (o instanceof Collection || o instanceof Object[]) {
            return "list";
        }
        return o.getClass().getSimpleName();
    }

    /**
     * Python's slice.indices + range: the indices {@code seq[start:stop:step]} selects from a sequence
     * of {@code length}.
     */
    static int[] sliceIndices(int length, Long start, Long stop, Long step) {
        long st = step == null ? 1 : step;
        if (st == 0) {
            throw new ELException("slice step cannot be zero");
        }
        long lower = st < 0 ? -1 : 0;
        long upper = st < 0 ? length - 1 : length;
        long a;
        if (start == null) {
            a = st < 0 ? upper : lower;
        } else {
            a = start < 0 ? Math.max(start + length, lower) : Math.min(start, upper);
        }
        long b;
        if (stop == null) {
            b = st < 0 ? lower : upper;
        } else {
            b = stop < 0 ? Math.max(stop + length, lower) : Math.min(stop, upper);
        }
        List<Integer> out = new ArrayList<>();
        if (st > 0) {
            for (long i = a; i < b; i += st) {
                out.add((int) i);
            }
        } else {
            for (long i = a; i > b; i += st) {
                out.add((int) i);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Python's str(). Jinjava has no Undefined apart from None (null): null is taken as undefined, which
     * prints as nothing ({@code {{ x }}}, {@code 'a' ~ x}, {@code x|string}); inside a list it is None.
     */
    static String str(Object o) {
        if (o == null) {
            return "";
        }
        if (o instanceof CharSequence || o instanceof SafeString || o instanceof Character) {
            return o.toString();
        }
        return repr(o);
    }

    /** Jinja's attribute argument ({@code 'function.name'}): item lookups along the dotted path. */
    static Object attribute(Object item, Object attribute) {
        if (attribute == null) {
            return item;
        }
        Object v = item;
        for (String part : String.valueOf(attribute).split("\\.")) {
            if (v instanceof Map<?, ?> m) {
                v = m.get(part);
            } else if (v instanceof List<?> l && part.matches("\\d+") && Integer.parseInt(part) < l.size()) {
                v = l.get(Integer.parseInt(part));
            } else {
                return null;
            }
        }
        return v;
    }

    static Object sortKey(Object key, boolean caseSensitive) {
        if (key instanceof Boolean b) {
            return b ? 1L : 0L;
        }
        return key instanceof CharSequence c && !caseSensitive ? c.toString().toLowerCase(Locale.ROOT) : key;
    }

    static boolean isInt(Object o) {
        return o instanceof Long || o instanceof Integer || o instanceof Short || o instanceof Byte
            || o instanceof BigInteger;
    }

    /** The text, if within the output cap (checked as strings are built, before they grow further). */
    static <T extends CharSequence> T bounded(T s) {
        if (s.length() > MAX_OUTPUT_CHARS) {
            throw new OutputTooBigException(MAX_OUTPUT_CHARS, s.length());
        }
        return s;
    }

    private static final Pattern PERCENT = Pattern.compile(
        "%(?:\\(([^)]*)\\))?([-+ #0]*)(\\d+|\\*)?(?:\\.(\\d+|\\*))?([sdirfFeExXoc%])");

    /** Python's {@code format % args} (printf-style: s r d i f F e E x X o c, flags, width, precision). */
    static String percentFormat(String format, Object args) {
        // a list stands for Python's tuple (Jinjava makes both lists)
        List<Object> values = args instanceof List<?> l ? new ArrayList<>(l) : new ArrayList<>(Arrays.asList(args));
        Map<?, ?> named = args instanceof Map<?, ?> map ? map : null;
        Matcher m = PERCENT.matcher(format);
        StringBuilder out = new StringBuilder();
        int next = 0;
        int at = 0;
        while (m.find()) {
            out.append(format, at, m.start());
            at = m.end();
            char conversion = m.group(5).charAt(0);
            if (conversion == '%') {
                out.append('%');
                continue;
            }
            String flags = m.group(2);
            String width = m.group(3);
            String precision = m.group(4);
            if ("*".equals(width)) {
                width = String.valueOf(((Number) values.get(next++)).longValue());
            }
            if ("*".equals(precision)) {
                precision = String.valueOf(((Number) values.get(next++)).longValue());
            }
            if ((width != null && width.length() > 4) || (precision != null && precision.length() > 4)) {
                throw new ELException("format width or precision too large");
            }
            Object value;
            if (m.group(1) != null) {
                if (named == null) {
                    throw new ELException("format requires a mapping");
                }
                value = named.get(m.group(1));
            } else {
                if (next >= values.size()) {
                    throw new ELException("not enough arguments for format string");
                }
                value = values.get(next++);
            }
            String spec = "%" + flags + (width == null ? "" : width);
            String text = switch (conversion) {
                case 's', 'r' -> {
                    String t = conversion == 's' ? (value == null ? "None" : str(value)) : repr(value);
                    if (precision != null) {
                        t = t.substring(0, Math.min(t.length(), Integer.parseInt(precision)));
                    }
                    yield String.format(spec.replace("0", "").replace("#", "").replace("+", "") + "s", t);
                }
                case 'd', 'i' -> String.format(spec.replace("#", "") + "d", toInteger(value));
                case 'x', 'X', 'o' -> String.format(spec + conversion, toInteger(value));
                case 'c' -> String.format(spec.replace("0", "") + "s",
                    value instanceof Number n ? new String(Character.toChars(n.intValue())) : str(value));
                default -> {
                    char javaConversion = conversion == 'F' ? 'f' : Character.toLowerCase(conversion);
                    if (!(value instanceof Number number)) {
                        throw new ELException("%" + conversion + " format: a real number is required, not "
                            + typeName(value));
                    }
                    yield String.format(spec + "." + (precision == null ? "6" : precision) + javaConversion,
                        number.doubleValue());
                }
            };
            out.append(conversion == 'E' ? text.toUpperCase(Locale.ROOT) : text);
            bounded(out);
        }
        out.append(format.substring(at));
        if (named == null && next < values.size() && !(args instanceof Map)) {
            throw new ELException("not all arguments converted during string formatting");
        }
        return bounded(out.toString());
    }

    private static BigInteger toInteger(Object value) {
        if (value instanceof Double || value instanceof Float || value instanceof BigDecimal) {
            return new BigDecimal(((Number) value).doubleValue()).toBigInteger();
        }
        if (value instanceof Boolean b) {
            return b ? BigInteger.ONE : BigInteger.ZERO;
        }
        if (value instanceof Number n) {
            return value instanceof BigInteger bi ? bi : BigInteger.valueOf(n.longValue());
        }
        throw new ELException("%d format: a number is required, not " + typeName(value));
    }

    /** Python's repr() of the values templates see. */
    static String repr(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof Boolean b) {
            return b ? "True" : "False";
        }
        if (o instanceof Double || o instanceof Float) {
            return floatRepr(((Number) o).doubleValue());
        }
        if (o instanceof BigDecimal d) {
            return floatRepr(d.doubleValue());
        }
        if (o instanceof Number) {
            return o.toString();
        }
        if (o instanceof CharSequence || o instanceof SafeString || o instanceof Character) {
            return quote(o.toString());
        }
        if (o instanceof Map.Entry<?, ?> e) {
            return "(" + repr(e.getKey()) + ", " + repr(e.getValue()) + ")";
        }
        if (o instanceof Map<?, ?> m) {
            StringBuilder b = new StringBuilder("{");
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                b.append(first ? "" : ", ").append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
                first = false;
                bounded(b);
            }
            return b.append('}').toString();
        }
        if (o instanceof Iterable<?> || o instanceof Object[]) {
            StringBuilder b = new StringBuilder("[");
            boolean first = true;
            for (Object e : iterate(o)) {
                b.append(first ? "" : ", ").append(repr(e));
                first = false;
                bounded(b);
            }
            return b.append(']').toString();
        }
        return o.toString();
    }

    private static String quote(String s) {
        char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder b = new StringBuilder().append(q);
        s.codePoints().forEach(c -> {
            switch (c) {
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c == q) {
                        b.append('\\').appendCodePoint(c);
                    } else if (c < 0x20 || (c >= 0x7f && c <= 0xa0) || c == 0xad) {
                        b.append(String.format("\\x%02x", c));
                    } else {
                        b.appendCodePoint(c);
                    }
                }
            }
        });
        return b.append(q).toString();
    }

    /** Python's float repr: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal exact = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        int exponent = exact.precision() - exact.scale() - 1;
        if (exponent < -4 || exponent >= 16) {
            String digits = exact.unscaledValue().abs().toString();
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            return (d < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+")
                + (Math.abs(exponent) < 10 ? "0" : "") + Math.abs(exponent);
        }
        String plain = exact.toPlainString();
        return plain.contains(".") ? plain : plain + ".0";
    }

    /** Python's json.dumps(…, ensure_ascii, indent, separators, sort_keys). */
    static void json(Object o, StringBuilder out, boolean ensureAscii, String indent, String itemSep, String keySep,
            boolean sortKeys, int depth) {
        if (depth > 100 || out.length() > MAX_OUTPUT_CHARS) {
            throw new IllegalArgumentException("tojson: value too deep or too large");
        }
        if (o == null) {
            out.append("null");
        } else if (o instanceof Boolean b) {
            out.append(b ? "true" : "false");
        } else if (o instanceof Double || o instanceof Float || o instanceof BigDecimal) {
            double d = ((Number) o).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                out.append(Double.isNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
            } else {
                out.append(floatRepr(d));
            }
        } else if (o instanceof Number) {
            out.append(o instanceof BigInteger ? o.toString() : Long.toString(((Number) o).longValue()));
        } else if (o instanceof CharSequence || o instanceof SafeString || o instanceof Character) {
            jsonString(o.toString(), out, ensureAscii);
        } else if (o instanceof Map.Entry<?, ?> e) {
            json(Arrays.asList(e.getKey(), e.getValue()), out, ensureAscii, indent, itemSep, keySep, sortKeys, depth);
        } else if (o instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                out.append("{}");
                return;
            }
            Map<?, ?> entries = m;
            if (sortKeys) {
                Map<String, Object> sorted = new TreeMap<>();
                m.forEach((k, v) -> sorted.put(jsonKey(k), v));
                entries = sorted;
            }
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : entries.entrySet()) {
                out.append(first ? "" : itemSep);
                newline(out, indent, depth + 1);
                jsonString(jsonKey(e.getKey()), out, ensureAscii);
                out.append(keySep);
                json(e.getValue(), out, ensureAscii, indent, itemSep, keySep, sortKeys, depth + 1);
                first = false;
            }
            newline(out, indent, depth);
            out.append('}');
        } else if (o instanceof Iterable<?> || o instanceof Object[]) {
            Iterator<?> it = iterate(o).iterator();
            if (!it.hasNext()) {
                out.append("[]");
                return;
            }
            out.append('[');
            boolean first = true;
            while (it.hasNext()) {
                out.append(first ? "" : itemSep);
                newline(out, indent, depth + 1);
                json(it.next(), out, ensureAscii, indent, itemSep, keySep, sortKeys, depth + 1);
                first = false;
            }
            newline(out, indent, depth);
            out.append(']');
        } else {
            throw new IllegalArgumentException("Object of type " + typeName(o) + " is not JSON serializable");
        }
    }

    private static String jsonKey(Object k) {
        if (k instanceof CharSequence) {
            return k.toString();
        }
        if (k == null) {
            return "null";
        }
        if (k instanceof Boolean b) {
            return b ? "true" : "false";
        }
        if (k instanceof Double || k instanceof Float) {
            return floatRepr(((Number) k).doubleValue());
        }
        return k.toString();
    }

    private static void newline(StringBuilder out, String indent, int depth) {
        if (indent != null) {
            out.append('\n');
            for (int i = 0; i < depth; i++) {
                out.append(indent);
            }
        }
    }

    private static void jsonString(String s, StringBuilder out, boolean ensureAscii) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || (ensureAscii && c > 0x7e)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
