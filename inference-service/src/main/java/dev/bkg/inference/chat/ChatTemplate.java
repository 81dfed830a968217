package dev.bkg.inference.chat;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.interpret.CollectionTooBigException;
import com.hubspot.jinjava.interpret.OutputTooBigException;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;

import jinjava.de.odysseus.el.tree.TreeBuilderException;
import jinjava.javax.el.ELException;

/**
 * Renders a Hugging Face chat template (the Jinja {@code chat_template} of a model's
 * {@code tokenizer_config.json}) as transformers' {@code apply_chat_template} does: Jinja with
 * {@code trim_blocks} and {@code lstrip_blocks} in an immutable sandbox, with {@code raise_exception},
 * {@code strftime_now} and transformers' own {@code tojson}.
 *
 * <p>The engine is Jinjava (HubSpot's Jinja for Java). What real templates need from Python's Jinja and
 * Jinjava lacks is bridged by adapters, not by rewriting templates: Python's {@code str} methods and the
 * sandbox's refusals ({@link JinjaEngine.PyResolver}, {@link PyStr}); slices with a step, keyword-argument
 * values, {@code not}, {@code and}, {@code ~}, {@code *} and {@code %} with Python's meaning, and Python's
 * string escapes ({@link JinjaEngine.PyParser}, {@link JinjaEngine.PyScanner}); Python's printing of
 * values ({@link Py}); the filters that differ ({@link JinjaFilters}). The one source rewrite is
 * {@link #separateClosingBraces}, for a tokenizer limit.
 *
 * <p>Templates come with downloaded models, so they are treated as hostile: output is capped, string and
 * collection sizes are bounded, rendering has a node budget and a deadline, nothing can be included or
 * imported, Java methods are out of reach, and message text is never re-interpreted as a template.
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
    /** Largest list or dict a template may build, and largest {@code range()} (Jinja's sandbox MAX_RANGE). */
    static final int MAX_COLLECTION_SIZE = 100_000;
    /** Template nodes rendered per call (a loop body counts once per iteration). */
    static final long DEFAULT_MAX_NODES = 1_000_000;
    static final Duration DEFAULT_MAX_RENDER_TIME = Duration.ofSeconds(2);

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Jinjava ENGINE = JinjaEngine.create();

    private final String template;
    private final String bosToken;
    private final String eosToken;
    private final long maxNodes;
    private final Duration maxRenderTime;

    private ChatTemplate(String template, String bosToken, String eosToken, long maxNodes, Duration maxRenderTime) {
        if (template == null || template.isBlank()) {
            throw new IllegalArgumentException("no chat template");
        }
        // As Jinja's lexer: newlines become "\n", one trailing newline is dropped (keep_trailing_newline=False).
        String source = template.replace("\r\n", "\n").replace('\r', '\n');
        source = source.endsWith("\n") ? source.substring(0, source.length() - 1) : source;
        this.template = separateClosingBraces(source);
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

    private static final Pattern RAW_START = Pattern.compile("\\{%[-+]?\\s*raw\\s*[-+]?%}");
    private static final Pattern RAW_END = Pattern.compile("\\{%[-+]?\\s*endraw\\s*[-+]?%}");

    /**
     * The one source rewrite. Jinjava's tokenizer ends a {@code {{ … }}} at the first {@code }}} even where
     * that closes a dict literal ({@code {{ {'a': {'b': 1}} | tojson }}}); Jinja's lexer balances braces. So
     * inside {@code {{ … }}}, outside string literals, a {@code }} closing a brace opened there is followed by
     * a space when the next character is {@code }}}. Comments, tags and raw blocks are left as they are.
     */
    static String separateClosingBraces(String t) {
        StringBuilder out = new StringBuilder(t.length());
        int i = 0;
        int n = t.length();
        while (i < n) {
            if (t.startsWith("{#", i)) {
                int end = t.indexOf("#}", i + 2);
                int stop = end < 0 ? n : end + 2;
                out.append(t, i, stop);
                i = stop;
            } else if (t.startsWith("{%", i)) {
                Matcher raw = RAW_START.matcher(t).region(i, n);
                int stop;
                if (raw.lookingAt()) {
                    Matcher end = RAW_END.matcher(t);
                    stop = end.find(raw.end()) ? end.end() : n;
                } else {
                    stop = skipQuoted(t, i + 2, "%}");
                }
                out.append(t, i, stop);
                i = stop;
            } else if (t.startsWith("{{", i)) {
                out.append("{{");
                int j = i + 2;
                int depth = 0;
                char quote = 0;
                while (j < n) {
                    char c = t.charAt(j);
                    out.append(c);
                    j++;
                    if (quote != 0) {
                        if (c == '\\' && j < n) {
                            out.append(t.charAt(j++));
                        } else if (c == quote) {
                            quote = 0;
                        }
                    } else if (c == '\'' || c == '"') {
                        quote = c;
                    } else if (c == '{') {
                        depth++;
                    } else if (c == '}' && depth > 0) {
                        depth--;
                        if (j < n && t.charAt(j) == '}') {
                            out.append(' '); // "}}" closing a dict: "} }"
                        }
                    } else if (c == '}' && j < n && t.charAt(j) == '}') {
                        out.append('}'); // the end of the expression
                        j++;
                        break;
                    }
                }
                i = j;
            } else {
                out.append(t.charAt(i++));
            }
        }
        return out.toString();
    }

    /** The index after {@code end}, found outside string literals, from {@code from}; the length if none. */
    private static int skipQuoted(String t, int from, String end) {
        char quote = 0;
        for (int j = from; j < t.length(); j++) {
            char c = t.charAt(j);
            if (quote != 0) {
                if (c == '\\') {
                    j++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (t.startsWith(end, j)) {
                return j + end.length();
            }
        }
        return t.length();
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

        JinjaEngine.RenderState state = new JinjaEngine.RenderState(maxNodes, maxRenderTime);
        JinjaEngine.RenderState outer = JinjaEngine.RenderState.CURRENT.get();
        JinjaEngine.RenderState.CURRENT.set(state);
        RenderResult result;
        try {
            result = ENGINE.renderForResult(template, bindings);
        } finally {
            if (outer == null) {
                JinjaEngine.RenderState.CURRENT.remove();
            } else {
                JinjaEngine.RenderState.CURRENT.set(outer);
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
                throw new IllegalArgumentException("chat template output exceeds " + MAX_OUTPUT_CHARS + " characters");
            }
        }
        for (TemplateError error : result.getErrors()) {
            if (isFailure(error)) {
                throw new IllegalArgumentException(describe(error));
            }
        }
        return result.getOutput();
    }

    /**
     * Jinjava keeps rendering past most problems and reports them as errors and warnings. Fatal errors, and
     * the warnings Python's Jinja raises for (an unclosed tag or comment, macro recursion, bad filter
     * arguments), fail the render. Warnings that are Jinja's lenient behaviour stay warnings: an unknown
     * property or an index out of range is undefined, rendered as nothing.
     */
    private static boolean isFailure(TemplateError error) {
        if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
            return true;
        }
        Throwable root = rootCause(error);
        if (root instanceof OutputTooBigException || root instanceof CollectionTooBigException) {
            return true; // Jinjava cuts some results short with a warning
        }
        return switch (error.getReason()) {
            case SYNTAX_ERROR, INVALID_ARGUMENT, INVALID_INPUT, DISABLED, OVER_LIMIT -> true;
            case EXCEPTION -> error.getItem() == TemplateError.ErrorItem.TAG;
            default -> false;
        };
    }

    private static Throwable rootCause(TemplateError error) {
        Throwable root = error.getException();
        while (root != null && root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root;
    }

    private static String describe(TemplateError error) {
        Throwable root = rootCause(error);
        if (root instanceof OutputTooBigException) {
            return "chat template output exceeds " + MAX_OUTPUT_CHARS + " characters";
        }
        if (root instanceof CollectionTooBigException) {
            return "chat template builds a list or dict larger than " + MAX_COLLECTION_SIZE + " items";
        }
        String message;
        boolean ours = root instanceof IllegalArgumentException || root instanceof IOException
            || (root instanceof ELException && !(root instanceof TreeBuilderException));
        if (ours && root.getMessage() != null) {
            message = root.getMessage(); // ours: filters, str methods, the resource locator
        } else {
            message = error.getMessage() == null ? error.getReason().toString() : error.getMessage();
            // Jinjava appends the Java cause ("...\nOriginating Exception:\n..."): keep the first part.
            int cut = message.indexOf("\nOriginating Exception");
            if (cut > 0) {
                message = message.substring(0, cut);
            }
        }
        message = message.replace("\n", " ").strip();
        String where = error.getLineno() > 0 ? " at line " + error.getLineno() : "";
        return "chat template error" + where + ": " + message;
    }
}
