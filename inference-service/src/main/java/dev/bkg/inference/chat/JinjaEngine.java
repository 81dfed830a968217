package dev.bkg.inference.chat;

import static dev.bkg.inference.chat.ChatTemplate.MAX_COLLECTION_SIZE;
import static dev.bkg.inference.chat.ChatTemplate.MAX_MACRO_RECURSION;
import static dev.bkg.inference.chat.ChatTemplate.MAX_OUTPUT_CHARS;
import static dev.bkg.inference.chat.ChatTemplate.MAX_RENDER_DEPTH;

import java.beans.FeatureDescriptor;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.ExtendedSyntaxBuilder;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.el.JinjavaProcessors;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import com.hubspot.jinjava.el.ext.AdditionOperator;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import com.hubspot.jinjava.el.ext.ExtendedScanner;
import com.hubspot.jinjava.el.ext.NamedParameter;
import com.hubspot.jinjava.el.ext.NamedParameterOperator;
import com.hubspot.jinjava.el.ext.StringConcatOperator;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.InterpreterFactory;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.loader.ResourceNotFoundException;
import com.hubspot.jinjava.objects.SafeString;
import com.hubspot.jinjava.objects.collections.PyList;
import com.hubspot.jinjava.objects.date.StrftimeFormatter;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;
import com.hubspot.jinjava.util.LengthLimitingStringBuilder;

import jinjava.de.odysseus.el.ExpressionFactoryImpl;
import jinjava.de.odysseus.el.misc.NumberOperations;
import jinjava.de.odysseus.el.misc.TypeConverter;
import jinjava.de.odysseus.el.tree.Bindings;
import jinjava.de.odysseus.el.tree.TreeStore;
import jinjava.de.odysseus.el.tree.impl.Builder;
import jinjava.de.odysseus.el.tree.impl.Cache;
import jinjava.de.odysseus.el.tree.impl.Parser;
import jinjava.de.odysseus.el.tree.impl.Scanner;
import jinjava.de.odysseus.el.tree.impl.Scanner.Symbol;
import jinjava.de.odysseus.el.tree.impl.ast.AstBinary;
import jinjava.de.odysseus.el.tree.impl.ast.AstBracket;
import jinjava.de.odysseus.el.tree.impl.ast.AstDot;
import jinjava.de.odysseus.el.tree.impl.ast.AstIdentifier;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstRightValue;
import jinjava.de.odysseus.el.tree.impl.ast.AstUnary;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELException;
import jinjava.javax.el.ELResolver;
import jinjava.javax.el.ExpressionFactory;
import jinjava.javax.el.MethodNotFoundException;

/**
 * The Jinjava engine of {@link ChatTemplate}: configured as transformers' Jinja environment, with adapters
 * where Jinjava differs from Python's Jinja (each says what it bridges), and limits for hostile templates.
 */
final class JinjaEngine {

    private JinjaEngine() {
    }

    /** One engine serves every template and thread (Jinjava's global context is only read after this). */
    static Jinjava create() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PyResolver());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);

        BiConsumer<Node, JinjavaInterpreter> budget = (node, interpreter) -> {
            RenderState state = RenderState.CURRENT.get();
            if (state != null) {
                state.beforeNode();
            }
        };

        JinjavaConfig config = JinjavaConfig
            .newBuilder()
            .withLegacyOverrides(
                LegacyOverrides
                    .newBuilder()
                    .withUseNaturalOperatorPrecedence(true) // filters bind tighter than * and +; PyParser relies on it
                    .withParseWhitespaceControlStrictly(true)
                    .withUseTrimmingForNotesAndExpressions(true)
                    .withKeepNullableLoopValues(true)
                    .withUsePyishObjectMapper(true)
                    .withEvaluateMapKeys(true)
                    .withIterateOverMapKeys(true)
                    .build()
            )
            .withTrimBlocks(true)
            .withLstripBlocks(true)
            .withLocale(Locale.ENGLISH)
            .withTimeZone(ZoneId.systemDefault()) // strftime_now: Python's datetime.now() is local time
            .withMaxOutputSize(MAX_OUTPUT_CHARS)
            .withMaxStringLength(MAX_OUTPUT_CHARS)
            .withMaxRenderDepth(MAX_RENDER_DEPTH)
            .withEnableRecursiveMacroCalls(true)
            .withMaxMacroRecursionDepth(MAX_MACRO_RECURSION)
            .withMaxListSize(MAX_COLLECTION_SIZE)
            .withMaxMapSize(MAX_COLLECTION_SIZE)
            .withRangeLimit(MAX_COLLECTION_SIZE)
            // Jinjava would otherwise render "{{ ... }}" found inside message text as a template.
            .withNestedInterpretationEnabled(false)
            .withFailOnUnknownTokens(false)
            // serializers of whole collections without a size cap, and no part of Jinja's chat templates
            .withDisabled(Map.of(Context.Library.FILTER, Set.of("toyaml", "xmlattr", "urlize")))
            .withElResolver(resolver)
            .withInterperterFactory(new PyInterpreterFactory())
            .withProcessors(JinjavaProcessors.newBuilder().withNodePreProcessor(budget).build())
            .build();

        Jinjava jinjava = new PyJinjava(config);
        // {% include %}, {% import %}, {% extends %}, {% from %}: nothing to load (not the classpath).
        jinjava.setResourceLocator((name, encoding, interpreter) -> {
            throw new ResourceNotFoundException("templates cannot load other templates: " + name);
        });

        var globals = jinjava.getGlobalContext();
        globals.registerFunction(
            new ELFunctionDefinition("", "raise_exception", JinjaEngine.class, "raiseException", Object.class)
        );
        globals.registerFunction(
            new ELFunctionDefinition("", "strftime_now", JinjaEngine.class, "strftimeNow", String.class)
        );
        // Python's globals are variables too: Llama 3.x asks "{% if strftime_now is defined %}".
        globals.put("raise_exception", new PyFunction("raise_exception"));
        globals.put("strftime_now", new PyFunction("strftime_now"));
        globals.registerTag(new GenerationTag());
        globals.registerExpTest(new PyTypeTest("iterable"));
        globals.registerExpTest(new PyTypeTest("sequence"));
        globals.registerFunction(new ELFunctionDefinition("", "dict", JinjaEngine.class, "dict", Object[].class));
        JinjaFilters.register(globals);
        return jinjava;
    }

    /** transformers: {@code raise jinja2.exceptions.TemplateError(message)}. */
    static String raiseException(Object message) {
        String text = Py.str(message);
        RenderState state = RenderState.CURRENT.get();
        if (state != null && state.raised == null) {
            state.raised = text;
        }
        throw new Abort(text);
    }

    /** Jinja's {@code dict(a=1, b=2)}. */
    static Map<String, Object> dict(Object... args) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Object a : args) {
            if (a instanceof NamedParameter p) {
                out.put(p.getName(), p.getValue());
            } else if (a instanceof Map<?, ?> m) {
                m.forEach((k, v) -> out.put(String.valueOf(k), v));
            } else {
                throw new IllegalArgumentException("dict() takes keyword arguments");
            }
        }
        return out;
    }

    /** transformers: {@code datetime.now().strftime(format)}. */
    static String strftimeNow(String format) {
        JinjavaInterpreter interpreter = JinjavaInterpreter.getCurrent();
        ZoneId zone = interpreter == null ? ZoneId.systemDefault() : interpreter.getConfig().getTimeZone();
        return StrftimeFormatter.format(ZonedDateTime.now(zone), format, Locale.ENGLISH);
    }

    // ---------------------------------------------------------------------------------------------------
    // Per-render state: work limits and raise_exception, reached from the engine's static hooks.

    static final class RenderState {

        static final ThreadLocal<RenderState> CURRENT = new ThreadLocal<>();

        final long deadline;
        long nodesLeft;
        String raised;
        String aborted;

        RenderState(long maxNodes, Duration maxTime) {
            this.nodesLeft = maxNodes;
            this.deadline = System.nanoTime() + maxTime.toNanos();
        }

        /** Called before every node: once the template raised or ran out of work, every node fails fast. */
        void beforeNode() {
            if (raised != null || aborted != null) {
                throw new Abort(raised != null ? raised : aborted);
            }
            if (--nodesLeft < 0) {
                aborted = "chat template exceeds its work limit (too many loop iterations)";
            } else if ((nodesLeft & 0xff) == 0 && System.nanoTime() - deadline > 0) {
                aborted = "chat template exceeds its time limit";
            }
            if (aborted != null) {
                throw new Abort(aborted);
            }
        }
    }

    /** Stops a render; Jinjava turns it into an error (or unwinds), {@link RenderState} says why. */
    private static final class Abort extends RuntimeException {

        private static final long serialVersionUID = 1L;

        Abort(String message) {
            super(message, null, false, false);
        }
    }

    /** Python's {@code is iterable} / {@code is sequence}: strings and dicts are both (Jinjava: neither). */
    private record PyTypeTest(String name) implements ExpTest {
        @Override
        public String getName() {
            return name;
        }

        @Override
        public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
            return var instanceof CharSequence || var instanceof SafeString || var instanceof Map
                || var instanceof Object[]
                || (var instanceof Iterable && (name.equals("iterable") || var instanceof Collection));
        }
    }

    /** What a global function is as a variable (calls go to the registered function). */
    private record PyFunction(String name) {
        @Override
        public String toString() {
            return "<function " + name + ">";
        }
    }

    /**
     * transformers' {@code {% generation %}…{% endgeneration %}} (AssistantTracker) marks the assistant's
     * tokens for training masks; for a prompt it only renders its body.
     */
    private static final class GenerationTag implements Tag {

        private static final long serialVersionUID = 1L;

        @Override
        public String getName() {
            return "generation";
        }

        @Override
        public String getEndTagName() {
            return "endgeneration";
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            var out = new LengthLimitingStringBuilder(interpreter.getConfig().getMaxOutputSize());
            for (Node child : tagNode.getChildren()) {
                out.append(child.render(interpreter));
            }
            return out.toString();
        }
    }

    /** {@code {{ value }}} prints Python's str(value): True, False, 1e+20, ['a', None] (Jinjava: true, …). */
    private static final class PyInterpreter extends JinjavaInterpreter {

        PyInterpreter(Jinjava application, Context context, JinjavaConfig config) {
            super(application, context, config);
        }

        PyInterpreter(JinjavaInterpreter orig) {
            super(orig);
        }

        @Override
        public String getAsString(Object object) {
            if (object instanceof Boolean || object instanceof Number || object instanceof Map
                || object instanceof Collection || object instanceof Object[]) {
                return Py.str(object);
            }
            return super.getAsString(object);
        }
    }

    private static final class PyInterpreterFactory implements InterpreterFactory {

        @Override
        public JinjavaInterpreter newInstance(JinjavaInterpreter orig) {
            return new PyInterpreter(orig);
        }

        @Override
        public JinjavaInterpreter newInstance(Jinjava application, Context context, JinjavaConfig config) {
            return new PyInterpreter(application, context, config);
        }
    }

    /** Jinjava whose expressions are parsed by {@link PyParser}. */
    private static final class PyJinjava extends Jinjava {

        private final ExpressionFactory expressions;

        PyJinjava(JinjavaConfig config) {
            super(config);
            // The features Jinjava's own factory has (JUEL's JEE6 profile).
            Builder builder = new PySyntaxBuilder(Builder.Feature.METHOD_INVOCATIONS, Builder.Feature.VARARGS);
            this.expressions = new ExpressionFactoryImpl(new TreeStore(builder, new Cache(1000)),
                new TruthyTypeConverter());
        }

        @Override
        public ExpressionFactory getExpressionFactory() {
            return expressions;
        }
    }

    private static final class PySyntaxBuilder extends ExtendedSyntaxBuilder {

        private static final long serialVersionUID = 1L;

        PySyntaxBuilder(Feature... features) {
            super(features);
        }

        @Override
        protected Parser createParser(String expression) {
            return new PyParser(this, expression);
        }
    }

    // ---------------------------------------------------------------------------------------------------
    // Parser and scanner: Jinjava's, with Python's grammar where the two differ.

    static final class PyParser extends ExtendedParser {

        PyParser(Builder context, String input) {
            super(context, input);
            // {{ 'a' ~ x }}: Python's str() of x (True, 1.5, ['a']); Jinjava wrote true, …
            putExtensionHandler(StringConcatOperator.TOKEN, new ExtensionHandler(ExtensionPoint.ADD) {
                @Override
                public AstNode createAstNode(AstNode... children) {
                    return new AstBinary(children[0], children[1], PY_CONCAT);
                }
            });
        }

        @Override
        protected Scanner createScanner(String expression) {
            return new PyScanner(expression);
        }

        /**
         * As {@link ExtendedParser#mul} with natural operator precedence, with Python's {@code *} on strings and
         * lists ({@code '-' * 3}) and {@code %} formatting of strings ({@code '%s: %d' % (name, n)}).
         */
        @Override
        protected AstNode mul(boolean required) throws Scanner.ScanException, ParseException {
            AstNode v = filter(required);
            if (v == null) {
                return null;
            }
            while (true) {
                Scanner.Token token = getToken();
                switch (token.getSymbol()) {
                    case MUL:
                        consumeToken();
                        v = createAstBinary(v, filter(true), PY_MUL);
                        break;
                    case DIV:
                        consumeToken();
                        v = createAstBinary(v, filter(true), AstBinary.DIV);
                        break;
                    case MOD:
                        consumeToken();
                        v = createAstBinary(v, filter(true), PY_MOD);
                        break;
                    case EXTENSION:
                        if (getExtensionHandler(token).getExtensionPoint() == ExtensionPoint.MUL) {
                            v = getExtensionHandler(consumeToken()).createAstNode(v, filter(true));
                            break;
                        }
                        return v;
                    default:
                        return v;
                }
            }
        }

        private static final AstBinary.Operator PY_CONCAT = new AstBinary.SimpleOperator() {
            @Override
            protected Object apply(TypeConverter converter, Object o1, Object o2) {
                return Py.bounded(Py.str(o1) + Py.str(o2));
            }

            @Override
            public String toString() {
                return "~";
            }
        };

        private static final AstBinary.Operator PY_MUL = new AstBinary.SimpleOperator() {
            @Override
            protected Object apply(TypeConverter converter, Object o1, Object o2) {
                if (o2 instanceof CharSequence || o2 instanceof List) {
                    return apply(converter, o2, o1);
                }
                if ((o1 instanceof CharSequence || o1 instanceof List) && Py.isInt(o2)) {
                    long n = Math.max(0, ((Number) o2).longValue());
                    if (o1 instanceof CharSequence c) {
                        if (n * c.length() > MAX_OUTPUT_CHARS) {
                            throw new ELException("string too long");
                        }
                        return c.toString().repeat((int) n);
                    }
                    List<?> list = (List<?>) o1;
                    if (n * list.size() > MAX_COLLECTION_SIZE) {
                        throw new ELException("list too long");
                    }
                    List<Object> out = new ArrayList<>();
                    for (long i = 0; i < n; i++) {
                        out.addAll(list);
                    }
                    return new PyList(out);
                }
                return NumberOperations.mul(converter, o1, o2);
            }

            @Override
            public String toString() {
                return "*";
            }
        };

        private static final AstBinary.Operator PY_MOD = new AstBinary.SimpleOperator() {
            @Override
            protected Object apply(TypeConverter converter, Object o1, Object o2) {
                if (o1 instanceof CharSequence format) {
                    return Py.percentFormat(format.toString(), o2);
                }
                if (Py.isInt(o1) && Py.isInt(o2) && ((Number) o2).longValue() != 0) {
                    // Python's modulo takes the divisor's sign: -7 % 3 == 2
                    return Math.floorMod(((Number) o1).longValue(), ((Number) o2).longValue());
                }
                return NumberOperations.mod(converter, o1, o2);
            }

            @Override
            public String toString() {
                return "%";
            }
        };

        /**
         * Python's {@code not} binds looser than comparisons and tests: {@code not x is defined} is
         * {@code not (x is defined)}, {@code not a == b} is {@code not (a == b)}. Jinjava kept JUEL's unary
         * {@code not} ({@code (not x) is defined}); parsing it here, between {@code and} and {@code ==}, is
         * Python's grammar.
         */
        @Override
        protected AstNode eq(boolean required) throws Scanner.ScanException, ParseException {
            if (getToken().getSymbol() == Symbol.NOT) {
                consumeToken();
                return createAstUnary(eq(true), AstUnary.NOT);
            }
            return super.eq(required);
        }

        /** Python's {@code and} yields an operand ({@code 1 and 2} is 2), not a boolean as JUEL's. */
        @Override
        protected AstNode and(boolean required) throws Scanner.ScanException, ParseException {
            AstNode v = eq(required);
            if (v == null) {
                return null;
            }
            while (true) {
                Scanner.Token token = getToken();
                if (token.getSymbol() == Symbol.AND) {
                    consumeToken();
                    v = createAstBinary(v, eq(true), PY_AND);
                } else if (token.getSymbol() == Symbol.EXTENSION
                    && getExtensionHandler(token).getExtensionPoint() == ExtensionPoint.AND) {
                    v = getExtensionHandler(consumeToken()).createAstNode(v, eq(true));
                } else {
                    return v;
                }
            }
        }

        private static final AstBinary.Operator PY_AND = new AstBinary.Operator() {
            @Override
            public Object eval(Bindings bindings, ELContext context, AstNode left, AstNode right) {
                Object l = left.eval(bindings, context);
                return bindings.convert(l, Boolean.class) ? right.eval(bindings, context) : l;
            }

            @Override
            public String toString() {
                return "and";
            }
        };

        /**
         * As {@link ExtendedParser#add}, except that a keyword argument's value ({@code name=…}) is a whole
         * expression, as in Python: Jinjava treats {@code =} as an additive operator, so
         * {@code namespace(i=messages|length - 1)} became {@code (i=messages|length) - 1}.
         */
        @Override
        protected AstNode add(boolean required) throws Scanner.ScanException, ParseException {
            AstNode v = mul(required);
            if (v == null) {
                return null;
            }
            while (true) {
                Scanner.Token token = getToken();
                switch (token.getSymbol()) {
                    case PLUS:
                        consumeToken();
                        v = createAstBinary(v, mul(true), AdditionOperator.OP);
                        break;
                    case MINUS:
                        consumeToken();
                        v = createAstBinary(v, mul(true), AstBinary.SUB);
                        break;
                    case EXTENSION:
                        if (token == NamedParameterOperator.TOKEN) {
                            consumeToken();
                            return NamedParameterOperator.HANDLER.createAstNode(v, expr(true));
                        }
                        if (getExtensionHandler(token).getExtensionPoint() == ExtensionPoint.ADD) {
                            v = getExtensionHandler(consumeToken()).createAstNode(v, mul(true));
                            break;
                        }
                        return v;
                    default:
                        return v;
                }
            }
        }

        /**
         * As {@link ExtendedParser#value}, except that {@code [start:stop:step]} (every part optional) is a
         * Python slice ({@link AstSlice}); Jinjava only knew {@code [start:stop]}. Jinjava applies filters and
         * tests at this level unless natural operator precedence is on — it always is here, filters are
         * parsed one level up.
         */
        @Override
        protected AstNode value() throws Scanner.ScanException, ParseException {
            boolean lvalue = true;
            AstNode v = nonliteral();
            if (v == null) {
                v = literal();
                if (v == null) {
                    return null;
                }
                lvalue = false;
            }
            while (true) {
                switch (getToken().getSymbol()) {
                    case DOT: {
                        consumeToken();
                        String name = consumeToken(Symbol.IDENTIFIER).getImage();
                        AstDot dot = createAstDot(v, name, lvalue);
                        if (getToken().getSymbol() == Symbol.LPAREN && methodCalls()) {
                            v = createAstMethod(dot, params());
                        } else {
                            v = dot;
                        }
                        break;
                    }
                    case LBRACK: {
                        consumeToken();
                        AstNode first = getToken().getSymbol() == Symbol.COLON ? null : expr(true);
                        if (getToken().getSymbol() == Symbol.COLON) {
                            consumeToken();
                            AstNode stop = sliceEnds() ? null : expr(true);
                            AstNode step = null;
                            if (getToken().getSymbol() == Symbol.COLON) {
                                consumeToken();
                                step = sliceEnds() ? null : expr(true);
                            }
                            consumeToken(Symbol.RBRACK);
                            v = new AstSlice(v, first, stop, step);
                        } else {
                            consumeToken(Symbol.RBRACK);
                            boolean strict = !context.isEnabled(Builder.Feature.NULL_PROPERTIES);
                            AstBracket bracket = createAstBracket(v, first, lvalue, strict);
                            if (getToken().getSymbol() == Symbol.LPAREN && methodCalls()) {
                                v = createAstMethod(bracket, params());
                            } else {
                                v = bracket;
                            }
                        }
                        break;
                    }
                    default:
                        return v;
                }
            }
        }

        /**
         * Jinjava renders an unknown filter or test as nothing, silently; Jinja refuses the template ("No
         * filter named …"). Filters and tests are global, so they are checked when the expression is parsed.
         */
        @Override
        protected AstIdentifier createAstIdentifier(String name, int index) {
            JinjavaInterpreter interpreter = JinjavaInterpreter.getCurrent();
            if (interpreter != null && name.startsWith(FILTER_PREFIX)) {
                String filter = name.substring(FILTER_PREFIX.length());
                if (interpreter.getContext().getFilter(filter) == null) {
                    throw new ELException("No filter named '" + filter + "'");
                }
            }
            if (interpreter != null && name.startsWith(EXPTEST_PREFIX)) {
                String test = name.substring(EXPTEST_PREFIX.length());
                if (interpreter.getContext().getExpTest(test) == null) {
                    throw new ELException("No test named '" + test + "'");
                }
            }
            return super.createAstIdentifier(name, index);
        }

        private boolean methodCalls() {
            return context.isEnabled(Builder.Feature.METHOD_INVOCATIONS);
        }

        private boolean sliceEnds() {
            Symbol s = getToken().getSymbol();
            return s == Symbol.COLON || s == Symbol.RBRACK;
        }
    }

    /** {@code base[start:stop:step]} with Python's semantics, on lists (and other iterables) and strings. */
    static final class AstSlice extends AstRightValue {

        private final AstNode base;
        private final AstNode start;
        private final AstNode stop;
        private final AstNode step;

        AstSlice(AstNode base, AstNode start, AstNode stop, AstNode step) {
            this.base = base;
            this.start = start;
            this.stop = stop;
            this.step = step;
        }

        @Override
        public Object eval(Bindings bindings, ELContext context) {
            Object value = base.eval(bindings, context);
            if (value == null) {
                throw new ELException("cannot slice an undefined value: " + base);
            }
            Long from = bound(start, bindings, context);
            Long to = bound(stop, bindings, context);
            Long by = bound(step, bindings, context);
            if (value instanceof CharSequence s) {
                int[] cps = s.toString().codePoints().toArray();
                StringBuilder out = new StringBuilder();
                for (int i : Py.sliceIndices(cps.length, from, to, by)) {
                    out.appendCodePoint(cps[i]);
                }
                return out.toString();
            }
            List<Object> items = new ArrayList<>();
            if (value instanceof Iterable<?> iterable) {
                iterable.forEach(items::add);
            } else if (value instanceof Object[] array) {
                items.addAll(Arrays.asList(array));
            } else {
                throw new ELException("'" + Py.typeName(value) + "' object is not subscriptable");
            }
            List<Object> out = new ArrayList<>();
            for (int i : Py.sliceIndices(items.size(), from, to, by)) {
                out.add(items.get(i));
            }
            return new PyList(out);
        }

        private static Long bound(AstNode node, Bindings bindings, ELContext context) {
            if (node == null) {
                return null;
            }
            Object v = node.eval(bindings, context);
            if (v == null) {
                return null;
            }
            if (v instanceof Number n && !(v instanceof Double || v instanceof Float || v instanceof BigDecimal)) {
                return n.longValue();
            }
            throw new ELException("slice indices must be integers or None");
        }

        @Override
        public void appendStructure(StringBuilder b, Bindings bindings) {
            base.appendStructure(b, bindings);
            b.append('[');
            if (start != null) {
                start.appendStructure(b, bindings);
            }
            b.append(':');
            if (stop != null) {
                stop.appendStructure(b, bindings);
            }
            if (step != null) {
                b.append(':');
                step.appendStructure(b, bindings);
            }
            b.append(']');
        }

        @Override
        public String toString() {
            return "[::]";
        }

        @Override
        public int getCardinality() {
            return 4;
        }

        @Override
        public AstNode getChild(int i) {
            return switch (i) {
                case 0 -> base;
                case 1 -> start;
                case 2 -> stop;
                case 3 -> step;
                default -> null;
            };
        }
    }

    /** Jinjava's scanner, with Python's (Jinja's) string literal escapes. */
    static final class PyScanner extends ExtendedScanner {

        PyScanner(String input) {
            super(input);
        }

        /**
         * Jinjava knew \\ \' \" \n \t \b \f \r and refused the rest; Jinja unescapes a literal as Python's
         * unicode-escape codec: also \a \v, octal, \xhh, \\uXXXX, \UXXXXXXXX, \N{name}, a backslash-newline
         * joins lines, and an unknown escape ({@code \d}) stays as written.
         */
        @Override
        protected Scanner.Token nextString() throws Scanner.ScanException {
            builder.setLength(0);
            String in = getInput();
            int start = getPosition();
            char quote = in.charAt(start);
            int i = start + 1;
            int l = in.length();
            while (i < l) {
                char c = in.charAt(i++);
                if (c == quote) {
                    return token(Symbol.STRING, builder.toString(), i - start);
                }
                if (c != '\\') {
                    builder.append(c);
                    continue;
                }
                if (i == l) {
                    break;
                }
                char e = in.charAt(i++);
                switch (e) {
                    case '\n' -> { }
                    case '\\', '\'', '"' -> builder.append(e);
                    case 'a' -> builder.append('\u0007');
                    case 'b' -> builder.append('\b');
                    case 'f' -> builder.append('\f');
                    case 'n' -> builder.append('\n');
                    case 'r' -> builder.append('\r');
                    case 't' -> builder.append('\t');
                    case 'v' -> builder.append('\u000b');
                    case '0', '1', '2', '3', '4', '5', '6', '7' -> {
                        int end = i;
                        while (end < l && end < i + 2 && in.charAt(end) >= '0' && in.charAt(end) <= '7') {
                            end++;
                        }
                        builder.appendCodePoint(Integer.parseInt(in.substring(i - 1, end), 8));
                        i = end;
                    }
                    case 'x', 'u', 'U' -> {
                        int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                        if (i + digits > l || !in.substring(i, i + digits).matches("[0-9a-fA-F]+")) {
                            throw new Scanner.ScanException(start, "truncated \\" + e + " escape",
                                digits + " hex digits");
                        }
                        int cp = (int) Long.parseLong(in.substring(i, i + digits), 16);
                        if (!Character.isValidCodePoint(cp)) {
                            throw new Scanner.ScanException(start, "illegal Unicode character", "a code point");
                        }
                        builder.appendCodePoint(cp);
                        i += digits;
                    }
                    case 'N' -> {
                        int close = in.indexOf('}', i);
                        if (i >= l || in.charAt(i) != '{' || close < 0) {
                            throw new Scanner.ScanException(start, "malformed \\N character escape", "\\N{name}");
                        }
                        try {
                            builder.appendCodePoint(Character.codePointOf(in.substring(i + 1, close)));
                        } catch (IllegalArgumentException unknown) {
                            throw new Scanner.ScanException(start, "unknown Unicode character name",
                                "a Unicode name");
                        }
                        i = close + 1;
                    }
                    default -> builder.append('\\').append(e);
                }
            }
            throw new Scanner.ScanException(start, "unterminated string", quote + " or \\");
        }
    }

    // ---------------------------------------------------------------------------------------------------
    // Resolver: Python str methods; the immutable sandbox's refusals.

    /**
     * First in the resolver chain. On strings it answers Python's str methods and integer indexing, and
     * nothing else (no Java methods such as {@code repeat} or bean properties such as {@code bytes}). On
     * lists and dicts it lets through only Python's non-mutating methods, as the immutable sandbox that
     * transformers uses. Everything else goes on to Jinjava's resolvers.
     */
    static final class PyResolver extends ELResolver {

        private static final Set<String> LIST_METHODS = Set.of("index", "count");
        private static final Set<String> DICT_METHODS = Set.of("get", "items", "keys", "values");
        private static final Pattern INTEGER = Pattern.compile("-?\\d{1,9}");

        @Override
        public Object getValue(ELContext context, Object base, Object property) {
            if (base instanceof String || base instanceof SafeString) {
                String s = base.toString();
                context.setPropertyResolved(true);
                // JinjavaInterpreterResolver hands over s[i]'s index as a string
                Long index = null;
                if (property instanceof Number n && Py.isInt(n)) {
                    index = n.longValue();
                } else if (property instanceof String p && INTEGER.matcher(p).matches()) {
                    index = Long.valueOf(p);
                }
                if (index == null) {
                    return null;
                }
                int[] cps = s.codePoints().toArray();
                long i = index < 0 ? index + cps.length : index;
                return i >= 0 && i < cps.length ? new String(cps, (int) i, 1) : null;
            }
            return null;
        }

        @Override
        public Object invoke(ELContext context, Object base, Object method, Class<?>[] types, Object[] params) {
            if (method == null) {
                return null;
            }
            String name = method.toString();
            if (base instanceof String || base instanceof SafeString) {
                Object result = PyStr.call(base.toString(), name, params == null ? new Object[0] : params);
                context.setPropertyResolved(true);
                return result;
            }
            if (base instanceof Map && !DICT_METHODS.contains(name)) {
                throw new MethodNotFoundException("access to attribute '" + name + "' of 'dict' object is unsafe");
            }
            if (base instanceof List && !LIST_METHODS.contains(name)) {
                throw new MethodNotFoundException("access to attribute '" + name + "' of 'list' object is unsafe");
            }
            return null;
        }

        @Override
        public Class<?> getType(ELContext context, Object base, Object property) {
            return null;
        }

        @Override
        public void setValue(ELContext context, Object base, Object property, Object value) {}

        @Override
        public boolean isReadOnly(ELContext context, Object base, Object property) {
            return true;
        }

        @Override
        public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
            return null;
        }

        @Override
        public Class<?> getCommonPropertyType(ELContext context, Object base) {
            return base instanceof String || base instanceof SafeString ? Object.class : null;
        }
    }
}
