package dev.bkg.model.importer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The weights of a TF.js graph model: each manifest group's shard files are one byte stream, its
 * weights laid out one after the other. float32 and int32 are read as they are; float16
 * (quantization dtype "float16") is widened to float32; uint8/uint16 affine quantization is
 * dequantized with its scale and min.
 */
final class TfjsWeights {

    record Tensor(String dtype, long[] shape, float[] floats, int[] ints) {
        int size() {
            return floats != null ? floats.length : ints.length;
        }
    }

    static final long MAX_ELEMENTS = 512L * 1024 * 1024;

    static Map<String, Tensor> read(JsonNode manifest, Map<String, byte[]> files) {
        Map<String, Tensor> weights = new HashMap<>();
        if (manifest == null || !manifest.isArray()) {
            throw new IllegalArgumentException("model.json has no weightsManifest");
        }
        for (JsonNode group : manifest) {
            ByteBuffer data = concat(group.path("paths"), files);
            for (JsonNode w : group.path("weights")) {
                String name = w.path("name").asText();
                long[] shape = shape(w.path("shape"));
                long count = 1;
                for (long d : shape) {
                    if (d < 0) {
                        throw new IllegalArgumentException("weight " + name + " has a negative dimension");
                    }
                    count = Math.multiplyExact(count, d);
                }
                if (count > MAX_ELEMENTS) {
                    throw new IllegalArgumentException("weight " + name + " is too large");
                }
                int n = (int) count;
                String dtype = w.path("dtype").asText("float32");
                JsonNode q = w.path("quantization");
                String stored = q.isMissingNode() ? dtype : q.path("dtype").asText();
                int bytes = switch (stored) {
                    case "float32", "int32" -> 4;
                    case "float16", "uint16" -> 2;
                    case "uint8" -> 1;
                    default -> throw new IllegalArgumentException("weight " + name + ": unsupported dtype " + stored);
                };
                if (data.remaining() < (long) n * bytes) {
                    throw new IllegalArgumentException("the weight files end before weight " + name);
                }
                if (dtype.equals("int32") && stored.equals("int32")) {
                    int[] ints = new int[n];
                    data.asIntBuffer().get(ints);
                    data.position(data.position() + n * 4);
                    weights.put(name, new Tensor("int32", shape, null, ints));
                    continue;
                }
                if (!dtype.equals("float32")) {
                    throw new IllegalArgumentException("weight " + name + ": unsupported dtype " + dtype);
                }
                float[] floats = new float[n];
                switch (stored) {
                    case "float32" -> {
                        data.asFloatBuffer().get(floats);
                        data.position(data.position() + n * 4);
                    }
                    case "float16" -> {
                        for (int i = 0; i < n; i++) {
                            floats[i] = halfToFloat(data.getShort());
                        }
                    }
                    default -> {
                        double scale = q.path("scale").asDouble();
                        double min = q.path("min").asDouble();
                        for (int i = 0; i < n; i++) {
                            int v = bytes == 1 ? Byte.toUnsignedInt(data.get()) : Short.toUnsignedInt(data.getShort());
                            floats[i] = (float) (v * scale + min);
                        }
                    }
                }
                weights.put(name, new Tensor("float32", shape, floats, null));
            }
        }
        return weights;
    }

    private static ByteBuffer concat(JsonNode paths, Map<String, byte[]> files) {
        int total = 0;
        List<byte[]> parts = new java.util.ArrayList<>();
        for (JsonNode path : paths) {
            String name = path.asText();
            byte[] part = files.get(name.substring(name.lastIndexOf('/') + 1));
            if (part == null) {
                throw new IllegalArgumentException("weight file " + name + " is missing");
            }
            parts.add(part);
            total = Math.addExact(total, part.length);
        }
        ByteBuffer all = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        parts.forEach(all::put);
        all.flip();
        return all;
    }

    static long[] shape(JsonNode dims) {
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = dims.get(i).asLong();
        }
        return shape;
    }

    /** IEEE 754 binary16 → binary32. */
    static float halfToFloat(short half) {
        int h = half & 0xffff;
        int sign = (h >>> 15) << 31;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        if (exponent == 0) {
            return Float.intBitsToFloat(sign) + (sign == 0 ? 1 : -1) * mantissa * 0x1p-24f;
        }
        if (exponent == 31) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
    }
}
