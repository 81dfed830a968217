package dev.bkg.testsupport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

import com.google.protobuf.UnsafeByteOperations;

import dev.bkg.proto.onnx.AttributeProto;
import dev.bkg.proto.onnx.GraphProto;
import dev.bkg.proto.onnx.ModelProto;
import dev.bkg.proto.onnx.NodeProto;
import dev.bkg.proto.onnx.OperatorSetIdProto;
import dev.bkg.proto.onnx.TensorProto;
import dev.bkg.proto.onnx.TensorShapeProto;
import dev.bkg.proto.onnx.TypeProto;
import dev.bkg.proto.onnx.ValueInfoProto;

/**
 * Small decoder-only language models of the real architectures (GPT-2, Llama), written as ONNX graphs in the
 * layout Hugging Face Optimum / transformers.js export ("decoder with past"): no pretrained LLM is reachable from
 * the tests, so they run on graphs written here.
 *
 * <p>Every graph has the inputs {@code input_ids}, {@code attention_mask} (over past + new positions, 1 = real
 * token, 0 = left padding), {@code position_ids} and {@code past_key_values.{i}.key/value} [batch, kv_heads,
 * past, head_dim] (past may be 0 long), and the outputs {@code logits} [batch, seq, vocab] and
 * {@code present.{i}.key/value} = concat(past, new) along the sequence axis. Opset 17, IR version 8, float32.
 *
 * <p>Query i (of this call) may attend key j (over past + new) iff j &lt;= past + i and attention_mask[b, j] = 1;
 * the graph turns that into an additive bias of 0 or -1e9 (not -inf: a padding query that sees nothing gets a
 * uniform softmax instead of NaN).
 */
public final class DecoderGraphs {

    public enum Architecture { GPT2, LLAMA }

    /**
     * The shape of a model: vocabSize, hidden, layers, heads, kvHeads (== heads for GPT2; divides heads for
     * LLAMA: grouped-query attention), intermediate (MLP width), maxPositions (learned positions for GPT2, rotary
     * table length for LLAMA) and the seed of the random weights.
     */
    public record Config(Architecture architecture, int vocabSize, int hidden, int layers, int heads, int kvHeads,
                         int intermediate, int maxPositions, long seed) {

        public Config {
            Objects.requireNonNull(architecture, "architecture");
            if (vocabSize < 1 || hidden < 1 || layers < 1 || heads < 1 || kvHeads < 1 || intermediate < 1
                    || maxPositions < 1) {
                throw new IllegalArgumentException("every size must be positive");
            }
            if (hidden % heads != 0) {
                throw new IllegalArgumentException("hidden " + hidden + " is not a multiple of heads " + heads);
            }
            if (heads % kvHeads != 0) {
                throw new IllegalArgumentException("heads " + heads + " is not a multiple of kvHeads " + kvHeads);
            }
            if (architecture == Architecture.GPT2 && kvHeads != heads) {
                throw new IllegalArgumentException("GPT-2 has as many key/value heads as heads");
            }
            if (architecture == Architecture.LLAMA && (hidden / heads) % 2 != 0) {
                throw new IllegalArgumentException("rotary embeddings need an even head dimension");
            }
        }

        public int headDim() {
            return hidden / heads;
        }

        /** Query heads that share one key/value head (1 without grouped-query attention). */
        public int groups() {
            return heads / kvHeads;
        }

        /** Trainable parameters (the rotary tables are not counted). */
        public long parameterCount() {
            long h = hidden;
            long kvWidth = (long) kvHeads * headDim();
            long i = intermediate;
            if (architecture == Architecture.GPT2) {
                long block = 2 * h + (h * 3 * h + 3 * h) + (h * h + h) + 2 * h + (h * i + i) + (i * h + h);
                return (long) vocabSize * h + (long) maxPositions * h + layers * block + 2 * h;
            }
            long block = h + h * h + 2 * h * kvWidth + h * h + h + 3 * h * i;
            return (long) vocabSize * h + layers * block + h + h * vocabSize;
        }
    }

    static final int OPSET = 17;
    static final long IR_VERSION = 8;
    static final String BATCH = "batch_size";
    static final String SEQUENCE = "sequence_length";
    static final String PAST = "past_sequence_length";
    static final String TOTAL = "past_sequence_length + sequence_length";

    static final float LAYER_NORM_EPS = 1e-5f;
    static final float RMS_NORM_EPS = 1e-6f;
    static final double ROPE_THETA = 10000.0;
    /** Added to the scores of keys a query may not see; finite so a fully masked row stays finite. */
    static final float MASKED = -1e9f;

    private static final long NEXT_TOKEN_SEED = 0x6e657874L;

    private DecoderGraphs() {
    }

    /** The ONNX model (opset 17, IR 8, fp32) with random weights, deterministic from {@code config.seed()}. */
    public static byte[] build(Config config) {
        return new Builder(config, randomWeights(config.seed())).model();
    }

    /**
     * The same graph with its KV cache in float16, as half-precision exports keep it: past_key_values.*
     * come in and present.* go out as float16 (cast at the boundary; the arithmetic stays float32).
     */
    public static byte[] buildWithHalfCache(Config config) {
        Builder builder = new Builder(config, randomWeights(config.seed()));
        builder.halfCache = true;
        return builder.model();
    }

    /** The Config {@link #nextToken} uses: LLAMA, hidden 64 (32 feature frequencies), 4 heads, 2 KV heads. */
    public static Config nextTokenConfig(int vocabSize, int layers) {
        return new Config(Architecture.LLAMA, vocabSize, 64, layers, 4, 2, 128, 4096, NEXT_TOKEN_SEED);
    }

    /**
     * A LLAMA graph with hand-set weights whose greedy next token is always (last input id + 1) mod vocabSize.
     * o_proj and down_proj are zero, so the residual stream is the token embedding; the embedding of id is
     * (cos(w_k·id), sin(w_k·id)) for K = hidden/2 random frequencies w_k in [0.05π, π], and lm_head column j holds
     * the same features of (j - 1) mod V. After RMSNorm (RMS 1/√2, so ×√2)
     * logit_j = √2·Σ_k cos(w_k·(id - j + 1)), which is √2·K (45.3) only at j = id + 1; the build checks that
     * every other token's logit stays at least 1 below (for 151,669 tokens the margin is 19).
     */
    public static byte[] nextToken(int vocabSize, int layers) {
        Config config = nextTokenConfig(vocabSize, layers);
        int v = vocabSize;
        int h = config.hidden();
        int k = h / 2;
        double[] freq = new double[k];
        SplittableRandom frequencies = new SplittableRandom(NEXT_TOKEN_SEED);
        for (int f = 0; f < k; f++) {
            freq[f] = Math.PI * (0.05 + 0.95 * frequencies.nextDouble());
        }
        float[] embedding = new float[v * h];
        for (int id = 0; id < v; id++) {
            for (int f = 0; f < k; f++) {
                embedding[id * h + 2 * f] = (float) Math.cos(freq[f] * id);
                embedding[id * h + 2 * f + 1] = (float) Math.sin(freq[f] * id);
            }
        }
        // Σ_k cos(w_k·d) is the score of a token at offset d from the right one; it is the sum of the cosine
        // features of id d, so the margin check is a pass over the embedding.
        double worst = Double.NEGATIVE_INFINITY;
        for (int d = 1; d < v; d++) {
            double sum = 0;
            for (int f = 0; f < k; f++) {
                sum += embedding[d * h + 2 * f];
            }
            worst = Math.max(worst, sum);
        }
        if (v > 1 && Math.sqrt(2) * (k - worst) < 1.0) {
            throw new IllegalStateException("next-token features do not separate " + v + " tokens (worst offset "
                    + worst + " of " + k + ")");
        }
        float[] lmHead = new float[h * v]; // [hidden, vocab]: column j = features of token j - 1
        for (int j = 0; j < v; j++) {
            int source = (j - 1 + v) % v;
            for (int c = 0; c < h; c++) {
                lmHead[c * v + j] = embedding[source * h + c];
            }
        }
        Weights random = randomWeights(config.seed());
        Weights weights = (name, kind, dims) -> {
            if (name.equals("model.embed_tokens.weight")) {
                return embedding;
            }
            if (name.equals("lm_head.weight")) {
                return lmHead;
            }
            if (name.endsWith("o_proj.weight") || name.endsWith("down_proj.weight")) {
                return new float[count(dims)]; // the blocks add nothing to the residual stream
            }
            if (kind == Kind.NORM_SCALE) {
                float[] ones = new float[count(dims)];
                Arrays.fill(ones, 1f);
                return ones;
            }
            return random.values(name, kind, dims);
        };
        return new Builder(config, weights).model();
    }

    /**
     * The Hugging Face config.json of a config: model_type, vocab_size, hidden_size, num_hidden_layers,
     * num_attention_heads, num_key_value_heads, head_dim, intermediate_size, max_position_embeddings (and GPT-2's
     * n_embd/n_layer/n_head/n_positions/n_inner); bos/eos_token_id only when given.
     */
    public static String configJson(Config config, Integer bosTokenId, Integer eosTokenId) {
        Map<String, Object> json = new LinkedHashMap<>();
        boolean gpt2 = config.architecture() == Architecture.GPT2;
        json.put("architectures", List.of(gpt2 ? "GPT2LMHeadModel" : "LlamaForCausalLM"));
        json.put("model_type", gpt2 ? "gpt2" : "llama");
        json.put("vocab_size", config.vocabSize());
        json.put("hidden_size", config.hidden());
        json.put("num_hidden_layers", config.layers());
        json.put("num_attention_heads", config.heads());
        json.put("num_key_value_heads", config.kvHeads());
        json.put("head_dim", config.headDim());
        json.put("intermediate_size", config.intermediate());
        json.put("max_position_embeddings", config.maxPositions());
        if (gpt2) {
            json.put("n_embd", config.hidden());
            json.put("n_layer", config.layers());
            json.put("n_head", config.heads());
            json.put("n_positions", config.maxPositions());
            json.put("n_ctx", config.maxPositions());
            json.put("n_inner", config.intermediate());
            json.put("activation_function", "gelu_new");
            json.put("layer_norm_epsilon", 1e-5);
            json.put("tie_word_embeddings", true);
        } else {
            json.put("hidden_act", "silu");
            json.put("rms_norm_eps", 1e-6);
            json.put("rope_theta", ROPE_THETA);
            json.put("attention_bias", false);
            json.put("tie_word_embeddings", false);
        }
        if (bosTokenId != null) {
            json.put("bos_token_id", bosTokenId);
        }
        if (eosTokenId != null) {
            json.put("eos_token_id", eosTokenId);
        }
        json.put("torch_dtype", "float32");
        json.put("use_cache", true);
        StringBuilder out = new StringBuilder("{\n");
        int n = 0;
        for (Map.Entry<String, Object> e : json.entrySet()) {
            out.append("  \"").append(e.getKey()).append("\": ").append(jsonValue(e.getValue()));
            out.append(++n < json.size() ? ",\n" : "\n");
        }
        return out.append("}\n").toString();
    }

    /**
     * Writes a Hugging Face repository layout under dir: onnx/model.onnx, config.json, generation_config.json
     * (when given) and copies of tokenizer.json / tokenizer_config.json (when given). Returns the relative names
     * written, '/'-separated, in that order.
     */
    public static List<String> writeRepo(Path dir, byte[] onnx, String configJson, String generationConfigJson,
                                         Path tokenizerJson, Path tokenizerConfigJson) throws IOException {
        Objects.requireNonNull(onnx, "onnx");
        Objects.requireNonNull(configJson, "configJson");
        List<String> written = new ArrayList<>();
        Files.createDirectories(dir.resolve("onnx"));
        Files.write(dir.resolve("onnx").resolve("model.onnx"), onnx);
        written.add("onnx/model.onnx");
        Files.writeString(dir.resolve("config.json"), configJson, StandardCharsets.UTF_8);
        written.add("config.json");
        if (generationConfigJson != null) {
            Files.writeString(dir.resolve("generation_config.json"), generationConfigJson, StandardCharsets.UTF_8);
            written.add("generation_config.json");
        }
        if (tokenizerJson != null) {
            Files.copy(tokenizerJson, dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
            written.add("tokenizer.json");
        }
        if (tokenizerConfigJson != null) {
            Files.copy(tokenizerConfigJson, dir.resolve("tokenizer_config.json"), StandardCopyOption.REPLACE_EXISTING);
            written.add("tokenizer_config.json");
        }
        return List.copyOf(written);
    }

    // ---------------------------------------------------------------------------------------------- weights

    /** What an initializer is, so the random source can pick its scale. */
    private enum Kind { EMBEDDING, LINEAR, BIAS, NORM_SCALE, NORM_BIAS, LM_HEAD }

    /** Supplies the values of one initializer (row-major, dims as stored in the graph). */
    @FunctionalInterface
    private interface Weights {
        float[] values(String name, Kind kind, int... dims);
    }

    /**
     * Uniform random values, one stream per tensor name (so the order of creation does not matter). Linear
     * weights have std 1/√fan_in (0.02-0.1 for the usual widths) so each block's output is O(1) and dominates
     * the small embeddings: the next token depends on the context, not only on the last token. Embeddings and
     * lm_head have std 1/√hidden, which gives logits of std ~1, whose argmax changes from step to step.
     */
    private static Weights randomWeights(long seed) {
        return (name, kind, dims) -> {
            float[] values = new float[count(dims)];
            SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
            double std;
            double mean = 0;
            switch (kind) {
                case EMBEDDING -> std = 1 / Math.sqrt(dims[1]);
                case LINEAR, LM_HEAD -> std = 1 / Math.sqrt(dims[0]);
                case NORM_SCALE -> {
                    std = 0.02;
                    mean = 1;
                }
                default -> std = 0.02;
            }
            double half = std * Math.sqrt(3); // a uniform on [-a, a] has std a/√3
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) (mean + half * (2 * random.nextDouble() - 1));
            }
            return values;
        };
    }

    private static int count(int... dims) {
        long n = 1;
        for (int d : dims) {
            n *= d;
        }
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor of " + n + " elements is too large");
        }
        return (int) n;
    }

    // ------------------------------------------------------------------------------------------------ graph

    /** Writes one graph; names follow the Hugging Face parameter names, with weights stored [in, out]. */
    /**
     * A graph with a language model's names but no KV cache — input_ids and attention_mask in,
     * logits [batch, seq, 1] out (the ids as floats) — which model-service accepts as kind llm and
     * which the chat runtime must refuse at load, naming the missing past_key_values inputs.
     */
    public static byte[] withoutCache() {
        TensorProto axes = TensorProto.newBuilder().setName("axes").setDataType(TensorProto.DataType.INT64_VALUE)
                .addDims(1).addInt64Data(2).build();
        GraphProto graph = GraphProto.newBuilder().setName("no-cache")
                .addInput(Builder.valueInfo("input_ids", TensorProto.DataType.INT64_VALUE, BATCH, SEQUENCE))
                .addInput(Builder.valueInfo("attention_mask", TensorProto.DataType.INT64_VALUE, BATCH, SEQUENCE))
                .addOutput(Builder.valueInfo("logits", TensorProto.DataType.FLOAT_VALUE, BATCH, SEQUENCE, 1))
                .addInitializer(axes)
                .addNode(NodeProto.newBuilder().setOpType("Cast").addInput("input_ids").addOutput("ids_float")
                        .addAttribute(AttributeProto.newBuilder().setName("to").setType(AttributeProto.AttributeType.INT)
                                .setI(TensorProto.DataType.FLOAT_VALUE)))
                .addNode(NodeProto.newBuilder().setOpType("Unsqueeze").addInput("ids_float").addInput("axes").addOutput("logits"))
                .build();
        return ModelProto.newBuilder().setIrVersion(IR_VERSION).setProducerName("bkg-test-support")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET)).setGraph(graph).build()
                .toByteArray();
    }

    private static final class Builder {
        private final Config c;
        private final Weights weights;
        private final GraphProto.Builder graph = GraphProto.newBuilder();
        private final Map<String, String> constants = new HashMap<>();
        private String scope = "";
        private int counter;
        /** past_key_values.* / present.* in float16 (buildWithHalfCache). */
        boolean halfCache;

        Builder(Config c, Weights weights) {
            this.c = c;
            this.weights = weights;
        }

        byte[] model() {
            boolean llama = c.architecture() == Architecture.LLAMA;
            graph.setName(llama ? "llama-decoder" : "gpt2-decoder");
            graph.addInput(valueInfo("input_ids", TensorProto.DataType.INT64_VALUE, BATCH, SEQUENCE));
            graph.addInput(valueInfo("attention_mask", TensorProto.DataType.INT64_VALUE, BATCH, TOTAL));
            graph.addInput(valueInfo("position_ids", TensorProto.DataType.INT64_VALUE, BATCH, SEQUENCE));
            graph.addOutput(valueInfo("logits", TensorProto.DataType.FLOAT_VALUE, BATCH, SEQUENCE, c.vocabSize()));
            for (int i = 0; i < c.layers(); i++) {
                for (String kv : List.of("key", "value")) {
                    int cacheType = halfCache ? TensorProto.DataType.FLOAT16_VALUE : TensorProto.DataType.FLOAT_VALUE;
                    graph.addInput(valueInfo("past_key_values." + i + "." + kv, cacheType,
                            BATCH, c.kvHeads(), PAST, c.headDim()));
                    graph.addOutput(valueInfo("present." + i + "." + kv, cacheType,
                            BATCH, c.kvHeads(), TOTAL, c.headDim()));
                }
            }

            String bias = attentionBias();
            String x;
            String[] rotary = null;
            if (llama) {
                scope = "/model/embed_tokens";
                x = op("Gather", weight("model.embed_tokens.weight", Kind.EMBEDDING, c.vocabSize(), c.hidden()),
                        "input_ids");
                rotary = rotary();
            } else {
                scope = "/transformer/embeddings";
                String wte = weight("transformer.wte.weight", Kind.EMBEDDING, c.vocabSize(), c.hidden());
                String wpe = weight("transformer.wpe.weight", Kind.EMBEDDING, c.maxPositions(), c.hidden());
                x = op("Add", op("Gather", wte, "input_ids"), op("Gather", wpe, "position_ids"));
            }
            for (int i = 0; i < c.layers(); i++) {
                x = llama ? llamaLayer(i, x, bias, rotary) : gpt2Layer(i, x, bias);
            }
            if (llama) {
                scope = "/model/norm";
                x = rmsNorm(x, "model.norm.weight");
                scope = "/lm_head";
                String lmHead = weight("lm_head.weight", Kind.LM_HEAD, c.hidden(), c.vocabSize()); // [in, out]
                emit("MatMul", "logits", List.of(), 1, x, lmHead);
            } else {
                scope = "/transformer/ln_f";
                x = layerNorm(x, "transformer.ln_f");
                scope = "/lm_head";
                // Tied head: logits = x · wteᵀ; ORT folds the constant Transpose at load time.
                String wteT = op("Transpose", List.of(ints("perm", 1, 0)), "transformer.wte.weight");
                emit("MatMul", "logits", List.of(), 1, x, wteT);
            }

            return ModelProto.newBuilder()
                    .setIrVersion(IR_VERSION)
                    .setProducerName("bkg-test-support")
                    .setProducerVersion("1")
                    .setDocString("DecoderGraphs " + c)
                    .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                    .setGraph(graph)
                    .build()
                    .toByteArray();
        }

        /** [batch, 1, seq, past + seq]: 0 where query i may see key j (j <= past + i and not padding), else -1e9. */
        private String attentionBias() {
            scope = "/model/attention_bias";
            List<AttributeProto> dim1 = List.of(intAttr("start", 1), intAttr("end", 2));
            String sequence = op("Shape", dim1, "input_ids");     // [1]: S
            String total = op("Shape", dim1, "attention_mask");   // [1]: P + S
            String past = op("Sub", total, sequence);
            String totalScalar = op("Squeeze", total, int64s(0));
            String pastScalar = op("Squeeze", past, int64s(0));
            String keyPositions = op("Range", int64Scalar(0), totalScalar, int64Scalar(1));    // [T]: 0 .. T-1
            String queryPositions = op("Range", pastScalar, totalScalar, int64Scalar(1));      // [S]: P .. T-1
            String causal = op("LessOrEqual", op("Unsqueeze", keyPositions, int64s(0)),
                    op("Unsqueeze", queryPositions, int64s(1)));                                 // [S, T]
            String real = op("Cast", List.of(intAttr("to", TensorProto.DataType.BOOL_VALUE)),
                    op("Unsqueeze", "attention_mask", int64s(1, 2)));                             // [B, 1, 1, T]
            String allowed = op("And", causal, real);                                             // [B, 1, S, T]
            return op("Where", allowed, floatScalar(0f), floatScalar(MASKED));
        }

        /** cos and sin [batch, 1, seq, head_dim] of the positions, gathered from tables (rotate-half layout). */
        private String[] rotary() {
            scope = "/model/rotary_emb";
            int d = c.headDim();
            int half = d / 2;
            float[] cos = new float[c.maxPositions() * d];
            float[] sin = new float[c.maxPositions() * d];
            for (int p = 0; p < c.maxPositions(); p++) {
                for (int i = 0; i < half; i++) {
                    double angle = p / Math.pow(ROPE_THETA, 2.0 * i / d);
                    // HF: emb = cat(freqs, freqs), so element i and i + d/2 share a frequency
                    cos[p * d + i] = cos[p * d + i + half] = (float) Math.cos(angle);
                    sin[p * d + i] = sin[p * d + i + half] = (float) Math.sin(angle);
                }
            }
            String cosTable = initializer("model.rotary_emb.cos_cached", cos, c.maxPositions(), d);
            String sinTable = initializer("model.rotary_emb.sin_cached", sin, c.maxPositions(), d);
            return new String[] {
                op("Unsqueeze", op("Gather", cosTable, "position_ids"), int64s(1)),
                op("Unsqueeze", op("Gather", sinTable, "position_ids"), int64s(1)),
            };
        }

        private String gpt2Layer(int i, String x, String bias) {
            String p = "transformer.h." + i + ".";
            int h = c.hidden();
            scope = "/transformer/h." + i + "/attn";
            String normed = layerNorm(x, p + "ln_1");
            String qkv = op("Add", op("MatMul", normed, weight(p + "attn.c_attn.weight", Kind.LINEAR, h, 3 * h)),
                    weight(p + "attn.c_attn.bias", Kind.BIAS, 3 * h));
            String[] parts = emit("Split", null, List.of(intAttr("axis", -1)), 3, qkv, int64s(h, h, h));
            String context = attention(i, parts[0], parts[1], parts[2], bias, null);
            String out = op("Add", op("MatMul", context, weight(p + "attn.c_proj.weight", Kind.LINEAR, h, h)),
                    weight(p + "attn.c_proj.bias", Kind.BIAS, h));
            x = op("Add", x, out);

            scope = "/transformer/h." + i + "/mlp";
            normed = layerNorm(x, p + "ln_2");
            String up = op("Add", op("MatMul", normed, weight(p + "mlp.c_fc.weight", Kind.LINEAR, h, c.intermediate())),
                    weight(p + "mlp.c_fc.bias", Kind.BIAS, c.intermediate()));
            String down = op("Add", op("MatMul", geluTanh(up), weight(p + "mlp.c_proj.weight", Kind.LINEAR,
                    c.intermediate(), h)), weight(p + "mlp.c_proj.bias", Kind.BIAS, h));
            return op("Add", x, down);
        }

        private String llamaLayer(int i, String x, String bias, String[] rotary) {
            String p = "model.layers." + i + ".";
            int h = c.hidden();
            int kvWidth = c.kvHeads() * c.headDim();
            scope = "/model/layers." + i + "/self_attn";
            String normed = rmsNorm(x, p + "input_layernorm.weight");
            String q = op("MatMul", normed, weight(p + "self_attn.q_proj.weight", Kind.LINEAR, h, h));
            String k = op("MatMul", normed, weight(p + "self_attn.k_proj.weight", Kind.LINEAR, h, kvWidth));
            String v = op("MatMul", normed, weight(p + "self_attn.v_proj.weight", Kind.LINEAR, h, kvWidth));
            String context = attention(i, q, k, v, bias, rotary);
            x = op("Add", x, op("MatMul", context, weight(p + "self_attn.o_proj.weight", Kind.LINEAR, h, h)));

            scope = "/model/layers." + i + "/mlp";
            normed = rmsNorm(x, p + "post_attention_layernorm.weight");
            String gate = op("MatMul", normed, weight(p + "mlp.gate_proj.weight", Kind.LINEAR, h, c.intermediate()));
            String up = op("MatMul", normed, weight(p + "mlp.up_proj.weight", Kind.LINEAR, h, c.intermediate()));
            String silu = op("Mul", gate, op("Sigmoid", gate));
            String down = op("MatMul", op("Mul", silu, up),
                    weight(p + "mlp.down_proj.weight", Kind.LINEAR, c.intermediate(), h));
            return op("Add", x, down);
        }

        /**
         * Multi-head attention of projected q [B, S, heads·D], k/v [B, S, kv·D]; writes present.{i}.* and
         * returns the context [B, S, hidden] before the output projection. With rotary (LLAMA), q and k are
         * rotated before k is cached, as in Hugging Face.
         */
        private String attention(int layer, String q, String k, String v, String bias, String[] rotary) {
            int d = c.headDim();
            q = splitHeads(q, c.heads());
            k = splitHeads(k, c.kvHeads());
            v = splitHeads(v, c.kvHeads());
            if (rotary != null) {
                q = rotate(q, rotary);
                k = rotate(k, rotary);
            }
            List<AttributeProto> axis2 = List.of(intAttr("axis", 2));
            String presentKey;
            String presentValue;
            if (halfCache) {
                // float16 at the boundary: the cache is read up to float32 and written back down
                List<AttributeProto> toFloat = List.of(intAttr("to", TensorProto.DataType.FLOAT_VALUE));
                List<AttributeProto> toHalf = List.of(intAttr("to", TensorProto.DataType.FLOAT16_VALUE));
                presentKey = op("Concat", axis2, op("Cast", toFloat, "past_key_values." + layer + ".key"), k);
                presentValue = op("Concat", axis2, op("Cast", toFloat, "past_key_values." + layer + ".value"), v);
                emit("Cast", "present." + layer + ".key", toHalf, 1, presentKey);
                emit("Cast", "present." + layer + ".value", toHalf, 1, presentValue);
            } else {
                presentKey = emit("Concat", "present." + layer + ".key", axis2, 1, "past_key_values." + layer + ".key", k)[0];
                presentValue = emit("Concat", "present." + layer + ".value", axis2, 1,
                        "past_key_values." + layer + ".value", v)[0];
            }
            // Grouped-query: repeat each KV head for its query heads only now, so present.* keep kvHeads
            String keys = repeatKv(presentKey);
            String values = repeatKv(presentValue);
            String scores = op("MatMul", q, op("Transpose", List.of(ints("perm", 0, 1, 3, 2)), keys)); // [B,h,S,T]
            scores = op("Add", op("Mul", scores, floatScalar((float) (1 / Math.sqrt(d)))), bias);
            String probs = op("Softmax", List.of(intAttr("axis", -1)), scores);
            String context = op("Transpose", List.of(ints("perm", 0, 2, 1, 3)), op("MatMul", probs, values));
            return op("Reshape", context, int64s(0, 0, c.hidden()));
        }

        /** [B, S, n·D] → [B, n, S, D]. */
        private String splitHeads(String x, int n) {
            return op("Transpose", List.of(ints("perm", 0, 2, 1, 3)), op("Reshape", x, int64s(0, 0, n, c.headDim())));
        }

        /** x·cos + rotate_half(x)·sin with rotate_half(x) = cat(-x[D/2:], x[:D/2]). */
        private String rotate(String x, String[] rotary) {
            int half = c.headDim() / 2;
            String[] halves = emit("Split", null, List.of(intAttr("axis", -1)), 2, x, int64s(half, half));
            String rotated = op("Concat", List.of(intAttr("axis", -1)), op("Neg", halves[1]), halves[0]);
            return op("Add", op("Mul", x, rotary[0]), op("Mul", rotated, rotary[1]));
        }

        /** [B, kv, T, D] → [B, heads, T, D], head h reading KV head h / groups (HF repeat_kv). */
        private String repeatKv(String x) {
            int groups = c.groups();
            if (groups == 1) {
                return x;
            }
            String expanded = op("Expand", op("Unsqueeze", x, int64s(2)), int64s(1, 1, groups, 1, 1)); // [B,kv,g,T,D]
            return op("Reshape", expanded, int64s(0, c.heads(), -1, c.headDim()));
        }

        private String layerNorm(String x, String prefix) {
            String scale = weight(prefix + ".weight", Kind.NORM_SCALE, c.hidden());
            String shift = weight(prefix + ".bias", Kind.NORM_BIAS, c.hidden());
            return op("LayerNormalization", List.of(intAttr("axis", -1), floatAttr("epsilon", LAYER_NORM_EPS)),
                    x, scale, shift);
        }

        /** x / sqrt(mean(x²) + eps) · weight, from basic ops (as Optimum exports Llama). */
        private String rmsNorm(String x, String weightName) {
            String meanSquare = op("ReduceMean", List.of(ints("axes", -1), intAttr("keepdims", 1)), op("Mul", x, x));
            String inverse = op("Reciprocal", op("Sqrt", op("Add", meanSquare, floatScalar(RMS_NORM_EPS))));
            return op("Mul", op("Mul", x, inverse), weight(weightName, Kind.NORM_SCALE, c.hidden()));
        }

        /** GPT-2's gelu_new: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
        private String geluTanh(String x) {
            String cube = op("Mul", op("Mul", x, x), x);
            String inner = op("Mul", op("Add", x, op("Mul", cube, floatScalar(0.044715f))),
                    floatScalar((float) Math.sqrt(2 / Math.PI)));
            return op("Mul", op("Mul", x, floatScalar(0.5f)), op("Add", op("Tanh", inner), floatScalar(1f)));
        }

        // ------------------------------------------------------------------------------------ proto helpers

        private String weight(String name, Kind kind, int... dims) {
            return initializer(name, weights.values(name, kind, dims), dims);
        }

        /** A float initializer; the data go in raw_data, little-endian, as ONNX requires. */
        private String initializer(String name, float[] values, int... dims) {
            if (values.length != count(dims)) {
                throw new IllegalStateException(name + ": " + values.length + " values for " + Arrays.toString(dims));
            }
            ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            raw.asFloatBuffer().put(values);
            TensorProto.Builder tensor = TensorProto.newBuilder().setName(name)
                    .setDataType(TensorProto.DataType.FLOAT_VALUE)
                    .setRawData(UnsafeByteOperations.unsafeWrap(raw.array())); // no copy of large weights
            for (int d : dims) {
                tensor.addDims(d);
            }
            graph.addInitializer(tensor);
            return name;
        }

        /** A shared 1-D int64 constant (shapes, axes, split sizes). */
        private String int64s(long... values) {
            return constants.computeIfAbsent("i64" + Arrays.toString(values), key -> {
                String name = "const_i64_" + constants.size();
                TensorProto.Builder tensor = TensorProto.newBuilder().setName(name)
                        .setDataType(TensorProto.DataType.INT64_VALUE).addDims(values.length);
                for (long v : values) {
                    tensor.addInt64Data(v);
                }
                graph.addInitializer(tensor);
                return name;
            });
        }

        private String int64Scalar(long value) {
            return constants.computeIfAbsent("i64 " + value, key -> {
                String name = "const_i64_" + constants.size();
                graph.addInitializer(TensorProto.newBuilder().setName(name)
                        .setDataType(TensorProto.DataType.INT64_VALUE).addInt64Data(value));
                return name;
            });
        }

        private String floatScalar(float value) {
            return constants.computeIfAbsent("f32 " + Float.floatToIntBits(value), key -> {
                String name = "const_f32_" + constants.size();
                graph.addInitializer(TensorProto.newBuilder().setName(name)
                        .setDataType(TensorProto.DataType.FLOAT_VALUE).addFloatData(value));
                return name;
            });
        }

        private String op(String type, String... inputs) {
            return emit(type, null, List.of(), 1, inputs)[0];
        }

        private String op(String type, List<AttributeProto> attributes, String... inputs) {
            return emit(type, null, attributes, 1, inputs)[0];
        }

        /** Adds a node; its outputs are named after the scope unless output (single-output nodes) is given. */
        private String[] emit(String type, String output, List<AttributeProto> attributes, int outputs,
                              String... inputs) {
            String name = scope + "/" + type + "_" + counter++;
            NodeProto.Builder node = NodeProto.newBuilder().setOpType(type).setName(name)
                    .addAllInput(Arrays.asList(inputs)).addAllAttribute(attributes);
            String[] names = new String[outputs];
            for (int o = 0; o < outputs; o++) {
                names[o] = output != null ? output : name + "_output_" + o;
                node.addOutput(names[o]);
            }
            graph.addNode(node);
            return names;
        }

        private static AttributeProto intAttr(String name, long value) {
            return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value)
                    .build();
        }

        private static AttributeProto floatAttr(String name, float value) {
            return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value)
                    .build();
        }

        private static AttributeProto ints(String name, long... values) {
            AttributeProto.Builder a = AttributeProto.newBuilder().setName(name)
                    .setType(AttributeProto.AttributeType.INTS);
            for (long v : values) {
                a.addInts(v);
            }
            return a.build();
        }

        /** A tensor type; each dim is a String (dim_param) or an Integer (dim_value). */
        private static ValueInfoProto valueInfo(String name, int elementType, Object... dims) {
            TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
            for (Object d : dims) {
                TensorShapeProto.Dimension.Builder dim = TensorShapeProto.Dimension.newBuilder();
                if (d instanceof String param) {
                    dim.setDimParam(param);
                } else {
                    dim.setDimValue(((Number) d).longValue());
                }
                shape.addDim(dim);
            }
            return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                    .setTensorType(TypeProto.Tensor.newBuilder().setElemType(elementType).setShape(shape))).build();
        }
    }

    private static String jsonValue(Object value) {
        if (value instanceof String s) {
            return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
        }
        if (value instanceof List<?> list) {
            List<String> items = new ArrayList<>();
            for (Object item : list) {
                items.add(jsonValue(item));
            }
            return "[" + String.join(", ", items) + "]";
        }
        return String.valueOf(value); // numbers and booleans
    }
}
