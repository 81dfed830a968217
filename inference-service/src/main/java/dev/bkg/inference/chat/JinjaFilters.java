package dev.bkg.inference.chat;

import static dev.bkg.inference.chat.ChatTemplate.MAX_COLLECTION_SIZE;
import static dev.bkg.inference.chat.ChatTemplate.MAX_OUTPUT_CHARS;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.objects.SafeString;
import com.hubspot.jinjava.objects.collections.PyList;

/**
 * Filters of {@link ChatTemplate} where Jinjava's differ from Jinja's (or from transformers' tojson), or
 * where Jinja has one and Jinjava does not. Each says what it changes.
 */
final class JinjaFilters {

    private JinjaFilters() {
    }

    /** Registers the filters below over Jinjava's (some wrap Jinjava's own). */
    static void register(Context globals) {
        globals.registerFilter(new ToJsonFilter());
        globals.registerFilter(new TrimFilter());
        globals.registerFilter(new StringFilter());
        globals.registerFilter(new IndentFilter());
        globals.registerFilter(new ItemsFilter());
        for (String name : List.of("length", "count", "reverse", "list", "first", "last")) {
            globals.registerFilter(new SequenceFilter(name, globals.getFilter(name)));
        }
        globals.registerFilter(new MapFilter(globals.getFilter("map")));
        globals.registerFilter(new SortFilter());
        globals.registerFilter(new SumFilter());
        globals.registerFilter(new RoundFilter());
        globals.registerFilter(new MinMaxFilter("max"));
        globals.registerFilter(new MinMaxFilter("min"));
        globals.registerFilter(new FormatFilter());
        globals.registerFilter(new JoinFilter());
        globals.registerFilter(new PprintFilter());
        for (String name : List.of("center", "slice", "batch", "wordwrap", "truncate")) {
            globals.registerFilter(new SizeGuardFilter(globals.getFilter(name)));
        }
    }

    /**
     * transformers' tojson, {@code json.dumps(x, ensure_ascii=False, indent=None, separators=None,
     * sort_keys=False)}: ", " and ": " separators, keys in order, no HTML escaping (Jinjava's was compact).
     */
    static final class ToJsonFilter implements Filter {

        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object ensureAscii = args.length > 0 ? args[0] : kwargs.get("ensure_ascii");
            Object indent = args.length > 1 ? args[1] : kwargs.get("indent");
            Object separators = args.length > 2 ? args[2] : kwargs.get("separators");
            Object sortKeys = args.length > 3 ? args[3] : kwargs.get("sort_keys");
            String indentText = null;
            if (indent instanceof Number n) {
                indentText = " ".repeat((int) Math.max(0, Math.min(n.longValue(), 64)));
            } else if (indent instanceof CharSequence c) {
                indentText = c.toString();
            }
            String itemSep = indentText == null ? ", " : ",";
            String keySep = ": ";
            if (separators instanceof List<?> seps && seps.size() == 2) {
                itemSep = String.valueOf(seps.get(0));
                keySep = String.valueOf(seps.get(1));
            }
            StringBuilder out = new StringBuilder();
            Py.json(var, out, Py.truthy(ensureAscii), indentText, itemSep, keySep, Py.truthy(sortKeys), 0);
            return out.toString();
        }
    }

    /** Jinja's trim: {@code str.strip(chars)} (Jinjava's also strips control characters). */
    static final class TrimFilter implements Filter {

        @Override
        public String getName() {
            return "trim";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            int[] chars = args.length > 0 && args[0] != null ? args[0].codePoints().toArray() : null;
            return PyStr.strip(Py.str(var), chars, true, true);
        }
    }

    /** Jinja's string: Python's {@code str()} (True, ['a', None], {'k': 1}); Jinjava wrote true, null, …. */
    static final class StringFilter implements Filter {

        @Override
        public String getName() {
            return "string";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return Py.str(var);
        }
    }

    /** Jinja 3's {@code indent(width=4, first=False, blank=False)} (Jinjava has Jinja 2's indentfirst). */
    static final class IndentFilter implements Filter {

        @Override
        public String getName() {
            return "indent";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object width = args.length > 0 ? args[0] : kwargs.getOrDefault("width", 4L);
            boolean first = Py.truthy(args.length > 1 ? args[1] : kwargs.get("first"));
            boolean blank = Py.truthy(args.length > 2 ? args[2] : kwargs.get("blank"));
            String indention;
            if (width instanceof CharSequence c) {
                indention = c.toString();
            } else if (width instanceof Number n && n.longValue() <= 1024) {
                indention = " ".repeat((int) Math.max(0, n.longValue()));
            } else {
                throw new IllegalArgumentException("indent width must be a string or an integer up to 1024");
            }
            String s = Py.str(var) + "\n";
            List<Object> lines = PyStr.splitlines(s, false);
            StringBuilder rv = new StringBuilder();
            if (blank) {
                for (int i = 0; i < lines.size(); i++) {
                    rv.append(i == 0 ? "" : "\n" + indention).append(lines.get(i));
                }
            } else {
                rv.append(lines.isEmpty() ? "" : lines.get(0));
                for (int i = 1; i < lines.size(); i++) {
                    String line = (String) lines.get(i);
                    rv.append('\n').append(line.isEmpty() ? line : indention + line);
                }
            }
            if (rv.length() > MAX_OUTPUT_CHARS) {
                throw new IllegalArgumentException("indented text too long");
            }
            return first ? indention + rv : rv.toString();
        }
    }

    /**
     * Jinja's length, count, reverse, list, first and last on strings work on characters (code points: a
     * surrogate pair is one), and list of a dict is its keys; other values go to Jinjava's filter.
     */
    static final class SequenceFilter implements Filter {

        private final String name;
        private final Filter jinjava;

        SequenceFilter(String name, Filter jinjava) {
            this.name = name;
            this.jinjava = jinjava;
        }

        @Override
        public String getName() {
            return name;
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            if (var instanceof CharSequence || var instanceof SafeString) {
                int[] cps = var.toString().codePoints().toArray();
                return switch (name) {
                    case "length", "count" -> (long) cps.length;
                    case "reverse" -> {
                        StringBuilder b = new StringBuilder();
                        for (int i = cps.length - 1; i >= 0; i--) {
                            b.appendCodePoint(cps[i]);
                        }
                        yield b.toString();
                    }
                    case "list" -> {
                        List<Object> chars = new ArrayList<>();
                        Py.iterate(var.toString()).forEach(chars::add);
                        yield new PyList(chars);
                    }
                    case "first" -> cps.length == 0 ? null : new String(cps, 0, 1);
                    default -> cps.length == 0 ? null : new String(cps, cps.length - 1, 1); // last
                };
            }
            if (name.equals("list") && (var instanceof Map || var == null)) {
                return new PyList(var == null ? new ArrayList<>() : new ArrayList<>(((Map<?, ?>) var).keySet()));
            }
            return jinjava.filter(var, interpreter, args, kwargs);
        }
    }

    /** Jinja's {@code map(attribute='a.b', default=…)}: Jinjava knew no dotted path and no default. */
    static final class MapFilter implements Filter {

        private final Filter jinjava;

        MapFilter(Filter jinjava) {
            this.jinjava = jinjava;
        }

        @Override
        public String getName() {
            return "map";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return jinjava.filter(var, interpreter, args);
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            if (!kwargs.containsKey("attribute")) {
                return jinjava.filter(var, interpreter, args, kwargs);
            }
            List<Object> out = new ArrayList<>();
            for (Object item : Py.iterate(var)) {
                Object v = Py.attribute(item, kwargs.get("attribute"));
                out.add(v == null ? kwargs.get("default") : v);
            }
            return new PyList(out);
        }
    }

    /** Jinja's {@code sort(reverse=False, case_sensitive=False, attribute=None)}; Jinjava's ignored keywords. */
    static final class SortFilter implements Filter {

        @Override
        public String getName() {
            return "sort";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            boolean reverse = Py.truthy(args.length > 0 ? args[0] : kwargs.get("reverse"));
            boolean caseSensitive = Py.truthy(args.length > 1 ? args[1] : kwargs.get("case_sensitive"));
            Object attribute = args.length > 2 ? args[2] : kwargs.get("attribute");
            List<Object> items = new ArrayList<>();
            Py.iterate(var).forEach(items::add);
            Comparator<Object> order = Comparator.comparing(
                item -> Py.sortKey(Py.attribute(item, attribute), caseSensitive), MinMaxFilter::compare);
            items.sort(reverse ? order.reversed() : order);
            return new PyList(items);
        }
    }

    /** Jinja's {@code sum(attribute=None, start=0)}: integers stay integers (Jinjava summed to a float). */
    static final class SumFilter implements Filter {

        @Override
        public String getName() {
            return "sum";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object attribute = args.length > 0 ? args[0] : kwargs.get("attribute");
            Object start = args.length > 1 ? args[1] : kwargs.getOrDefault("start", 0L);
            boolean integral = Py.isInt(start);
            long whole = integral ? ((Number) start).longValue() : 0;
            double real = integral ? 0 : ((Number) start).doubleValue();
            for (Object item : Py.iterate(var)) {
                Object v = Py.attribute(item, attribute);
                if (v instanceof Boolean b) {
                    v = b ? 1L : 0L;
                }
                if (!(v instanceof Number n)) {
                    throw new IllegalArgumentException("sum: unsupported operand type " + Py.typeName(v));
                }
                if (integral && Py.isInt(n)) {
                    whole = Math.addExact(whole, n.longValue());
                } else {
                    if (integral) {
                        real = whole;
                        integral = false;
                    }
                    real += n.doubleValue();
                }
            }
            return integral ? (Object) whole : (Object) real;
        }
    }

    /** Jinja's {@code round(precision=0, method='common')}: 'common' is Python's round (half to even). */
    static final class RoundFilter implements Filter {

        @Override
        public String getName() {
            return "round";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object precision = args.length > 0 ? args[0] : kwargs.getOrDefault("precision", 0L);
            String method = String.valueOf(args.length > 1 ? args[1] : kwargs.getOrDefault("method", "common"));
            if (!(var instanceof Number n) || !Py.isInt(precision)) {
                throw new IllegalArgumentException("round: a number and an integer precision are required");
            }
            RoundingMode mode = switch (method) {
                case "common" -> RoundingMode.HALF_EVEN; // exact binary value, as Python's round
                case "ceil" -> RoundingMode.CEILING;
                case "floor" -> RoundingMode.FLOOR;
                default -> throw new IllegalArgumentException("method must be common, ceil or floor");
            };
            double d = n.doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                return d;
            }
            int digits = (int) Math.max(-308, Math.min(308, ((Number) precision).longValue()));
            return new BigDecimal(d).setScale(digits, mode).doubleValue();
        }
    }

    /** Jinja's {@code max} / {@code min}(case_sensitive=False, attribute=None); undefined when empty. */
    static final class MinMaxFilter implements Filter {

        private final String name;

        MinMaxFilter(String name) {
            this.name = name;
        }

        @Override
        public String getName() {
            return name;
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            boolean caseSensitive = Py.truthy(args.length > 0 ? args[0] : kwargs.get("case_sensitive"));
            Object attribute = args.length > 1 ? args[1] : kwargs.get("attribute");
            Object best = null;
            Object bestKey = null;
            for (Object item : Py.iterate(var)) {
                Object key = Py.sortKey(Py.attribute(item, attribute), caseSensitive);
                if (best == null || compare(key, bestKey) * (name.equals("max") ? 1 : -1) > 0) {
                    best = item;
                    bestKey = key;
                }
            }
            return best;
        }

        static int compare(Object a, Object b) {
            if (a instanceof Number x && b instanceof Number y) {
                return Double.compare(x.doubleValue(), y.doubleValue());
            }
            if (a instanceof CharSequence x && b instanceof CharSequence y) {
                return x.toString().compareTo(y.toString());
            }
            throw new IllegalArgumentException("cannot compare " + Py.typeName(a) + " with " + Py.typeName(b));
        }
    }

    /** Jinja's {@code format}: {@code value % args} as Python's (Jinjava's was Java's String.format). */
    static final class FormatFilter implements Filter {

        @Override
        public String getName() {
            return "format";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            if (!kwargs.isEmpty() && args.length > 0) {
                throw new IllegalArgumentException("format: positional or keyword arguments, not both");
            }
            return Py.percentFormat(Py.str(var), kwargs.isEmpty() ? new ArrayList<>(Arrays.asList(args)) : kwargs);
        }
    }

    /**
     * Jinja's {@code join(d='', attribute=None)}: items as Python's str() (True, 1.5; Jinjava wrote true) and
     * an error past the output cap (Jinjava cut the text short with a warning).
     */
    static final class JoinFilter implements Filter {

        @Override
        public String getName() {
            return "join";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            String separator = Py.str(args.length > 0 ? args[0] : kwargs.getOrDefault("d", ""));
            Object attribute = args.length > 1 ? args[1] : kwargs.get("attribute");
            StringBuilder out = new StringBuilder();
            boolean first = true;
            for (Object item : Py.iterate(var)) {
                out.append(first ? "" : separator).append(Py.str(Py.attribute(item, attribute)));
                first = false;
                Py.bounded(out);
            }
            return out.toString();
        }
    }

    /** Jinja's {@code pprint}, as repr() (Python's pformat also wraps past 80 columns); within the cap. */
    static final class PprintFilter implements Filter {

        @Override
        public String getName() {
            return "pprint";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return Py.repr(var);
        }
    }

    /** Jinja 3.1's {@code items}: a dict's (key, value) pairs. */
    static final class ItemsFilter implements Filter {

        @Override
        public String getName() {
            return "items";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            List<Object> out = new ArrayList<>();
            if (var instanceof Map<?, ?> map) {
                map.forEach((k, v) -> out.add(new PyList(new ArrayList<>(Arrays.asList(k, v)))));
            } else if (var != null) {
                throw new IllegalArgumentException("items: can only get item pairs from a mapping");
            }
            return new PyList(out);
        }
    }

    /**
     * Jinjava's center, slice, batch, wordwrap and truncate size their output or allocation from an
     * argument: numbers beyond the collection cap are refused before they allocate.
     */
    static final class SizeGuardFilter implements Filter {

        private static final Pattern HUGE_WIDTH = Pattern.compile("\\d{7,}");
        private final Filter delegate;

        SizeGuardFilter(Filter delegate) {
            this.delegate = delegate;
        }

        @Override
        public String getName() {
            return delegate.getName();
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            List<Object> all = new ArrayList<>(Arrays.asList(args));
            all.addAll(kwargs.values());
            for (Object a : all) {
                if (a instanceof Number n && Math.abs(n.doubleValue()) > MAX_COLLECTION_SIZE) {
                    throw new IllegalArgumentException(getName() + ": argument too large: " + a);
                }
                if (a instanceof CharSequence c && HUGE_WIDTH.matcher(c).find()) {
                    throw new IllegalArgumentException(getName() + ": argument too large: " + a);
                }
            }
            return delegate.filter(var, interpreter, args, kwargs);
        }
    }
}
