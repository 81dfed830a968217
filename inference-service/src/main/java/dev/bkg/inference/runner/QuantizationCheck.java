package dev.bkg.inference.runner;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import jakarta.enterprise.context.ApplicationScoped;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.bkg.inference.domain.ModelStore;
import dev.bkg.inference.domain.OrtRuntime;
import dev.bkg.inference.domain.Refusal;
import dev.bkg.proto.inference.v1.ElementType;
import dev.bkg.proto.inference.v1.QuantizeResponse;
import dev.bkg.proto.model.v1.Model;
import dev.bkg.proto.model.v1.QuantizeModelRequest;
import dev.bkg.proto.model.v1.QuantizeModelResponse;

/**
 * candle.model.quantize: model-service writes the int8 model (it owns the files), then this runs
 * the original and the quantised graph side by side on the same generated inputs and reports how
 * far apart their float outputs are (largest absolute difference; cosine per sample).
 */
@ApplicationScoped
public class QuantizationCheck {

    /** Dynamic dimensions after the first (sequence length, image side, …) take this size in generated inputs. */
    static final int GENERATED_DIMENSION = 16;

    private final ModelStore store;
    private final OrtRuntime runtime;

    QuantizationCheck(ModelStore store, OrtRuntime runtime) {
        this.store = store;
        this.runtime = runtime;
    }

    /** Blocking: minutes on a large model. */
    public QuantizeResponse quantize(String idOrName, String name, int samples) {
        if (idOrName == null || idOrName.isBlank()) {
            throw new Refusal(Refusal.Reason.INVALID, "model_id is required");
        }
        if (samples < 0 || samples > 256) {
            throw new Refusal(Refusal.Reason.INVALID, "samples must be within 0..256 (0: 8)");
        }
        Model source = store.find(idOrName);
        QuantizeModelResponse written = store.quantize(QuantizeModelRequest.newBuilder().setModelId(source.getId())
                .setName(name == null ? "" : name).build());
        QuantizeResponse.Builder report = QuantizeResponse.newBuilder().setNewModelId(written.getModel().getId())
                .setNewModelName(written.getModel().getName()).setSizeBeforeBytes(written.getSizeBeforeBytes())
                .setSizeAfterBytes(written.getSizeAfterBytes()).setDurationMs(written.getDurationMs())
                .setQuantizedWeights(written.getQuantizedWeights()).addAllQuantizedOps(written.getQuantizedOpsList());
        long started = System.nanoTime();
        compare(source, store.find(written.getModel().getId()), samples == 0 ? 8 : samples, report);
        return report.setCheckMs((System.nanoTime() - started) / 1_000_000).build();
    }

    private void compare(Model original, Model quantized, int samples, QuantizeResponse.Builder report) {
        int threads = Runtime.getRuntime().availableProcessors();
        try (OrtSession a = runtime.open(store.file(original, ModelStore.graphFile(original)), threads);
                OrtSession b = runtime.open(store.file(quantized, ModelStore.graphFile(quantized)), threads)) {
            List<String> floatOutputs = new ArrayList<>();
            a.getOutputInfo().forEach((n, info) -> {
                if (info.getInfo() instanceof TensorInfo t && HostTensor.elementType(t) == ElementType.FLOAT) {
                    floatOutputs.add(n);
                }
            });
            double maxAbs = 0;
            double minCos = 1;
            double sumCos = 0;
            SplittableRandom random = new SplittableRandom(42);
            for (int s = 0; s < samples; s++) {
                List<HostTensor> inputs = new ArrayList<>();
                for (var entry : a.getInputInfo().entrySet()) {
                    inputs.add(generated(entry.getKey(), (TensorInfo) entry.getValue().getInfo(), random));
                }
                double dot = 0;
                double na = 0;
                double nb = 0;
                for (String output : floatOutputs) {
                    float[] x = floats(run(a, inputs, output));
                    float[] y = floats(run(b, inputs, output));
                    for (int i = 0; i < x.length; i++) {
                        maxAbs = Math.max(maxAbs, Math.abs(x[i] - y[i]));
                        dot += (double) x[i] * y[i];
                        na += (double) x[i] * x[i];
                        nb += (double) y[i] * y[i];
                    }
                }
                double cos = na == 0 && nb == 0 ? 1 : dot / Math.sqrt(na * nb);
                minCos = Math.min(minCos, cos);
                sumCos += cos;
            }
            report.setSamples(samples).setMaxAbsError(maxAbs).setMinCosine(minCos).setMeanCosine(sumCos / samples);
        } catch (OrtException e) {
            throw new Refusal(Refusal.Reason.INVALID, "the accuracy check could not run the models: " + e.getMessage());
        }
    }

    private HostTensor run(OrtSession session, List<HostTensor> inputs, String output) throws OrtException {
        var feed = new java.util.LinkedHashMap<String, ai.onnxruntime.OnnxTensor>();
        try {
            for (HostTensor t : inputs) {
                feed.put(t.name(), t.toOnnx(runtime.environment()));
            }
            try (OrtSession.Result result = session.run(feed, java.util.Set.of(output))) {
                return HostTensor.fromOnnx(output, (ai.onnxruntime.OnnxTensor) result.get(0));
            }
        } finally {
            feed.values().forEach(ai.onnxruntime.OnnxTensor::close);
        }
    }

    private static float[] floats(HostTensor t) {
        float[] values = new float[t.bytes().length / 4];
        ByteBuffer.wrap(t.bytes()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        return values;
    }

    /**
     * An input as a test would write it: a batch of one, other free dimensions 16; token-like
     * integers (ids in 0..999, masks 1, type ids 0, positions 0..n-1), floats from N(0, 1).
     */
    static HostTensor generated(String name, TensorInfo info, SplittableRandom random) {
        long[] shape = info.getShape().clone();
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
                shape[i] = i == 0 ? 1 : GENERATED_DIMENSION;
            }
        }
        ElementType type = HostTensor.elementType(info);
        int count = (int) HostTensor.count(shape);
        int size = type == null ? 0 : HostTensor.elementSize(type);
        if (size == 0 || type == ElementType.FLOAT16) {
            throw new Refusal(Refusal.Reason.INVALID, "the accuracy check cannot generate input '" + name + "' of type "
                    + info.onnxType);
        }
        String lower = name.toLowerCase(java.util.Locale.ROOT);
        ByteBuffer out = ByteBuffer.allocate(count * size).order(ByteOrder.LITTLE_ENDIAN);
        long last = shape.length == 0 ? 1 : shape[shape.length - 1];
        for (int i = 0; i < count; i++) {
            long integer = lower.contains("mask") ? 1 : lower.contains("type") ? 0 : lower.contains("position") ? i % last
                    : random.nextInt(1000);
            switch (type) {
                case FLOAT -> out.putFloat((float) gaussian(random));
                case DOUBLE -> out.putDouble(gaussian(random));
                case INT64 -> out.putLong(integer);
                case INT32 -> out.putInt((int) integer);
                case BOOL -> out.put((byte) 1);
                case UINT8, INT8 -> out.put((byte) random.nextInt(128));
                default -> throw new IllegalStateException(type.name());
            }
        }
        return new HostTensor(name, type, shape, out.array(), null);
    }

    private static double gaussian(SplittableRandom random) {
        double u = 1 - random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
    }
}
