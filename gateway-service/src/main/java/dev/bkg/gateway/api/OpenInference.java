package dev.bkg.gateway.api;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.google.protobuf.ByteString;

import dev.bkg.proto.inference.v1.ElementType;
import dev.bkg.proto.inference.v1.ExecutionProvider;
import dev.bkg.proto.inference.v1.InferRequest;
import dev.bkg.proto.inference.v1.InferResponse;
import dev.bkg.proto.inference.v1.Tensor;

/**
 * The KServe / Triton Open Inference Protocol v2 REST shapes — JSON, and the binary tensor extension — to and
 * from the runner's {@link InferRequest} and {@link InferResponse}. Numeric tensors travel as little-endian
 * raw_data (BOOL one byte each), BYTES as string_data, so they must be UTF-8.
 */
public final class OpenInference {

    /**
     * A parsed infer request: the typed request, and for each requested output (in request order) whether it is
     * wanted in binary.
     */
    public record Parsed(InferRequest request, Map<String, Boolean> binaryOutputs, boolean binaryByDefault) {}

    /** The answer's bytes and, when it has a binary part, the length of its JSON header (else -1). */
    public record Rendered(byte[] body, int jsonLength) {
        public String contentType() {
            return jsonLength < 0 ? "application/json" : "application/octet-stream";
        }
    }

    static final int MAX_INPUTS = 256;
    static final int MAX_DIMS = 16;
    static final long MAX_ELEMENTS = 64L << 20;
    private static final Map<String, ElementType> TYPES = Map.of("BOOL", ElementType.BOOL, "UINT8", ElementType.UINT8,
            "INT8", ElementType.INT8, "INT32", ElementType.INT32, "INT64", ElementType.INT64, "FP16", ElementType.FLOAT16,
            "FP32", ElementType.FLOAT, "FP64", ElementType.DOUBLE, "BYTES", ElementType.STRING);
    private static final String SUPPORTED = "one of BOOL, UINT8, INT8, INT32, INT64, FP16, FP32, FP64, BYTES";
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    // trailing tokens fail: a wrong Inference-Header-Content-Length shows up instead of the JSON being half-read
    private static final JsonMapper JSON = JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    private OpenInference() {}

    /** Parses a body; headerLength is the Inference-Header-Content-Length header's value, or null for a plain JSON body. */
    public static Parsed parse(String model, byte[] body, Integer headerLength) {
        int jsonLength = headerLength == null ? body.length : headerLength;
        require(jsonLength >= 0 && jsonLength <= body.length,
                "Inference-Header-Content-Length " + headerLength + " is outside the body's " + body.length + " bytes");
        JsonNode root;
        try {
            root = JSON.readTree(body, 0, jsonLength);
        } catch (IOException e) {
            String why = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            throw bad("the body is not valid JSON: " + why);
        }
        require(root != null && root.isObject(), "the body must be a JSON object");
        InferRequest.Builder request = InferRequest.newBuilder().setModelId(model);
        JsonNode id = root.path("id");
        require(id.isMissingNode() || id.isNull() || id.isTextual(), "\"id\" must be a string");
        request.setId(id.asText(""));
        JsonNode inputs = root.path("inputs");
        require(inputs.isArray() && !inputs.isEmpty(), "\"inputs\" must be a non-empty array");
        require(inputs.size() <= MAX_INPUTS,
                "\"inputs\" has " + inputs.size() + " entries; at most " + MAX_INPUTS + " are accepted");
        ByteBuffer binary = ByteBuffer.wrap(body, jsonLength, body.length - jsonLength).slice();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < inputs.size(); i++) {
            request.addInputs(input(inputs.get(i), "inputs[" + i + "]", names, binary, headerLength != null));
        }
        require(!binary.hasRemaining(), binary.remaining() + " bytes of the binary section are left over: "
                + "no input's binary_data_size claims them");
        boolean byDefault = flag(root, "binary_data_output", "the request", false);
        Map<String, Boolean> binaryOutputs = new LinkedHashMap<>();
        JsonNode outputs = root.path("outputs");
        require(outputs.isMissingNode() || outputs.isNull() || outputs.isArray(), "\"outputs\" must be an array");
        for (int i = 0; i < outputs.size(); i++) {
            String name = name(outputs.get(i), "outputs[" + i + "]");
            require(!binaryOutputs.containsKey(name), "output '" + name + "' is requested twice");
            binaryOutputs.put(name, flag(outputs.get(i), "binary_data", "output '" + name + "'", byDefault));
            request.addOutputNames(name);
        }
        return new Parsed(request.build(), Collections.unmodifiableMap(binaryOutputs), byDefault);
    }

    private static Tensor input(JsonNode in, String at, Set<String> names, ByteBuffer binary, boolean hasBinary) {
        String name = name(in, at);
        String where = "input '" + name + "'";
        require(names.add(name), where + " is given twice");
        JsonNode datatype = in.path("datatype");
        require(datatype.isTextual(), where + " needs a \"datatype\" string");
        ElementType type = TYPES.get(datatype.asText());
        require(type != null, where + ": datatype " + datatype.asText() + " is not supported; " + SUPPORTED);
        JsonNode shape = in.path("shape");
        require(shape.isArray(), where + " needs a \"shape\": an array of non-negative integers");
        require(shape.size() <= MAX_DIMS, where + " has " + shape.size() + " dimensions; at most " + MAX_DIMS + " are accepted");
        Tensor.Builder tensor = Tensor.newBuilder().setName(name).setElementType(type);
        long count = 1;
        for (JsonNode dim : shape) {
            require(dim.isIntegralNumber() && dim.canConvertToLong() && dim.longValue() >= 0,
                    where + " has shape " + shape + ": dimensions must be non-negative integers");
            tensor.addShape(dim.longValue());
            try {
                count = Math.multiplyExact(count, dim.longValue());
            } catch (ArithmeticException e) {
                throw bad(where + " has shape " + shape + ": its element count overflows");
            }
        }
        require(count <= MAX_ELEMENTS, where + " has " + count + " elements; at most " + MAX_ELEMENTS + " are accepted");
        JsonNode data = in.path("data");
        boolean hasData = !data.isMissingNode() && !data.isNull();
        JsonNode claimed = in.path("parameters").path("binary_data_size");
        if (!claimed.isMissingNode() && !claimed.isNull()) {
            require(!hasData, where + " has both \"data\" and binary_data_size");
            require(claimed.isIntegralNumber() && claimed.canConvertToInt() && claimed.intValue() >= 0,
                    where + " has binary_data_size " + claimed + ": it must be a non-negative integer");
            require(hasBinary, where + " has binary_data_size, but the body has no binary section "
                    + "(no Inference-Header-Content-Length)");
            require(claimed.intValue() <= binary.remaining(),
                    where + " claims " + claimed + " bytes of the binary section; only " + binary.remaining() + " are left");
            ByteBuffer part = binary.slice().limit(claimed.intValue()).order(LE);
            binary.position(binary.position() + claimed.intValue());
            if (type == ElementType.STRING) {
                return strings(tensor, part, where, count, shape);
            }
            require(count * size(type) == claimed.intValue(), where + " has binary_data_size " + claimed + "; its shape " + shape
                    + " of " + datatype(type) + " needs " + count * size(type));
            return tensor.setRawData(ByteString.copyFrom(part)).build();
        }
        require(hasData, where + " has neither \"data\" nor binary_data_size");
        require(data.isArray(), where + " has \"data\" that is not an array");
        List<JsonNode> values = new ArrayList<>();
        flatten(data, values);
        require(values.size() == count, where + " has " + values.size() + " values; its shape " + shape + " needs " + count);
        if (type == ElementType.STRING) {
            for (int i = 0; i < values.size(); i++) {
                if (!values.get(i).isTextual()) {
                    throw bad(where + ": value " + values.get(i) + " at index " + i + " is not a string (BYTES)");
                }
                tensor.addStringData(values.get(i).asText());
            }
            return tensor.build();
        }
        ByteBuffer raw = ByteBuffer.allocate((int) count * size(type)).order(LE);
        for (int i = 0; i < values.size(); i++) {
            put(raw, type, values.get(i), where, i);
        }
        return tensor.setRawData(ByteString.copyFrom(raw.array())).build();
    }

    /** BYTES in binary: each element a 4-byte little-endian length, then that many bytes (UTF-8: string_data is a string). */
    private static Tensor strings(Tensor.Builder tensor, ByteBuffer part, String where, long count, JsonNode shape) {
        int n = 0;
        for (; part.hasRemaining(); n++) {
            if (part.remaining() < 4) {
                throw bad(where + ": its binary data ends inside the length of element " + n);
            }
            int length = part.getInt();
            if (length < 0 || length > part.remaining()) {
                throw bad(where + ": element " + n + " claims " + Integer.toUnsignedString(length) + " bytes; only "
                        + part.remaining() + " are left");
            }
            try {
                tensor.addStringData(StandardCharsets.UTF_8.newDecoder().decode(part.slice().limit(length)).toString());
            } catch (CharacterCodingException e) {
                throw bad(where + ": element " + n + " is not valid UTF-8");
            }
            part.position(part.position() + length);
        }
        require(n == count, where + " has " + n + " values; its shape " + shape + " needs " + count);
        return tensor.build();
    }

    /** Nested arrays are read depth-first: the protocol allows them as well as flat row-major data. */
    private static void flatten(JsonNode node, List<JsonNode> into) {
        if (!node.isArray()) {
            into.add(node);
            return;
        }
        for (JsonNode child : node) {
            flatten(child, into);
        }
    }

    private static void put(ByteBuffer raw, ElementType type, JsonNode v, String where, int i) {
        switch (type) {
            case BOOL -> {
                if (!v.isBoolean()) {
                    throw bad(where + ": value " + v + " at index " + i + " is not a BOOL (true or false)");
                }
                raw.put((byte) (v.booleanValue() ? 1 : 0));
            }
            case UINT8 -> raw.put((byte) integral(v, 0, 255, type, where, i));
            case INT8 -> raw.put((byte) integral(v, Byte.MIN_VALUE, Byte.MAX_VALUE, type, where, i));
            case INT32 -> raw.putInt((int) integral(v, Integer.MIN_VALUE, Integer.MAX_VALUE, type, where, i));
            case INT64 -> raw.putLong(integral(v, Long.MIN_VALUE, Long.MAX_VALUE, type, where, i));
            case FLOAT16 -> raw.putShort(toHalf((float) real(v, type, where, i)));
            case FLOAT -> raw.putFloat((float) real(v, type, where, i));
            default -> raw.putDouble(real(v, type, where, i));
        }
    }

    // a JSON float (even 1.0) for an integer type is refused, as Triton does: it hints at the wrong datatype
    private static long integral(JsonNode v, long min, long max, ElementType type, String where, int i) {
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < min || v.longValue() > max) {
            throw bad(where + ": value " + v + " at index " + i + " is not a " + datatype(type) + " (an integer from "
                    + min + " to " + max + ")");
        }
        return v.longValue();
    }

    // the strings "NaN", "Infinity", "-Infinity" are taken too: render writes them so, JSON having no such numbers
    private static double real(JsonNode v, ElementType type, String where, int i) {
        if (v.isNumber()) {
            return v.doubleValue();
        }
        switch (v.isTextual() ? v.asText() : "") {
            case "NaN": return Double.NaN;
            case "Infinity": return Double.POSITIVE_INFINITY;
            case "-Infinity": return Double.NEGATIVE_INFINITY;
            default: throw bad(where + ": value " + v + " at index " + i + " is not a " + datatype(type) + " (a number)");
        }
    }

    /** Renders the answer in the protocol's shape. */
    public static Rendered render(String modelName, InferResponse response, Parsed asked) {
        ByteArrayOutputStream json = new ByteArrayOutputStream();
        ByteArrayOutputStream binary = new ByteArrayOutputStream();
        boolean anyBinary = false;
        try (JsonGenerator g = JSON.getFactory().createGenerator(json)) {
            g.writeStartObject();
            g.writeStringField("model_name", modelName);
            g.writeStringField("model_version", "1");
            String id = response.getId().isEmpty() ? asked.request().getId() : response.getId();
            if (!id.isEmpty()) {
                g.writeStringField("id", id);
            }
            g.writeObjectFieldStart("parameters");
            g.writeNumberField("duration_us", response.getDurationUs());
            g.writeNumberField("queue_us", response.getQueueUs());
            g.writeNumberField("batch_requests", response.getBatchRequests());
            ExecutionProvider provider = response.getProvider();
            if (provider == ExecutionProvider.CPU || provider == ExecutionProvider.CUDA) {
                g.writeStringField("provider", provider.name());
            }
            g.writeEndObject();
            g.writeArrayFieldStart("outputs");
            for (Tensor t : response.getOutputsList()) {
                g.writeStartObject();
                g.writeStringField("name", t.getName());
                g.writeStringField("datatype", datatype(t.getElementType()));
                g.writeArrayFieldStart("shape");
                for (long dim : t.getShapeList()) {
                    g.writeNumber(dim);
                }
                g.writeEndArray();
                if (asked.binaryOutputs().getOrDefault(t.getName(), asked.binaryByDefault())) {
                    anyBinary = true;
                    int before = binary.size();
                    if (t.getElementType() == ElementType.STRING) {
                        for (ByteString s : t.getStringDataList().asByteStringList()) {
                            binary.writeBytes(ByteBuffer.allocate(4).order(LE).putInt(s.size()).array());
                            binary.writeBytes(s.toByteArray());
                        }
                    } else {
                        binary.writeBytes(raw(t).array());
                    }
                    g.writeObjectFieldStart("parameters");
                    g.writeNumberField("binary_data_size", binary.size() - before);
                    g.writeEndObject();
                } else {
                    g.writeArrayFieldStart("data");
                    writeValues(t, g);
                    g.writeEndArray();
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int jsonLength = json.size();
        json.writeBytes(binary.toByteArray());
        return new Rendered(json.toByteArray(), anyBinary ? jsonLength : -1);
    }

    private static void writeValues(Tensor t, JsonGenerator g) throws IOException {
        if (t.getElementType() == ElementType.STRING) {
            for (String s : t.getStringDataList()) {
                g.writeString(s);
            }
            return;
        }
        ByteBuffer raw = raw(t);
        while (raw.hasRemaining()) {
            switch (t.getElementType()) {
                case BOOL -> g.writeBoolean(raw.get() != 0);
                case UINT8 -> g.writeNumber(raw.get() & 0xFF);
                case INT8 -> g.writeNumber(raw.get());
                case INT32 -> g.writeNumber(raw.getInt());
                case INT64 -> g.writeNumber(raw.getLong());
                case FLOAT16 -> writeReal(g, toFloat(raw.getShort()), true);
                case FLOAT -> writeReal(g, raw.getFloat(), true);
                default -> writeReal(g, raw.getDouble(), false);
            }
        }
    }

    // JSON has no NaN or infinities and the protocol names none: the strings "NaN", "Infinity", "-Infinity" stand for them
    private static void writeReal(JsonGenerator g, double v, boolean single) throws IOException {
        if (!Double.isFinite(v)) {
            g.writeString(Double.toString(v));
        } else if (single) {
            g.writeNumber((float) v); // printed as the float it is: 0.1, not 0.10000000149011612
        } else {
            g.writeNumber(v);
        }
    }

    /**
     * A numeric tensor's values as little-endian bytes: raw_data, or else its typed field (the runner sends raw_data,
     * but by the proto a tensor in its typed field is as valid). A backing array from 0 to its end.
     */
    static ByteBuffer raw(Tensor t) {
        int size = size(t.getElementType());
        if (!t.getRawData().isEmpty()) {
            return check(t, ByteBuffer.wrap(t.getRawData().toByteArray()).order(LE), size);
        }
        return check(t, switch (t.getElementType()) {
            case FLOAT -> fill(t.getFloatDataCount(), size, out -> t.getFloatDataList().forEach(out::putFloat));
            case INT64 -> fill(t.getInt64DataCount(), size, out -> t.getInt64DataList().forEach(out::putLong));
            case INT32 -> fill(t.getInt32DataCount(), size, out -> t.getInt32DataList().forEach(out::putInt));
            case DOUBLE -> fill(t.getDoubleDataCount(), size, out -> t.getDoubleDataList().forEach(out::putDouble));
            case BOOL -> fill(t.getBoolDataCount(), size, out -> t.getBoolDataList().forEach(v -> out.put((byte) (v ? 1 : 0))));
            default -> ByteBuffer.allocate(0); // FP16, UINT8 and INT8 have only raw_data
        }, size);
    }

    private static ByteBuffer check(Tensor t, ByteBuffer b, int size) {
        if (b.remaining() % size != 0) { // the runner's fault, not the caller's: a 500
            throw new IllegalStateException("output '" + t.getName() + "' has " + b.remaining()
                    + " bytes of raw data: not a whole number of " + datatype(t.getElementType()) + " values");
        }
        return b;
    }

    private static ByteBuffer fill(int count, int size, Consumer<ByteBuffer> writer) {
        ByteBuffer b = ByteBuffer.allocate(count * size).order(LE);
        writer.accept(b);
        return b.flip();
    }

    /** "FP32" etc. for an ElementType (IllegalArgumentException for one the protocol cannot name: a server-side fault). */
    public static String datatype(ElementType type) {
        return switch (type) {
            case BOOL, UINT8, INT8, INT32, INT64 -> type.name();
            case FLOAT16 -> "FP16";
            case FLOAT -> "FP32";
            case DOUBLE -> "FP64";
            case STRING -> "BYTES";
            default -> throw new IllegalArgumentException("element type " + type + " has no Open Inference datatype");
        };
    }

    /** The ElementType of a protocol datatype (400 naming the supported ones for anything else). */
    public static ElementType elementType(String datatype) {
        ElementType type = datatype == null ? null : TYPES.get(datatype);
        require(type != null, "datatype " + datatype + " is not supported; " + SUPPORTED);
        return type;
    }

    private static int size(ElementType type) {
        return switch (type) {
            case FLOAT16 -> 2;
            case INT32, FLOAT -> 4;
            case INT64, DOUBLE -> 8;
            default -> 1; // BOOL, UINT8, INT8
        };
    }

    /** IEEE 754 binary32 to binary16, rounding to nearest even; overflow gives infinity, a NaN stays a (quiet) NaN. */
    static short toHalf(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xFF;
        int mant = bits & 0x7FFFFF;
        int e = exp - 127 + 15;
        if (exp == 0xFF) {
            return (short) (sign | 0x7C00 | (mant == 0 ? 0 : 0x200 | mant >>> 13));
        } else if (e >= 0x1F) {
            return (short) (sign | 0x7C00);
        } else if (e < -10) {
            return (short) sign; // below half the smallest subnormal: zero
        }
        // normal: keep 10 of the 23 mantissa bits, a carry rightly bumping the exponent (up to infinity);
        // subnormal: the value in units of 2^-24, the implicit bit included
        int full = e > 0 ? e << 23 | mant : 0x800000 | mant;
        int shift = e > 0 ? 13 : 14 - e;
        int h = full >>> shift;
        int rest = full & ((1 << shift) - 1);
        int half = 1 << (shift - 1);
        return (short) (sign | (rest > half || rest == half && (h & 1) == 1 ? h + 1 : h));
    }

    /** IEEE 754 binary16 to binary32 (exact). */
    static float toFloat(short half) {
        int sign = (half & 0x8000) << 16;
        int exp = (half >>> 10) & 0x1F;
        int mant = half & 0x3FF;
        if (exp == 0) {
            float v = mant * 0x1p-24f; // subnormal or zero
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | (exp == 0x1F ? 0xFF : exp + 112) << 23 | mant << 13);
    }

    private static String name(JsonNode entry, String at) {
        require(entry.isObject(), at + " must be an object");
        require(entry.path("name").isTextual() && !entry.get("name").asText().isEmpty(), at + " needs a non-empty \"name\"");
        return entry.get("name").asText();
    }

    private static boolean flag(JsonNode owner, String key, String where, boolean otherwise) {
        JsonNode value = owner.path("parameters").path(key);
        if (value.isMissingNode() || value.isNull()) {
            return otherwise;
        }
        require(value.isBoolean(), where + ": parameter " + key + " must be true or false, not " + value);
        return value.booleanValue();
    }

    private static void require(boolean ok, String problem) {
        if (!ok) {
            throw bad(problem);
        }
    }

    private static ProblemException bad(String detail) {
        return ProblemException.badRequest(detail);
    }
}
