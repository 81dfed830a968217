package dev.bkg.model.domain;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import jakarta.enterprise.context.ApplicationScoped;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.bkg.proto.model.v1.ModelKind;

/**
 * Opens a model's ONNX graph in ONNX Runtime (CPU, one thread: validation must not starve the
 * host), records its inputs and outputs, checks them against the declared kind, and optionally
 * runs one inference on generated inputs (dynamic dimensions as 1, sequences of 8 tokens).
 */
@ApplicationScoped
public class ModelValidator {

    public record Tensor(String name, String elementType, List<Long> shape) {
    }

    public record Result(boolean ok, List<Tensor> inputs, List<Tensor> outputs, String message, long durationMs,
            long validatedAtEpochMs, String graphFile) {
    }

    /** The graph file of a model: "model.onnx" when there is one, else the first .onnx file. */
    static String graphFile(List<String> names) {
        return names.stream().filter(n -> n.equals("model.onnx") || n.endsWith("/model.onnx")).findFirst()
                .or(() -> names.stream().filter(n -> n.toLowerCase(Locale.ROOT).endsWith(".onnx")).findFirst())
                .orElse(null);
    }

    public Result validate(Path modelDir, List<String> fileNames, ModelKind kind, boolean runInference) {
        long started = System.nanoTime();
        String graph = graphFile(fileNames);
        if (graph == null) {
            return new Result(false, List.of(), List.of(), "the model has no .onnx file", 0, System.currentTimeMillis(), "");
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            try (OrtSession session = env.createSession(modelDir.resolve(graph).toString(), options)) {
                List<Tensor> inputs = tensors(session.getInputInfo());
                List<Tensor> outputs = tensors(session.getOutputInfo());
                String mismatch = kindMismatch(kind, inputs, outputs);
                String message = mismatch == null ? "signature fits kind " + kind.name().toLowerCase(Locale.ROOT) : mismatch;
                if (mismatch == null && runInference) {
                    message += "; " + runOnce(env, session, inputs);
                }
                return new Result(mismatch == null, inputs, outputs, message, (System.nanoTime() - started) / 1_000_000,
                        System.currentTimeMillis(), graph);
            }
        } catch (OrtException e) {
            return new Result(false, List.of(), List.of(), "ONNX Runtime cannot open " + graph + ": " + e.getMessage(),
                    (System.nanoTime() - started) / 1_000_000, System.currentTimeMillis(), graph);
        }
    }

    private static List<Tensor> tensors(Map<String, NodeInfo> infos) {
        List<Tensor> tensors = new ArrayList<>();
        infos.forEach((name, info) -> {
            if (info.getInfo() instanceof TensorInfo t) {
                tensors.add(new Tensor(name, elementType(t), Arrays.stream(t.getShape()).boxed().toList()));
            } else {
                tensors.add(new Tensor(name, info.getInfo().getClass().getSimpleName(), List.of()));
            }
        });
        return tensors;
    }

    /** ONNX's own lowercase names: float, float16, int64, ... */
    static String elementType(TensorInfo t) {
        String name = t.onnxType.name(); // ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT
        return name.substring(name.lastIndexOf('_') + 1).toLowerCase(Locale.ROOT);
    }

    /** Why the signature does not fit the kind, or null. */
    static String kindMismatch(ModelKind kind, List<Tensor> inputs, List<Tensor> outputs) {
        Set<String> in = inputs.stream().map(Tensor::name).collect(Collectors.toSet());
        Set<String> out = outputs.stream().map(Tensor::name).collect(Collectors.toSet());
        switch (kind) {
            case EMBEDDING:
                if (!in.contains("input_ids") || !in.contains("attention_mask")) {
                    return "an embedding model needs inputs input_ids and attention_mask; it has " + in;
                }
                return null;
            case LLM:
                if (!in.contains("input_ids") || !out.contains("logits")) {
                    return "a language model needs input input_ids and output logits; it has " + in + " → " + out;
                }
                return null;
            case FACE_DETECTOR:
            case FACE_EMBEDDER:
                boolean image = inputs.size() == 1 && inputs.get(0).shape().size() == 4
                        && inputs.get(0).elementType().equals("float");
                if (!image) {
                    return "a face model needs one float image input [n, h, w, c] or [n, c, h, w]; it has " + inputs;
                }
                if (kind == ModelKind.FACE_EMBEDDER && outputs.stream().noneMatch(o -> o.shape().size() == 2)) {
                    return "a face embedder needs a [n, d] output; it has " + outputs;
                }
                return null;
            default:
                return null;
        }
    }

    private static String runOnce(OrtEnvironment env, OrtSession session, List<Tensor> inputs) throws OrtException {
        Map<String, OnnxTensor> feed = new HashMap<>();
        try {
            for (Tensor input : inputs) {
                long[] shape = input.shape().stream().mapToLong(d -> d < 0 ? (input.shape().size() == 2 ? 8 : 1) : d)
                        .toArray();
                if (input.shape().size() == 2 && input.shape().get(0) < 0) {
                    shape[0] = 1;
                }
                int size = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
                switch (input.elementType()) {
                    case "int64" -> {
                        long[] values = new long[size];
                        Arrays.fill(values, input.name().contains("mask") ? 1 : input.name().contains("type") ? 0 : 101);
                        feed.put(input.name(), OnnxTensor.createTensor(env, LongBuffer.wrap(values), shape));
                    }
                    case "float" -> {
                        float[] values = new float[size];
                        Arrays.fill(values, 0.5f);
                        feed.put(input.name(), OnnxTensor.createTensor(env, FloatBuffer.wrap(values), shape));
                    }
                    default -> {
                        return "no inference run: cannot generate a " + input.elementType() + " input";
                    }
                }
            }
            try (OrtSession.Result result = session.run(feed)) {
                List<String> shapes = new ArrayList<>();
                result.forEach(entry -> {
                    if (entry.getValue().getInfo() instanceof TensorInfo t) {
                        shapes.add(entry.getKey() + Arrays.toString(t.getShape()));
                    }
                });
                return "ran one inference: " + String.join(", ", shapes);
            }
        } finally {
            feed.values().forEach(OnnxTensor::close);
        }
    }
}
