package dev.bkg.inference.chat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.bkg.inference.domain.ModelStore;
import dev.bkg.inference.domain.OrtRuntime;
import dev.bkg.inference.domain.Refusal;
import dev.bkg.proto.model.v1.Model;
import dev.bkg.proto.model.v1.ModelFile;

/**
 * One decoder-only language model in the Hugging Face Optimum / transformers.js layout: the ONNX
 * graph (input_ids, attention_mask, optional position_ids, past_key_values.{i}.key/value and the
 * merged decoder's use_cache_branch → logits, present.{i}.key/value), tokenizer.json, config.json,
 * and when present tokenizer_config.json (chat template, eos) and generation_config.json (eos and
 * sampling defaults). The cache's shape (layers, kv heads, head size) is read from the graph,
 * falling back to config.json where the graph leaves it symbolic.
 */
public final class ChatModel implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern PAST_KEY = Pattern.compile("past_key_values\\.(\\d+)\\.key");
    /** Used for a model whose tokenizer_config.json has no chat_template (base models): ChatML, as llama.cpp does. */
    static final String CHATML = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content']"
            + " + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /** Sampling defaults from generation_config.json (null: not given). */
    public record Defaults(Float temperature, Float topP, Integer topK, Float minP, Float repetitionPenalty) {
    }

    public final String id;
    public final String name;
    public final String architecture;
    public final int layers;
    public final int kvHeads;
    public final int headDim;
    public final int vocabSize;
    public final int contextLength;
    public final long weightBytes;
    public final Set<Long> eosIds;
    public final Defaults defaults;
    final OrtSession session;
    final HuggingFaceTokenizer tokenizer;
    final ChatTemplate template;
    final boolean takesPositionIds;
    final boolean takesUseCacheBranch;
    final OnnxJavaType cacheType;
    final int cacheElementBytes;

    private ChatModel(Model model, OrtSession session, HuggingFaceTokenizer tokenizer, ChatTemplate template, JsonNode config,
            JsonNode generation, Optional<Integer> maxContext, long weightBytes) throws OrtException {
        this.id = model.getId();
        this.name = model.getName();
        this.session = session;
        this.tokenizer = tokenizer;
        this.template = template;
        this.weightBytes = weightBytes;
        this.architecture = config.path("model_type").asText("unknown");
        Map<String, NodeInfo> inputs = session.getInputInfo();
        Map<String, NodeInfo> outputs = session.getOutputInfo();
        if (!inputs.containsKey("input_ids") || !inputs.containsKey("attention_mask") || !outputs.containsKey("logits")) {
            throw new Refusal(Refusal.Reason.INVALID, "model '" + name + "' is not a decoder with inputs input_ids and"
                    + " attention_mask and output logits: it has " + inputs.keySet() + " → " + outputs.keySet());
        }
        int pastLayers = 0;
        for (String input : inputs.keySet()) {
            Matcher m = PAST_KEY.matcher(input);
            if (m.matches()) {
                pastLayers = Math.max(pastLayers, Integer.parseInt(m.group(1)) + 1);
            }
        }
        if (pastLayers == 0) {
            throw new Refusal(Refusal.Reason.INVALID, "model '" + name + "' has no KV cache inputs (past_key_values.{i}.key/value):"
                    + " export it with past (Optimum's decoder-with-past or merged decoder); its inputs are " + inputs.keySet());
        }
        for (int i = 0; i < pastLayers; i++) {
            for (String part : List.of("key", "value")) {
                if (!inputs.containsKey("past_key_values." + i + "." + part) || !outputs.containsKey("present." + i + "." + part)) {
                    throw new Refusal(Refusal.Reason.INVALID, "model '" + name + "' lacks past_key_values." + i + "." + part
                            + " or present." + i + "." + part);
                }
            }
        }
        this.layers = pastLayers;
        TensorInfo past = (TensorInfo) inputs.get("past_key_values.0.key").getInfo();
        long[] shape = past.getShape();
        int heads = config.path("num_attention_heads").asInt(config.path("n_head").asInt(0));
        int hidden = config.path("hidden_size").asInt(config.path("n_embd").asInt(0));
        this.kvHeads = shape.length == 4 && shape[1] > 0 ? (int) shape[1] : config.path("num_key_value_heads").asInt(heads);
        this.headDim = shape.length == 4 && shape[3] > 0 ? (int) shape[3]
                : config.path("head_dim").asInt(heads > 0 ? hidden / heads : 0);
        if (shape.length != 4 || kvHeads <= 0 || headDim <= 0) {
            throw new Refusal(Refusal.Reason.INVALID, "model '" + name + "': the KV cache's shape cannot be told (graph "
                    + java.util.Arrays.toString(shape) + ", config.json num_key_value_heads/head_dim missing)");
        }
        this.cacheType = past.type;
        if (cacheType != OnnxJavaType.FLOAT && cacheType != OnnxJavaType.FLOAT16 && cacheType != OnnxJavaType.BFLOAT16) {
            throw new Refusal(Refusal.Reason.INVALID, "model '" + name + "' keeps its KV cache as " + cacheType
                    + "; float, float16 and bfloat16 are supported");
        }
        this.cacheElementBytes = cacheType == OnnxJavaType.FLOAT ? 4 : 2;
        long[] logits = ((TensorInfo) outputs.get("logits").getInfo()).getShape();
        this.vocabSize = logits.length == 3 && logits[2] > 0 ? (int) logits[2] : config.path("vocab_size").asInt(0);
        int positions = config.path("max_position_embeddings").asInt(config.path("n_positions").asInt(2048));
        this.contextLength = Math.min(positions, maxContext.orElse(Integer.MAX_VALUE));
        this.takesPositionIds = inputs.containsKey("position_ids");
        this.takesUseCacheBranch = inputs.containsKey("use_cache_branch");
        this.eosIds = eosIds(config, generation, template, tokenizer);
        this.defaults = new Defaults(floatOrNull(generation, "temperature"), floatOrNull(generation, "top_p"),
                generation.hasNonNull("top_k") ? generation.get("top_k").asInt() : null, floatOrNull(generation, "min_p"),
                floatOrNull(generation, "repetition_penalty"));
    }

    /** Loads a catalogued llm model: fetches its files, then opens tokenizer and session (closed again on failure). */
    public static ChatModel load(Model model, ModelStore store, OrtRuntime runtime, int threads, Optional<Integer> maxContext)
            throws OrtException {
        String graph = ModelStore.graphFile(model);
        Path tokenizerPath = store.file(model, required(model, "tokenizer.json"));
        Path configPath = store.file(model, required(model, "config.json"));
        JsonNode config = readJson(configPath);
        JsonNode tokenizerConfig = optional(model, "tokenizer_config.json").map(f -> readJson(store.file(model, f)))
                .orElse(JSON.createObjectNode());
        JsonNode generation = optional(model, "generation_config.json").map(f -> readJson(store.file(model, f)))
                .orElse(JSON.createObjectNode());
        Path graphPath = store.file(model, graph);
        ChatTemplate template = tokenizerConfig.hasNonNull("chat_template") ? ChatTemplate.fromTokenizerConfig(tokenizerConfig)
                : ChatTemplate.of(CHATML, token(tokenizerConfig, "bos_token"), token(tokenizerConfig, "eos_token"));
        HuggingFaceTokenizer tokenizer;
        try {
            Map<String, String> options = new HashMap<>();
            // the chat template writes the special tokens (bos included) itself, as transformers does
            options.put("addSpecialTokens", "false");
            options.put("truncation", "false");
            options.put("padding", "false");
            tokenizer = HuggingFaceTokenizer.newInstance(tokenizerPath, options);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        OrtSession session;
        try {
            session = runtime.open(graphPath, threads);
        } catch (RuntimeException | OrtException e) {
            tokenizer.close();
            throw e;
        }
        try {
            return new ChatModel(model, session, tokenizer, template, config, generation, maxContext, Files.size(graphPath));
        } catch (RuntimeException | OrtException e) {
            session.close();
            tokenizer.close();
            throw e;
        } catch (IOException e) {
            session.close();
            tokenizer.close();
            throw new UncheckedIOException(e);
        }
    }

    /** The prompt for messages as the model's chat template writes it, ending where the reply starts. */
    public String prompt(List<ChatTemplate.Message> messages) {
        return template.render(messages, true, Map.of());
    }

    public long[] encode(String text) {
        return tokenizer.encode(text).getIds();
    }

    /** Text of token ids, special tokens left out. */
    public String decode(long[] ids) {
        return tokenizer.decode(ids, true);
    }

    /** Bytes one cached position takes over every layer (keys and values) of one sequence. */
    public long cacheBytesPerToken() {
        return 2L * layers * kvHeads * headDim * cacheElementBytes;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            // closing twice or after a failed run: nothing left to free
        }
        tokenizer.close();
    }

    private static Set<Long> eosIds(JsonNode config, JsonNode generation, ChatTemplate template, HuggingFaceTokenizer tokenizer) {
        Set<Long> ids = new LinkedHashSet<>();
        for (JsonNode source : List.of(generation.path("eos_token_id"), config.path("eos_token_id"))) {
            if (source.isIntegralNumber()) {
                ids.add(source.asLong());
            } else if (source.isArray()) {
                source.forEach(id -> ids.add(id.asLong()));
            }
        }
        // the template's end-of-turn token (Qwen's <|im_end|>) ends a reply even where the configs name another eos
        if (template.eosToken() != null && !template.eosToken().isEmpty()) {
            long[] encoded = tokenizer.encode(template.eosToken()).getIds();
            if (encoded.length == 1) {
                ids.add(encoded[0]);
            }
        }
        return Set.copyOf(ids);
    }

    private static String baseName(String file) {
        return file.substring(file.lastIndexOf('/') + 1);
    }

    private static String required(Model model, String file) {
        return optional(model, file).orElseThrow(() -> new Refusal(Refusal.Reason.INVALID, "model '" + model.getName()
                + "' has no " + file + " (a chat model needs the graph, tokenizer.json and config.json)"));
    }

    private static Optional<String> optional(Model model, String file) {
        return model.getFilesList().stream().map(ModelFile::getName).filter(n -> baseName(n).equals(file)).findFirst();
    }

    private static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new Refusal(Refusal.Reason.INVALID, file.getFileName() + " is not valid JSON: " + e.getMessage());
        }
    }

    private static String token(JsonNode tokenizerConfig, String field) {
        JsonNode value = tokenizerConfig.path(field);
        return value.isTextual() ? value.asText() : value.path("content").isTextual() ? value.path("content").asText() : null;
    }

    private static Float floatOrNull(JsonNode node, String field) {
        return node.hasNonNull(field) && node.get(field).isNumber() ? (float) node.get(field).asDouble() : null;
    }
}
