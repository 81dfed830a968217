package dev.bkg.inference.domain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.bkg.proto.model.v1.Model;

/**
 * One text-embedding model in ONNX Runtime: its own tokenizer.json (Hugging Face tokenizers),
 * a session reused for every batch, and the pooling its outputs need — a graph that already
 * answers [batch, dim] is taken as is, one that answers token states [batch, seq, dim] is pooled
 * over the attention mask (mean, or the first token when the model's "pooling" property says
 * "cls"). Thread-safe: ONNX Runtime sessions may run concurrently.
 */
public final class EmbeddingModel implements AutoCloseable {

    /** A tokenized text: ids, mask and type ids of equal length, and whether it was cut. */
    public record Tokens(long[] ids, long[] mask, long[] typeIds, boolean truncated) {
        public int length() {
            return ids.length;
        }
    }

    public final String id;
    public final String name;
    public final int dimensions;
    public final int maxTokens;
    private final HuggingFaceTokenizer tokenizer;
    private final OrtSession session;
    private final OrtRuntime runtime;
    private final String output;
    private final boolean pooled;
    private final boolean clsPooling;
    private final boolean takesTypeIds;

    private EmbeddingModel(Model model, HuggingFaceTokenizer tokenizer, int maxTokens, OrtSession session, OrtRuntime runtime)
            throws OrtException {
        this.id = model.getId();
        this.name = model.getName();
        this.tokenizer = tokenizer;
        this.maxTokens = maxTokens;
        this.session = session;
        this.runtime = runtime;
        this.clsPooling = "cls".equalsIgnoreCase(model.getPropertiesOrDefault("pooling", "mean"));
        Map<String, NodeInfo> inputs = session.getInputInfo();
        if (!inputs.containsKey("input_ids") || !inputs.containsKey("attention_mask")) {
            throw new Refusal(Refusal.Reason.INVALID, "model '" + name + "' has no input_ids/attention_mask inputs: "
                    + inputs.keySet());
        }
        this.takesTypeIds = inputs.containsKey("token_type_ids");
        Map<String, NodeInfo> outputs = session.getOutputInfo();
        String chosen = outputs.containsKey("sentence_embedding") ? "sentence_embedding"
                : outputs.containsKey("last_hidden_state") ? "last_hidden_state" : outputs.keySet().iterator().next();
        long[] shape = ((TensorInfo) outputs.get(chosen).getInfo()).getShape();
        this.output = chosen;
        this.pooled = shape.length == 2;
        this.dimensions = (int) shape[shape.length - 1];
        if (dimensions <= 0 || shape.length < 2 || shape.length > 3) {
            throw new Refusal(Refusal.Reason.INVALID, "model '" + name + "' answers " + chosen + " of shape "
                    + java.util.Arrays.toString(shape) + ": not an embedding");
        }
    }

    /** Loads a catalogued model: its graph (model.onnx or the one .onnx file) and its tokenizer.json. */
    public static EmbeddingModel load(Model model, ModelStore store, OrtRuntime runtime, java.util.Optional<Integer> maxTokens)
            throws OrtException {
        String graph = ModelStore.graphFile(model);
        String tokenizerFile = model.getFilesList().stream().map(f -> f.getName())
                .filter(n -> n.equals("tokenizer.json") || n.endsWith("/tokenizer.json")).findFirst()
                .orElseThrow(() -> new Refusal(Refusal.Reason.INVALID, "model '" + model.getName() + "' has no tokenizer.json"));
        // both files fetched before any native object exists: a failed fetch leaks nothing
        Path tokenizerPath = store.file(model, tokenizerFile);
        Path graphPath = store.file(model, graph);
        int max = maxTokens.orElseGet(() -> declaredMaxLength(tokenizerPath));
        HuggingFaceTokenizer tokenizer;
        try {
            Map<String, String> options = new HashMap<>();
            options.put("padding", "false");
            options.put("truncation", "true");
            options.put("maxLength", String.valueOf(max));
            tokenizer = HuggingFaceTokenizer.newInstance(tokenizerPath, options);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        OrtSession session;
        try {
            session = runtime.open(graphPath);
        } catch (RuntimeException | OrtException e) {
            tokenizer.close();
            throw e;
        }
        try {
            return new EmbeddingModel(model, tokenizer, max, session, runtime);
        } catch (RuntimeException | OrtException e) {
            session.close();
            tokenizer.close();
            throw e;
        }
    }

    /** The truncation length tokenizer.json declares, else 512 (BERT's positions). */
    static int declaredMaxLength(Path tokenizerJson) {
        try {
            JsonNode truncation = new ObjectMapper().readTree(Files.readAllBytes(tokenizerJson)).path("truncation");
            int declared = truncation.path("max_length").asInt(0);
            return declared > 0 ? declared : 512;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Tokens tokenize(String text) {
        Encoding encoding = tokenizer.encode(text);
        return new Tokens(encoding.getIds(), encoding.getAttentionMask(), encoding.getTypeIds(), encoding.exceedMaxLength());
    }

    /** Embeds texts as one padded batch; the vectors are L2-normalised when asked. */
    public float[][] embed(List<Tokens> batch, boolean normalize) throws OrtException {
        int rows = batch.size();
        int columns = batch.stream().mapToInt(Tokens::length).max().orElse(0);
        long[] ids = new long[rows * columns];
        long[] mask = new long[rows * columns];
        long[] types = new long[rows * columns];
        for (int r = 0; r < rows; r++) {
            Tokens t = batch.get(r);
            System.arraycopy(t.ids(), 0, ids, r * columns, t.length());
            System.arraycopy(t.mask(), 0, mask, r * columns, t.length());
            System.arraycopy(t.typeIds(), 0, types, r * columns, t.length());
        }
        long[] shape = {rows, columns};
        var env = runtime.environment();
        try (OnnxTensor idTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
                OnnxTensor maskTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
                OnnxTensor typeTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape)) {
            Map<String, OnnxTensor> inputs = new HashMap<>();
            inputs.put("input_ids", idTensor);
            inputs.put("attention_mask", maskTensor);
            if (takesTypeIds) {
                inputs.put("token_type_ids", typeTensor);
            }
            try (OrtSession.Result result = session.run(inputs, java.util.Set.of(output))) {
                FloatBuffer values = ((OnnxTensor) result.get(0)).getFloatBuffer();
                float[][] vectors = pooled ? rowsOf(values, rows) : pool(values, batch, columns);
                if (normalize) {
                    for (float[] v : vectors) {
                        normalizeInPlace(v);
                    }
                }
                return vectors;
            }
        }
    }

    private float[][] rowsOf(FloatBuffer values, int rows) {
        float[][] vectors = new float[rows][dimensions];
        for (int r = 0; r < rows; r++) {
            values.get(r * dimensions, vectors[r]);
        }
        return vectors;
    }

    /** Token states [rows, columns, dim] → one vector per row: the masked mean, or the first token. */
    private float[][] pool(FloatBuffer states, List<Tokens> batch, int columns) {
        float[][] vectors = new float[batch.size()][dimensions];
        for (int r = 0; r < batch.size(); r++) {
            float[] v = vectors[r];
            long[] mask = batch.get(r).mask();
            int counted = 0;
            int tokens = clsPooling ? Math.min(1, mask.length) : mask.length;
            for (int t = 0; t < tokens; t++) {
                if (mask[t] == 0) {
                    continue;
                }
                int base = (r * columns + t) * dimensions;
                for (int d = 0; d < dimensions; d++) {
                    v[d] += states.get(base + d);
                }
                counted++;
            }
            if (counted > 0) {
                for (int d = 0; d < dimensions; d++) {
                    v[d] /= counted;
                }
            }
        }
        return vectors;
    }

    static void normalizeInPlace(float[] v) {
        double sum = 0;
        for (float x : v) {
            sum += x * x;
        }
        double norm = Math.sqrt(sum);
        if (norm > 0) {
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (v[i] / norm);
            }
        }
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            // closing on the way out: nothing to do about it
        }
        tokenizer.close();
    }
}
