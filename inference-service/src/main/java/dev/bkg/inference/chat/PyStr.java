package dev.bkg.inference.chat;

import static dev.bkg.inference.chat.ChatTemplate.MAX_OUTPUT_CHARS;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.hubspot.jinjava.el.ext.NamedParameter;
import com.hubspot.jinjava.objects.SafeString;
import com.hubspot.jinjava.objects.collections.PyList;

import jinjava.javax.el.ELException;
import jinjava.javax.el.MethodNotFoundException;

/**
 * Python's str methods that chat templates call ({@code content.split('</think>')[-1].lstrip('\n')}), with
 * Python's semantics; Jinjava had none of them on java.lang.String. Anything else is "no attribute".
 */
final class PyStr {

    private PyStr() {
    }

    static Object call(String s, String method, Object[] rawArgs) {
        List<Object> args = new ArrayList<>();
        Map<String, Object> kwargs = new LinkedHashMap<>();
        for (Object a : rawArgs) {
            if (a instanceof NamedParameter p) {
                kwargs.put(p.getName(), p.getValue());
            } else {
                args.add(a instanceof SafeString ss ? ss.toString() : a);
            }
        }
        return switch (method) {
            case "startswith" -> affix(s, arg(args, kwargs, 0, "prefix"), args, true);
            case "endswith" -> affix(s, arg(args, kwargs, 0, "suffix"), args, false);
            case "strip" -> strip(s, chars(arg(args, kwargs, 0, "chars")), true, true);
            case "lstrip" -> strip(s, chars(arg(args, kwargs, 0, "chars")), true, false);
            case "rstrip" -> strip(s, chars(arg(args, kwargs, 0, "chars")), false, true);
            case "split" -> split(s, optString(arg(args, kwargs, 0, "sep")),
                maxsplit(arg(args, kwargs, 1, "maxsplit")));
            case "rsplit" -> rsplit(s, optString(arg(args, kwargs, 0, "sep")),
                maxsplit(arg(args, kwargs, 1, "maxsplit")));
            case "splitlines" -> splitlines(s, Py.truthy(arg(args, kwargs, 0, "keepends")));
            case "upper" -> s.toUpperCase(Locale.ROOT);
            case "lower" -> s.toLowerCase(Locale.ROOT);
            case "title" -> title(s);
            case "capitalize" -> s.isEmpty()
                ? s
                : new StringBuilder().appendCodePoint(Character.toTitleCase(s.codePointAt(0)))
                    .append(s.substring(Character.charCount(s.codePointAt(0))).toLowerCase(Locale.ROOT)).toString();
            case "replace" -> replace(s, string(arg(args, kwargs, 0, "old")), string(arg(args, kwargs, 1, "new")),
                arg(args, kwargs, 2, "count") == null ? -1 : integer(arg(args, kwargs, 2, "count")));
            case "find" -> find(s, args, false);
            case "rfind" -> find(s, args, true);
            case "index", "rindex" -> {
                long i = find(s, args, method.equals("rindex"));
                if (i < 0) {
                    throw new ELException("substring not found");
                }
                yield i;
            }
            case "count" -> count(s, string(arg(args, kwargs, 0, "sub")));
            case "join" -> join(s, arg(args, kwargs, 0, "iterable"));
            case "removeprefix" -> {
                String p = string(arg(args, kwargs, 0, "prefix"));
                yield s.startsWith(p) ? s.substring(p.length()) : s;
            }
            case "removesuffix" -> {
                String p = string(arg(args, kwargs, 0, "suffix"));
                yield !p.isEmpty() && s.endsWith(p) ? s.substring(0, s.length() - p.length()) : s;
            }
            case "partition", "rpartition" -> {
                String sep = string(arg(args, kwargs, 0, "sep"));
                if (sep.isEmpty()) {
                    throw new ELException("empty separator");
                }
                int i = method.equals("partition") ? s.indexOf(sep) : s.lastIndexOf(sep);
                yield i < 0
                    ? new PyList(new ArrayList<>(method.equals("partition") ? List.of(s, "", "") : List.of("", "", s)))
                    : new PyList(new ArrayList<>(List.of(s.substring(0, i), sep, s.substring(i + sep.length()))));
            }
            case "format" -> format(s, args, kwargs);
            case "isspace" -> !s.isEmpty() && s.codePoints().allMatch(Py::isSpace);
            case "isdigit" -> !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
            case "isalpha" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
            case "isalnum" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
            case "isupper" -> s.codePoints().anyMatch(PyStr::isCased)
                && s.codePoints().noneMatch(c -> Character.isLowerCase(c) || Character.isTitleCase(c));
            case "islower" -> s.codePoints().anyMatch(PyStr::isCased)
                && s.codePoints().noneMatch(c -> Character.isUpperCase(c) || Character.isTitleCase(c));
            default -> throw new MethodNotFoundException("'str' object has no attribute '" + method + "'");
        };
    }

    /** str.format with {@code {}}, {@code {0}}, {@code {name}}, {@code {x!r}} and {@code {{ }}}; no format specs. */
    private static String format(String s, List<Object> args, Map<String, Object> kwargs) {
        StringBuilder out = new StringBuilder();
        int auto = 0;
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if ((c == '{' || c == '}') && i + 1 < s.length() && s.charAt(i + 1) == c) {
                out.append(c);
                i += 2;
                continue;
            }
            if (c == '}') {
                throw new ELException("Single '}' encountered in format string");
            }
            if (c != '{') {
                out.append(c);
                i++;
                continue;
            }
            int close = s.indexOf('}', i);
            if (close < 0) {
                throw new ELException("Single '{' encountered in format string");
            }
            String field = s.substring(i + 1, close);
            i = close + 1;
            boolean repr = field.endsWith("!r");
            if (repr || field.endsWith("!s")) {
                field = field.substring(0, field.length() - 2);
            }
            if (field.contains(":") || field.contains("!") || field.contains(".") || field.contains("[")) {
                throw new ELException("str.format: only {}, {0} and {name} fields are supported, not {"
                    + field + "}");
            }
            Object value;
            if (field.isEmpty() || field.chars().allMatch(Character::isDigit)) {
                int index = field.isEmpty() ? auto++ : Integer.parseInt(field);
                if (index >= args.size()) {
                    throw new ELException("Replacement index " + index + " out of range for positional args tuple");
                }
                value = args.get(index);
            } else {
                if (!kwargs.containsKey(field)) {
                    throw new ELException("KeyError: '" + field + "'");
                }
                value = kwargs.get(field);
            }
            out.append(repr ? Py.repr(value) : value == null ? "None" : Py.str(value));
            Py.bounded(out);
        }
        return out.toString();
    }

    private static Object arg(List<Object> args, Map<String, Object> kwargs, int i, String name) {
        return i < args.size() ? args.get(i) : kwargs.get(name);
    }

    private static String string(Object o) {
        if (o instanceof CharSequence c) {
            return c.toString();
        }
        throw new ELException("expected a string argument, got " + Py.typeName(o));
    }

    private static String optString(Object o) {
        return o == null ? null : string(o);
    }

    private static long integer(Object o) {
        if (o instanceof Number n) {
            return n.longValue();
        }
        throw new ELException("expected an integer argument, got " + Py.typeName(o));
    }

    private static long maxsplit(Object o) {
        return o == null ? -1 : integer(o);
    }

    /** strip's argument: null → whitespace. */
    private static int[] chars(Object o) {
        return o == null ? null : string(o).codePoints().toArray();
    }

    private static boolean isCased(int c) {
        return Character.isUpperCase(c) || Character.isLowerCase(c) || Character.isTitleCase(c);
    }

    private static boolean affix(String s, Object affix, List<Object> args, boolean prefix) {
        String target = s;
        if (args.size() > 1) {
            int[] cps = s.codePoints().toArray();
            Long from = args.get(1) == null ? null : integer(args.get(1));
            Long to = args.size() > 2 && args.get(2) != null ? integer(args.get(2)) : null;
            int[] idx = Py.sliceIndices(cps.length, from, to, null);
            target = idx.length == 0 ? "" : new String(cps, idx[0], idx.length);
        }
        Collection<?> options = affix instanceof Collection<?> c ? c : List.of(string(affix));
        for (Object o : options) {
            String a = string(o);
            if (prefix ? target.startsWith(a) : target.endsWith(a)) {
                return true;
            }
        }
        return false;
    }

    static String strip(String s, int[] chars, boolean left, boolean right) {
        int begin = 0;
        int end = s.length();
        while (left && begin < end && stripped(s.codePointAt(begin), chars)) {
            begin += Character.charCount(s.codePointAt(begin));
        }
        while (right && end > begin && stripped(s.codePointBefore(end), chars)) {
            end -= Character.charCount(s.codePointBefore(end));
        }
        return s.substring(begin, end);
    }

    private static boolean stripped(int c, int[] chars) {
        if (chars == null) {
            return Py.isSpace(c);
        }
        for (int x : chars) {
            if (x == c) {
                return true;
            }
        }
        return false;
    }

    static PyList split(String s, String sep, long maxsplit) {
        List<Object> out = new ArrayList<>();
        if (sep == null) {
            int i = 0;
            int n = s.length();
            while (true) {
                while (i < n && Py.isSpace(s.codePointAt(i))) {
                    i += Character.charCount(s.codePointAt(i));
                }
                if (i >= n) {
                    break;
                }
                if (maxsplit >= 0 && out.size() == maxsplit) {
                    out.add(strip(s.substring(i), null, false, true));
                    break;
                }
                int j = i;
                while (j < n && !Py.isSpace(s.codePointAt(j))) {
                    j += Character.charCount(s.codePointAt(j));
                }
                out.add(s.substring(i, j));
                i = j;
            }
            return new PyList(out);
        }
        if (sep.isEmpty()) {
            throw new ELException("empty separator");
        }
        int from = 0;
        int at;
        while ((maxsplit < 0 || out.size() < maxsplit) && (at = s.indexOf(sep, from)) >= 0) {
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
        out.add(s.substring(from));
        return new PyList(out);
    }

    static PyList rsplit(String s, String sep, long maxsplit) {
        if (maxsplit < 0) {
            return split(s, sep, -1);
        }
        List<Object> out = new ArrayList<>();
        if (sep == null) {
            int j = s.length();
            while (true) {
                while (j > 0 && Py.isSpace(s.codePointBefore(j))) {
                    j -= Character.charCount(s.codePointBefore(j));
                }
                if (j <= 0) {
                    break;
                }
                if (out.size() == maxsplit) {
                    out.add(0, strip(s.substring(0, j), null, true, false));
                    break;
                }
                int i = j;
                while (i > 0 && !Py.isSpace(s.codePointBefore(i))) {
                    i -= Character.charCount(s.codePointBefore(i));
                }
                out.add(0, s.substring(i, j));
                j = i;
            }
            return new PyList(out);
        }
        if (sep.isEmpty()) {
            throw new ELException("empty separator");
        }
        int end = s.length();
        int at;
        while (out.size() < maxsplit && (at = s.lastIndexOf(sep, end - sep.length())) >= 0) {
            out.add(0, s.substring(at + sep.length(), end));
            end = at;
        }
        out.add(0, s.substring(0, end));
        return new PyList(out);
    }

    static PyList splitlines(String s, boolean keepends) {
        List<Object> out = new ArrayList<>();
        int i = 0;
        int start = 0;
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            int eol = switch (c) {
                case '\n', '\u000b', '\u000c', '\u001c', '\u001d', '\u001e', '\u0085', '\u2028', '\u2029' -> 1;
                case '\r' -> i + 1 < n && s.charAt(i + 1) == '\n' ? 2 : 1;
                default -> 0;
            };
            if (eol == 0) {
                i++;
                continue;
            }
            out.add(s.substring(start, keepends ? i + eol : i));
            i += eol;
            start = i;
        }
        if (start < n) {
            out.add(s.substring(start));
        }
        return new PyList(out);
    }

    static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean previousCased = false;
        for (int c : s.codePoints().toArray()) {
            out.appendCodePoint(previousCased ? Character.toLowerCase(c) : Character.toTitleCase(c));
            previousCased = isCased(c);
        }
        return out.toString();
    }

    static String replace(String s, String old, String replacement, long count) {
        long occurrences = Math.min(count < 0 ? Long.MAX_VALUE : count, count(s, old));
        if (s.length() + occurrences * Math.max(0, replacement.length() - old.length()) > MAX_OUTPUT_CHARS) {
            throw new ELException("string too long");
        }
        if (count < 0) {
            return s.replace(old, replacement);
        }
        StringBuilder out = new StringBuilder();
        if (old.isEmpty()) {
            int[] cps = s.codePoints().toArray();
            long done = 0;
            for (int i = 0; i <= cps.length; i++) {
                if (done < count) {
                    out.append(replacement);
                    done++;
                }
                if (i < cps.length) {
                    out.appendCodePoint(cps[i]);
                }
            }
            return out.toString();
        }
        int from = 0;
        int at;
        long done = 0;
        while (done < count && (at = s.indexOf(old, from)) >= 0) {
            out.append(s, from, at).append(replacement);
            from = at + old.length();
            done++;
        }
        return out.append(s.substring(from)).toString();
    }

    /** find/rfind(sub[, start[, end]]): Python's, indices in code points. */
    private static long find(String s, List<Object> args, boolean last) {
        String sub = string(args.isEmpty() ? null : args.get(0));
        int[] cps = s.codePoints().toArray();
        int n = cps.length;
        long from = args.size() > 1 && args.get(1) != null ? integer(args.get(1)) : 0;
        long to = args.size() > 2 && args.get(2) != null ? integer(args.get(2)) : n;
        from = from < 0 ? Math.max(0, from + n) : from;
        to = Math.min(n, to < 0 ? Math.max(0, to + n) : to);
        if (from > n || from > to) {
            return -1;
        }
        String window = new String(cps, (int) from, (int) (to - from));
        int at = last ? window.lastIndexOf(sub) : window.indexOf(sub);
        return at < 0 ? -1 : from + window.codePointCount(0, at);
    }

    private static long count(String s, String sub) {
        if (sub.isEmpty()) {
            return s.codePointCount(0, s.length()) + 1L;
        }
        long n = 0;
        int from = 0;
        int at;
        while ((at = s.indexOf(sub, from)) >= 0) {
            n++;
            from = at + sub.length();
        }
        return n;
    }

    private static String join(String sep, Object iterable) {
        StringBuilder out = new StringBuilder();
        boolean first = true;
        for (Object o : Py.iterate(iterable)) {
            if (!first) {
                out.append(sep);
            }
            first = false;
            if (!(o instanceof CharSequence)) {
                throw new ELException("sequence item: expected str instance, " + Py.typeName(o) + " found");
            }
            out.append(o);
            if (out.length() > MAX_OUTPUT_CHARS) {
                throw new ELException("string too long");
            }
        }
        return out.toString();
    }
}
