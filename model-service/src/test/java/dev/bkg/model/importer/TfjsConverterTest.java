package dev.bkg.model.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;

/**
 * The TF.js → ONNX converter against a reference: a small graph with MobileFace's ops (Sub, Mul,
 * Pad, Conv2D SAME, Maximum, DepthwiseConv2dNative VALID stride 2, Minimum, Reshape, MatMul,
 * AddV2) and known random weights — one of them stored as float16 — is evaluated by a plain NHWC
 * implementation of TensorFlow's semantics written here, and by ONNX Runtime on the converted
 * graph; the outputs agree.
 */
class TfjsConverterTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final int H = 8;
    static final int C = 3;
    static final int F = 4;
    static final int OUT = 5;
    /** Pad to 10 × 10, conv SAME keeps it, depthwise 3×3 VALID stride 2 → 4 × 4. */
    static final int HO = (H + 2 - 3) / 2 + 1;
    static final int FLAT = HO * HO * F;

    final Random random = new Random(1234);
    final float[] mean = floats(C);
    final float[] conv = floats(3 * 3 * C * F); // HWIO
    final float[] depthwise = floats(3 * 3 * F); // H W C M(=1)
    final float[] dense = halfRounded(floats(FLAT * OUT)); // stored as float16
    final float[] bias = floats(OUT);

    float[] floats(int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) random.nextGaussian() * 0.5f;
        }
        return f;
    }

    /** Values exactly representable in float16, so both sides see the same weights. */
    static float[] halfRounded(float[] f) {
        float[] out = new float[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = TfjsWeights.halfToFloat(floatToHalf(f[i]));
        }
        return out;
    }

    static short floatToHalf(float f) {
        int bits = Float.floatToIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exponent = ((bits >>> 23) & 0xff) - 127 + 15;
        int mantissa = (bits >>> 13) & 0x3ff;
        if (exponent <= 0) {
            return (short) sign; // flush tiny values to zero (none of these weights are that small)
        }
        return (short) (sign | (exponent << 10) | mantissa);
    }

    // --- the TF.js model -------------------------------------------------------------------

    ObjectNode node(ArrayNode nodes, String name, String op, String... inputs) {
        ObjectNode n = nodes.addObject().put("name", name).put("op", op);
        ArrayNode in = n.putArray("input");
        for (String i : inputs) {
            in.add(i);
        }
        return n.putObject("attr");
    }

    static void ints(ObjectNode attr, String name, long... values) {
        ArrayNode list = attr.putObject(name).putObject("list").putArray("i");
        for (long v : values) {
            list.add(String.valueOf(v));
        }
    }

    static void text(ObjectNode attr, String name, String value) {
        attr.putObject(name).put("s", Base64.getEncoder().encodeToString(value.getBytes()));
    }

    JsonNode modelJson(boolean withUnsupportedOp) {
        ObjectNode model = JSON.createObjectNode().put("format", "graph-model");
        ArrayNode nodes = model.putObject("modelTopology").putArray("node");
        ObjectNode shape = node(nodes, "input", "Placeholder").putObject("shape").putObject("shape");
        ArrayNode dim = shape.putArray("dim");
        for (long d : new long[] { -1, H, H, C }) {
            dim.addObject().put("size", String.valueOf(d));
        }
        for (String c : List.of("mean", "scale", "paddings", "conv_w", "zero", "dw_w", "six", "flat", "dense_w", "bias")) {
            node(nodes, c, "Const");
        }
        node(nodes, "centered", "Sub", "input", "mean");
        node(nodes, "scaled", "Mul", "centered", "scale");
        node(nodes, "padded", "Pad", "scaled", "paddings");
        ObjectNode convAttr = node(nodes, "conv", "Conv2D", "padded", "conv_w");
        ints(convAttr, "strides", 1, 1, 1, 1);
        text(convAttr, "padding", "SAME");
        text(convAttr, "data_format", "NHWC");
        node(nodes, "relu", "Maximum", "conv", "zero");
        ObjectNode dwAttr = node(nodes, "dw", "DepthwiseConv2dNative", "relu", "dw_w");
        ints(dwAttr, "strides", 1, 2, 2, 1);
        text(dwAttr, "padding", "VALID");
        node(nodes, "clipped", "Minimum", "dw", "six");
        node(nodes, "flattened", "Reshape", "clipped", "flat");
        node(nodes, "logits", "MatMul", "flattened", "dense_w");
        node(nodes, "embedding", "AddV2", "logits", "bias");
        if (withUnsupportedOp) {
            node(nodes, "probabilities", "Softmax", "embedding");
            node(nodes, "sorted", "TopKV2", "probabilities");
        }
        ObjectNode group = model.putArray("weightsManifest").addObject();
        group.putArray("paths").add("group1-shard1of1.bin");
        ArrayNode weights = group.putArray("weights");
        weight(weights, "mean", "float32", C);
        weight(weights, "scale", "float32");
        weight(weights, "paddings", "int32", 4, 2);
        weight(weights, "conv_w", "float32", 3, 3, C, F);
        weight(weights, "zero", "float32");
        weight(weights, "dw_w", "float32", 3, 3, F, 1);
        weight(weights, "six", "float32");
        weight(weights, "flat", "int32", 2);
        weight(weights, "dense_w", "float32", FLAT, OUT).putObject("quantization").put("dtype", "float16");
        weight(weights, "bias", "float32", OUT);
        return model;
    }

    static ObjectNode weight(ArrayNode weights, String name, String dtype, long... shape) {
        ObjectNode w = weights.addObject().put("name", name).put("dtype", dtype);
        ArrayNode s = w.putArray("shape");
        for (long d : shape) {
            s.add(d);
        }
        return w;
    }

    static final float SCALE = 1.5f;
    static final float SIX = 0.75f;
    static final int[] PADDINGS = { 0, 0, 1, 1, 1, 1, 0, 0 }; // NHWC: pad H and W by one

    byte[] weightBytes() {
        ByteBuffer b = ByteBuffer.allocate(100_000).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : mean) {
            b.putFloat(v);
        }
        b.putFloat(SCALE);
        for (int v : PADDINGS) {
            b.putInt(v);
        }
        for (float v : conv) {
            b.putFloat(v);
        }
        b.putFloat(0f);
        for (float v : depthwise) {
            b.putFloat(v);
        }
        b.putFloat(SIX);
        b.putInt(-1).putInt(FLAT);
        for (float v : dense) {
            b.putShort(floatToHalf(v));
        }
        for (float v : bias) {
            b.putFloat(v);
        }
        byte[] out = new byte[b.position()];
        b.flip().get(out);
        return out;
    }

    // --- TensorFlow's semantics, NHWC, written out ---------------------------------------

    float[] reference(float[] x) {
        int h = H;
        float[] t = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            t[i] = (x[i] - mean[i % C]) * SCALE;
        }
        // Pad 1 on each side of H and W → 10 × 10
        int hp = h + 2;
        float[] padded = new float[hp * hp * C];
        for (int y = 0; y < h; y++) {
            for (int xx = 0; xx < h; xx++) {
                System.arraycopy(t, (y * h + xx) * C, padded, ((y + 1) * hp + xx + 1) * C, C);
            }
        }
        // Conv2D 3×3 SAME stride 1 → 10 × 10 × F (SAME pads 1 on each side)
        float[] convOut = new float[hp * hp * F];
        for (int y = 0; y < hp; y++) {
            for (int xx = 0; xx < hp; xx++) {
                for (int o = 0; o < F; o++) {
                    float s = 0;
                    for (int ky = 0; ky < 3; ky++) {
                        for (int kx = 0; kx < 3; kx++) {
                            int iy = y + ky - 1;
                            int ix = xx + kx - 1;
                            if (iy < 0 || ix < 0 || iy >= hp || ix >= hp) {
                                continue;
                            }
                            for (int c = 0; c < C; c++) {
                                s += padded[(iy * hp + ix) * C + c] * conv[((ky * 3 + kx) * C + c) * F + o];
                            }
                        }
                    }
                    convOut[(y * hp + xx) * F + o] = Math.max(s, 0f);
                }
            }
        }
        // Depthwise 3×3 VALID stride 2 → 4 × 4 × F, then Minimum(·, SIX)
        int ho = (hp - 3) / 2 + 1;
        float[] dw = new float[ho * ho * F];
        for (int y = 0; y < ho; y++) {
            for (int xx = 0; xx < ho; xx++) {
                for (int c = 0; c < F; c++) {
                    float s = 0;
                    for (int ky = 0; ky < 3; ky++) {
                        for (int kx = 0; kx < 3; kx++) {
                            s += convOut[((y * 2 + ky) * hp + xx * 2 + kx) * F + c] * depthwise[(ky * 3 + kx) * F + c];
                        }
                    }
                    dw[(y * ho + xx) * F + c] = Math.min(s, SIX);
                }
            }
        }
        // Reshape to [1, ho*ho*F] in NHWC order, MatMul, AddV2
        int flat = ho * ho * F;
        float[] out = new float[OUT];
        for (int o = 0; o < OUT; o++) {
            float s = bias[o];
            for (int i = 0; i < flat; i++) {
                s += dw[i] * dense[i * OUT + o];
            }
            out[o] = s;
        }
        return out;
    }

    @Test
    void theConvertedGraphComputesWhatTensorFlowWould() throws Exception {
        TfjsConverter.Result result = TfjsConverter.convert(modelJson(false), Map.of("group1-shard1of1.bin", weightBytes()));
        assertEquals(List.of("input"), result.inputs());
        assertEquals(List.of("embedding"), result.outputs());
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(result.onnx(), new OrtSession.SessionOptions())) {
            for (int batch = 0; batch < 3; batch++) {
                float[] x = new float[H * H * C];
                for (int i = 0; i < x.length; i++) {
                    x[i] = random.nextFloat() * 255f / 100f;
                }
                float[] expected = reference(x);
                try (OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] { 1, H, H, C });
                        OrtSession.Result out = session.run(Map.of("input", input))) {
                    float[][] actual = (float[][]) out.get(0).getValue();
                    for (int o = 0; o < OUT; o++) {
                        assertEquals(expected[o], actual[0][o], 1e-4 * Math.max(1, Math.abs(expected[o])),
                                "output " + o + " of sample " + batch);
                    }
                }
            }
        }
    }

    @Test
    void unsupportedOpsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TfjsConverter.convert(modelJson(true), Map.of("group1-shard1of1.bin", weightBytes())));
        assertEquals("unsupported TF.js ops: Softmax, TopKV2", e.getMessage());
    }

    @Test
    void missingOrShortWeightFilesAreRefused() {
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> TfjsConverter.convert(modelJson(false), Map.of()));
        assertTrue(missing.getMessage().contains("weight file group1-shard1of1.bin is missing"), missing.getMessage());
        byte[] weights = weightBytes();
        IllegalArgumentException truncated = assertThrows(IllegalArgumentException.class, () -> TfjsConverter.convert(
                modelJson(false), Map.of("group1-shard1of1.bin", java.util.Arrays.copyOf(weights, weights.length - 8))));
        assertTrue(truncated.getMessage().contains("end before weight"), truncated.getMessage());
    }

    @Test
    void halfPrecisionWidensExactly() {
        assertEquals(1.0f, TfjsWeights.halfToFloat((short) 0x3c00));
        assertEquals(-2.0f, TfjsWeights.halfToFloat((short) 0xc000));
        assertEquals(65504f, TfjsWeights.halfToFloat((short) 0x7bff));
        assertEquals(0x1p-24f, TfjsWeights.halfToFloat((short) 0x0001), "subnormal");
        assertTrue(Float.isInfinite(TfjsWeights.halfToFloat((short) 0x7c00)));
    }
}
