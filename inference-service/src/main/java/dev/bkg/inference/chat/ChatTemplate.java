package dev.bkg.inference.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.ExtendedSyntaxBuilder;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.el.JinjavaProcessors;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import com.hubspot.jinjava.el.ext.AdditionOperator;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import com.hubspot.jinjava.el.ext.NamedParameter;
import com.hubspot.jinjava.el.ext.NamedParameterOperator;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.InterpreterFactory;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.loader.ResourceNotFoundException;
import com.hubspot.jinjava.objects.SafeString;
import com.hubspot.jinjava.objects.collections.PyList;
import com.hubspot.jinjava.objects.date.StrftimeFormatter;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;
import com.hubspot.jinjava.util.LengthLimitingStringBuilder;
import java.beans.FeatureDescriptor;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;
import jinjava.de.odysseus.el.ExpressionFactoryImpl;
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
 * Renders a Hugging Face chat template (the Jinja {@code chat_template} of a model's
 * {@code tokenizer_config.json}) the way {@code transformers} does
 * ({@code ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)} with
 * {@code raise_exception}, {@code strftime_now} and its own {@code tojson}), using the Jinjava engine.
 *
 * <p>Jinjava is a Jinja dialect for Java; what real chat templates need and it lacks is bridged here,
 * without rewriting template source:
 *
 * <ul>
 *   <li>Python {@code str} methods ({@code startswith}, {@code split}, {@code strip('\n')}, …) — an
 *       {@link ELResolver} in front of Jinjava's own ({@link PyResolver}); it also indexes strings and
 *       refuses Java methods on strings and mutating methods on lists/dicts (as the immutable sandbox).
 *   <li>Slices with a step ({@code messages[::-1]}) and Python slice bounds — the expression parser is a
 *       subclass of Jinjava's ({@link PyParser}) that builds {@link AstSlice} nodes.
 *   <li>Keyword-argument values are whole expressions ({@code namespace(i=messages|length - 1)}); Jinjava
 *       binds {@code =} like {@code +}, so it parsed {@code (i=messages|length) - 1} — fixed in
 *       {@link PyParser#add}.
 *   <li>Filters whose Jinjava behaviour differs from Jinja/transformers: {@code tojson}
 *       (transformers' {@code json.dumps} form), {@code trim}, {@code string}, {@code indent}, {@code items}.
 * </ul>
 *
 * <p>Templates come with downloaded models, so they are treated as hostile: output is capped, string and
 * collection sizes are bounded, rendering has a node budget and a deadline, nothing can be included or
 * imported, and message text is never re-interpreted as a template.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class ChatTemplate {

  public record Message(String role, String content) {}

  /** Largest rendered prompt, in characters. */
  static final long MAX_OUTPUT_CHARS = 1L << 20;
  /** Nested renders ({@code |render}, macro → template) and macro recursion. */
  static final int MAX_RENDER_DEPTH = 10;
  static final int MAX_MACRO_RECURSION = 20;
  /** Largest list or dict a template may build; also the largest {@code range()} (Jinja's sandbox MAX_RANGE). */
  static final int MAX_COLLECTION_SIZE = 100_000;
  /** Template nodes rendered per call (a loop body counts once per iteration). */
  static final long DEFAULT_MAX_NODES = 1_000_000;
  static final Duration DEFAULT_MAX_RENDER_TIME = Duration.ofSeconds(5);

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Jinjava ENGINE = Engine.create();

  private final String template;
  private final String bosToken;
  private final String eosToken;
  private final long maxNodes;
  private final Duration maxRenderTime;

  private ChatTemplate(
    String template,
    String bosToken,
    String eosToken,
    long maxNodes,
    Duration maxRenderTime
  ) {
    if (template == null || template.isBlank()) {
      throw new IllegalArgumentException("no chat template");
    }
    this.template = template;
    this.bosToken = bosToken;
    this.eosToken = eosToken;
    this.maxNodes = maxNodes;
    this.maxRenderTime = maxRenderTime;
  }

  /**
   * From the parsed tokenizer_config.json: "chat_template" is a string, or a list of {"name","template"}
   * (take "default", else the first); bos_token / eos_token are strings or {"content": "..."} objects
   * (either may be missing/null). Throws IllegalArgumentException if there is no chat_template.
   */
  public static ChatTemplate fromTokenizerConfig(JsonNode tokenizerConfig) {
    if (tokenizerConfig == null || !tokenizerConfig.isObject()) {
      throw new IllegalArgumentException("tokenizer_config.json is not a JSON object");
    }
    JsonNode node = tokenizerConfig.get("chat_template");
    String template = null;
    if (node != null && node.isTextual()) {
      template = node.asText();
    } else if (node != null && node.isArray()) {
      JsonNode chosen = null;
      for (JsonNode entry : node) {
        if (chosen == null && entry.path("template").isTextual()) {
          chosen = entry;
        }
        if ("default".equals(entry.path("name").asText(null)) && entry.path("template").isTextual()) {
          chosen = entry;
          break;
        }
      }
      template = chosen == null ? null : chosen.get("template").asText();
    }
    if (template == null || template.isBlank()) {
      throw new IllegalArgumentException("tokenizer_config.json has no chat_template");
    }
    return of(template, token(tokenizerConfig.get("bos_token")), token(tokenizerConfig.get("eos_token")));
  }

  private static String token(JsonNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (node.isTextual()) {
      return node.asText();
    }
    JsonNode content = node.get("content");
    return content != null && content.isTextual() ? content.asText() : null;
  }

  public static ChatTemplate of(String template, String bosToken, String eosToken) {
    return new ChatTemplate(template, bosToken, eosToken, DEFAULT_MAX_NODES, DEFAULT_MAX_RENDER_TIME);
  }

  /** The same template with other work limits (tests). */
  ChatTemplate withLimits(long maxNodes, Duration maxRenderTime) {
    return new ChatTemplate(template, bosToken, eosToken, maxNodes, maxRenderTime);
  }

  public String bosToken() {
    return bosToken;
  }

  public String eosToken() {
    return eosToken;
  }

  /**
   * Renders messages; addGenerationPrompt true for a reply to come. extra: more variables (e.g.
   * enable_thinking=false; Jackson nodes are turned into plain values). A template that calls
   * raise_exception('…') or fails → IllegalArgumentException whose message is the template's message (or
   * Jinjava's error, readable).
   */
  public String render(List<Message> messages, boolean addGenerationPrompt, Map<String, Object> extra) {
    List<Object> msgs = new ArrayList<>(messages.size());
    for (Message m : messages) {
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("role", m.role());
      map.put("content", m.content());
      msgs.add(map);
    }
    // As transformers' apply_chat_template: messages, add_generation_prompt, the special tokens that are
    // set, then the caller's variables. Absent "tools" stays undefined (transformers passes None).
    Map<String, Object> bindings = new LinkedHashMap<>();
    bindings.put("messages", msgs);
    bindings.put("add_generation_prompt", addGenerationPrompt);
    if (bosToken != null) {
      bindings.put("bos_token", bosToken);
    }
    if (eosToken != null) {
      bindings.put("eos_token", eosToken);
    }
    if (extra != null) {
      extra.forEach((k, v) -> bindings.put(k, v instanceof JsonNode j ? JSON.convertValue(j, Object.class) : v));
    }

    RenderState state = new RenderState(maxNodes, maxRenderTime);
    RenderState outer = RenderState.CURRENT.get();
    RenderState.CURRENT.set(state);
    RenderResult result;
    try {
      result = ENGINE.renderForResult(template, bindings);
    } finally {
      if (outer == null) {
        RenderState.CURRENT.remove();
      } else {
        RenderState.CURRENT.set(outer);
      }
    }
    if (state.raised != null) {
      throw new IllegalArgumentException(state.raised);
    }
    if (state.aborted != null) {
      throw new IllegalArgumentException(state.aborted);
    }
    for (TemplateError error : result.getErrors()) {
      if (error.getReason() == TemplateError.ErrorReason.OUTPUT_TOO_BIG) {
        throw new IllegalArgumentException(
          "chat template output exceeds " + MAX_OUTPUT_CHARS + " characters"
        );
      }
    }
    for (TemplateError error : result.getErrors()) {
      if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
        throw new IllegalArgumentException(describe(error));
      }
    }
    return result.getOutput();
  }

  private static String describe(TemplateError error) {
    String message = error.getMessage() == null ? error.getReason().toString() : error.getMessage();
    // Jinjava appends the Java cause ("...\nOriginating Exception:\n..."): keep the first part.
    int cut = message.indexOf("\nOriginating Exception");
    if (cut > 0) {
      message = message.substring(0, cut);
    }
    message = message.replace("\n", " ").strip();
    return "chat template error" + (error.getLineno() > 0 ? " at line " + error.getLineno() : "") + ": " + message;
  }

  // ---------------------------------------------------------------------------------------------------
  // Per-render state: work limits and raise_exception, reached from the engine's static hooks.

  private static final class RenderState {

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

  // ---------------------------------------------------------------------------------------------------
  // The engine.

  private static final class Engine {

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
            .withUseNaturalOperatorPrecedence(true) // PyParser relies on this (filters bind above *, +)
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
        new ELFunctionDefinition("", "raise_exception", Engine.class, "raiseException", Object.class)
      );
      globals.registerFunction(
        new ELFunctionDefinition("", "strftime_now", Engine.class, "strftimeNow", String.class)
      );
      // Python's globals are variables too: Llama 3.x asks "{% if strftime_now is defined %}".
      globals.put("raise_exception", new PyFunction("raise_exception"));
      globals.put("strftime_now", new PyFunction("strftime_now"));
      globals.registerTag(new GenerationTag());
      globals.registerExpTest(new PyTypeTest("iterable"));
      globals.registerExpTest(new PyTypeTest("sequence"));
      globals.registerFilter(new ToJsonFilter());
      globals.registerFilter(new TrimFilter());
      globals.registerFilter(new StringFilter());
      globals.registerFilter(new IndentFilter());
      globals.registerFilter(new ItemsFilter());
      for (String name : List.of("center", "format", "slice", "batch", "wordwrap", "truncate")) {
        globals.registerFilter(new SizeGuardFilter(globals.getFilter(name)));
      }
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

    /** transformers: {@code datetime.now().strftime(format)}. */
    static String strftimeNow(String format) {
      JinjavaInterpreter interpreter = JinjavaInterpreter.getCurrent();
      ZoneId zone = interpreter == null ? ZoneId.systemDefault() : interpreter.getConfig().getTimeZone();
      return StrftimeFormatter.format(ZonedDateTime.now(zone), format, Locale.ENGLISH);
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
        || var instanceof Object[] || (var instanceof Iterable && (name.equals("iterable") || var instanceof Collection));
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
      LengthLimitingStringBuilder out = new LengthLimitingStringBuilder(interpreter.getConfig().getMaxOutputSize());
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
      if (object instanceof Boolean || object instanceof Number || object instanceof Map || object instanceof Collection) {
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
      this.expressions = new ExpressionFactoryImpl(new TreeStore(builder, new Cache(1000)), new TruthyTypeConverter());
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
  // Parser: Jinjava's, with Python's keyword arguments and slices.

  static final class PyParser extends ExtendedParser {

    PyParser(Builder context, String input) {
      super(context, input);
    }

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
            if (getToken().getSymbol() == Symbol.LPAREN && context.isEnabled(Builder.Feature.METHOD_INVOCATIONS)) {
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
              if (getToken().getSymbol() == Symbol.LPAREN && context.isEnabled(Builder.Feature.METHOD_INVOCATIONS)) {
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
        items.addAll(List.of(array));
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
      if (base instanceof String s) {
        context.setPropertyResolved(true);
        // JinjavaInterpreterResolver hands over s[i]'s index as a string
        Long index = property instanceof Number n && !(property instanceof Double || property instanceof Float)
          ? Long.valueOf(n.longValue())
          : property instanceof String p && INTEGER.matcher(p).matches() ? Long.valueOf(p) : null;
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
      if (base instanceof String s) {
        Object result = PyStr.call(s, name, params == null ? new Object[0] : params);
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
      return base instanceof String ? Object.class : null;
    }
  }

  /** Python's str methods (those chat templates use), with Python's semantics. */
  static final class PyStr {

    private PyStr() {}

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
        case "split" -> split(s, optString(arg(args, kwargs, 0, "sep")), maxsplit(arg(args, kwargs, 1, "maxsplit")));
        case "rsplit" -> rsplit(s, optString(arg(args, kwargs, 0, "sep")), maxsplit(arg(args, kwargs, 1, "maxsplit")));
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

    /** find/rfind(sub[, start[, end]]); the index counts code points, as Python's. */
    private static long find(String s, List<Object> args, boolean last) {
      String sub = string(args.isEmpty() ? null : args.get(0));
      int[] cps = s.codePoints().toArray();
      Long from = args.size() > 1 && args.get(1) != null ? integer(args.get(1)) : null;
      Long to = args.size() > 2 && args.get(2) != null ? integer(args.get(2)) : null;
      int[] idx = Py.sliceIndices(cps.length, from, to, null);
      int offset = idx.length == 0 ? Math.min(cps.length, (int) Math.max(0, from == null ? 0 : from < 0 ? from + cps.length : from)) : idx[0];
      String window = idx.length == 0 ? "" : new String(cps, idx[0], idx.length);
      if (idx.length == 0 && offset > cps.length) {
        return -1;
      }
      int at = last ? window.lastIndexOf(sub) : window.indexOf(sub);
      return at < 0 ? -1 : offset + window.codePointCount(0, at);
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

  // ---------------------------------------------------------------------------------------------------
  // Filters that differ from Jinja's / transformers'.

  /** transformers' tojson: {@code json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)}. */
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
      return PyStr.strip(Py.str(var), args.length > 0 && args[0] != null ? args[0].codePoints().toArray() : null, true, true);
    }
  }

  /** Jinja's string: Python's {@code str()} (None, True, ['a'], {'k': 1}); Jinjava wrote null, true, …. */
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
        map.forEach((k, v) -> out.add(new PyList(new ArrayList<>(java.util.Arrays.asList(k, v)))));
      } else if (var != null) {
        throw new IllegalArgumentException("items: can only get item pairs from a mapping");
      }
      return new PyList(out);
    }
  }

  /**
   * Jinjava's center, format, slice, batch, wordwrap and truncate size their output or allocation from an
   * argument: refuse numbers (or printf widths) larger than the output cap before they allocate.
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
      List<Object> all = new ArrayList<>(List.of(args));
      all.addAll(kwargs.values());
      for (Object a : all) {
        if (a instanceof Number n && Math.abs(n.doubleValue()) > MAX_COLLECTION_SIZE) {
          throw new IllegalArgumentException(getName() + ": argument too large: " + a);
        }
        if (a instanceof CharSequence c && HUGE_WIDTH.matcher(c).find()) {
          throw new IllegalArgumentException(getName() + ": argument too large: " + a);
        }
      }
      if (getName().equals("format") && var instanceof CharSequence c && HUGE_WIDTH.matcher(c).find()) {
        throw new IllegalArgumentException("format: width too large");
      }
      return delegate.filter(var, interpreter, args, kwargs);
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Python value semantics.

  static final class Py {

    private Py() {}

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
        return List.of(a);
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

    /** Python's str(). */
    static String str(Object o) {
      if (o instanceof CharSequence || o instanceof SafeString) {
        return o.toString();
      }
      return repr(o);
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
      if (o instanceof CharSequence || o instanceof SafeString) {
        return quote(o.toString());
      }
      if (o instanceof Map<?, ?> m) {
        StringBuilder b = new StringBuilder("{");
        boolean first = true;
        for (Map.Entry<?, ?> e : m.entrySet()) {
          b.append(first ? "" : ", ").append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
          first = false;
        }
        return b.append('}').toString();
      }
      if (o instanceof Iterable<?> || o instanceof Object[]) {
        StringBuilder b = new StringBuilder("[");
        boolean first = true;
        for (Object e : iterate(o)) {
          b.append(first ? "" : ", ").append(repr(e));
          first = false;
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
    static void json(
      Object o,
      StringBuilder out,
      boolean ensureAscii,
      String indent,
      String itemSep,
      String keySep,
      boolean sortKeys,
      int depth
    ) {
      if (depth > 100 || out.length() > MAX_OUTPUT_CHARS) {
        throw new IllegalArgumentException("tojson: value too deep or too large");
      }
      if (o == null) {
        out.append("null");
      } else if (o instanceof Boolean b) {
        out.append(b ? "true" : "false");
      } else if (o instanceof Double || o instanceof Float || o instanceof BigDecimal) {
        double d = ((Number) o).doubleValue();
        out.append(Double.isNaN(d) ? "NaN" : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity") : floatRepr(d));
      } else if (o instanceof Number) {
        out.append(o instanceof BigInteger ? o.toString() : Long.toString(((Number) o).longValue()));
      } else if (o instanceof CharSequence || o instanceof SafeString) {
        jsonString(o.toString(), out, ensureAscii);
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
}
