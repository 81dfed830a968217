package dev.bkg.gateway.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;

import dev.bkg.proto.inference.v1.ElementType;
import dev.bkg.proto.inference.v1.ExecutionProvider;
import dev.bkg.proto.inference.v1.InferResponse;
import dev.bkg.proto.inference.v1.Tensor;

class OpenInferenceTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Test
    void fp32FlatAndNestedDataBecomeLittleEndianRawData() {
        byte[] expected = le(16).putFloat(1f).putFloat(2.5f).putFloat(-3f).putFloat(0.1f).array();
        for (String data : List.of("[1, 2.5, -3, 0.1]", "[[1, 2.5], [-3, 0.1]]")) {
            Tensor x = single("FP32", "[2, 2]", data);
            assertEquals("x", x.getName());
            assertEquals(ElementType.FLOAT, x.getElementType());
            assertEquals(List.of(2L, 2L), x.getShapeList());
            assertArrayEquals(expected, x.getRawData().toByteArray(), data);
        }
        // deeper nesting is read depth-first too
        assertArrayEquals(le(8).putFloat(1f).putFloat(2f).array(),
                single("FP32", "[1, 1, 2]", "[[[1, 2]]]").getRawData().toByteArray());
    }

    @Test
    void everyDatatypeIsEncoded() {
        assertArrayEquals(le(16).putLong(Long.MAX_VALUE).putLong(-1).array(),
                single("INT64", "[2]", "[9223372036854775807, -1]").getRawData().toByteArray());
        assertArrayEquals(le(8).putInt(Integer.MIN_VALUE).putInt(7).array(),
                single("INT32", "[2]", "[-2147483648, 7]").getRawData().toByteArray());
        assertArrayEquals(new byte[] {0, (byte) 255}, single("UINT8", "[2]", "[0, 255]").getRawData().toByteArray());
        assertArrayEquals(new byte[] {-128, 127}, single("INT8", "[2]", "[-128, 127]").getRawData().toByteArray());
        assertArrayEquals(new byte[] {1, 0, 1}, single("BOOL", "[3]", "[true, false, true]").getRawData().toByteArray());
        assertArrayEquals(le(16).putDouble(1e300).putDouble(-0.5).array(),
                single("FP64", "[2]", "[1e300, -0.5]").getRawData().toByteArray());
        assertArrayEquals(le(4).putShort((short) 0x3C00).putShort((short) 0x7BFF).array(),
                single("FP16", "[2]", "[1.0, 65504]").getRawData().toByteArray());
        Tensor bytes = single("BYTES", "[1, 2]", "[[\"a\", \"é\"]]");
        assertEquals(ElementType.STRING, bytes.getElementType());
        assertEquals(List.of("a", "é"), bytes.getStringDataList());
        assertTrue(bytes.getRawData().isEmpty());
        // the strings render writes for non-finite numbers are read back; an empty shape is a scalar
        assertArrayEquals(le(4).putFloat(Float.NaN).array(), single("FP32", "[]", "[\"NaN\"]").getRawData().toByteArray());
        assertEquals(0, single("FP32", "[0, 3]", "[]").getRawData().size());
    }

    @Test
    void datatypesMapBothWays() {
        Map<String, ElementType> pairs = Map.of("BOOL", ElementType.BOOL, "UINT8", ElementType.UINT8, "INT8", ElementType.INT8,
                "INT32", ElementType.INT32, "INT64", ElementType.INT64, "FP16", ElementType.FLOAT16, "FP32", ElementType.FLOAT,
                "FP64", ElementType.DOUBLE, "BYTES", ElementType.STRING);
        pairs.forEach((name, type) -> {
            assertEquals(type, OpenInference.elementType(name));
            assertEquals(name, OpenInference.datatype(type));
        });
        for (String other : List.of("UINT16", "UINT32", "UINT64", "INT16", "BF16", "fp32", "FLOAT")) {
            ProblemException e = assertThrows(ProblemException.class, () -> OpenInference.elementType(other));
            assertEquals(400, e.status());
            assertEquals("datatype " + other + " is not supported; one of BOOL, UINT8, INT8, INT32, INT64, FP16, FP32, FP64, BYTES",
                    e.getMessage());
        }
    }

    @Test
    void halfPrecisionConversionIsExact() {
        assertEquals(0x3C00, half(1.0f));
        assertEquals(0x7BFF, half(65504f));
        assertEquals(0x0400, half(6.1035e-5f)); // rounds up to the smallest normal
        assertEquals(0x0400, half(0x1p-14f));
        assertEquals(0x0001, half(5.96e-8f)); // the smallest subnormal
        assertEquals(0x03FF, half(0x3FFp-24f)); // the largest subnormal
        assertEquals(0x7C00, half(1e6f));
        assertEquals(0xFC00, half(-1e6f));
        assertEquals(0x7C00, half(65520f)); // halfway to the next: to even, which is infinity
        assertEquals(0xC100, half(-2.5f));
        assertEquals(0x0000, half(0f));
        assertEquals(0x8000, half(-0f));
        assertEquals(0x0000, half(0x1p-25f)); // halfway to the smallest subnormal: to even (zero)
        assertEquals(0x0001, half(0x1.01p-25f));
        assertEquals(0x0002, half(0x3p-25f)); // 1.5 units: to even
        assertEquals(0x3C00, half(1f + 0x1p-11f)); // halfway: to even
        assertEquals(0x3C02, half(1f + 0x3p-11f)); // halfway: to even (up)
        assertEquals(0x3C01, half(1f + 0x1.01p-11f));
        assertEquals(0x7C00, half(Float.POSITIVE_INFINITY));
        assertEquals(0, half(Float.MIN_VALUE));
        int nan = half(Float.NaN);
        assertEquals(0x7C00, nan & 0x7C00);
        assertTrue((nan & 0x3FF) != 0);

        assertEquals(1.0f, OpenInference.toFloat((short) 0x3C00));
        assertEquals(65504f, OpenInference.toFloat((short) 0x7BFF));
        assertEquals(0x1p-14f, OpenInference.toFloat((short) 0x0400));
        assertEquals(0x1p-24f, OpenInference.toFloat((short) 0x0001));
        assertEquals(Float.POSITIVE_INFINITY, OpenInference.toFloat((short) 0x7C00));
        assertEquals(Float.NEGATIVE_INFINITY, OpenInference.toFloat((short) 0xFC00));
        assertEquals(-2.5f, OpenInference.toFloat((short) 0xC100));
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(OpenInference.toFloat((short) 0x8000)));
        assertTrue(Float.isNaN(OpenInference.toFloat((short) 0x7E00)));
        // every half survives the trip through float
        for (int h = 0; h < 0x10000; h++) {
            float f = OpenInference.toFloat((short) h);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(OpenInference.toFloat(OpenInference.toHalf(f))));
            } else {
                assertEquals(h, half(f), () -> Float.toString(f));
            }
        }
    }

    @Test
    void requestFieldsAndOutputChoicesAreRead() {
        OpenInference.Parsed parsed = OpenInference.parse("m1", utf8("""
                {"id": "r-1", "parameters": {"binary_data_output": true},
                 "inputs": [{"name": "x", "shape": [1], "datatype": "INT32", "data": [1]}],
                 "outputs": [{"name": "b"}, {"name": "a", "parameters": {"binary_data": false}}]}"""), null);
        assertEquals("m1", parsed.request().getModelId());
        assertEquals("r-1", parsed.request().getId());
        assertEquals(List.of("b", "a"), parsed.request().getOutputNamesList());
        assertEquals(List.of("b", "a"), List.copyOf(parsed.binaryOutputs().keySet()));
        assertEquals(true, parsed.binaryOutputs().get("b"));
        assertEquals(false, parsed.binaryOutputs().get("a"));
        assertTrue(parsed.binaryByDefault());

        OpenInference.Parsed plain = parse("{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"INT32\", \"data\": [1]}]}");
        assertEquals("", plain.request().getId());
        assertFalse(plain.binaryByDefault());
        assertTrue(plain.binaryOutputs().isEmpty());
        assertEquals(0, plain.request().getOutputNamesCount());
    }

    @Test
    void binaryInputsAreReadInOrder() {
        String json = """
                {"inputs": [
                  {"name": "f", "shape": [2], "datatype": "FP32", "parameters": {"binary_data_size": 8}},
                  {"name": "j", "shape": [1], "datatype": "INT8", "data": [5]},
                  {"name": "s", "shape": [2], "datatype": "BYTES", "parameters": {"binary_data_size": 13}}]}""";
        byte[] floats = le(8).putFloat(1.5f).putFloat(-2f).array();
        byte[] strings = concat(le(4).putInt(3).array(), utf8("abc"), le(4).putInt(2).array(), utf8("é"));
        OpenInference.Parsed parsed = OpenInference.parse("m", concat(utf8(json), floats, strings), utf8(json).length);
        List<Tensor> inputs = parsed.request().getInputsList();
        assertArrayEquals(floats, inputs.get(0).getRawData().toByteArray());
        assertArrayEquals(new byte[] {5}, inputs.get(1).getRawData().toByteArray());
        assertEquals(List.of("abc", "é"), inputs.get(2).getStringDataList());
        // a header length equal to the body's: no binary section, plain JSON inputs
        byte[] plain = utf8("{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"BOOL\", \"data\": [true]}]}");
        assertArrayEquals(new byte[] {1}, OpenInference.parse("m", plain, plain.length).request().getInputs(0).getRawData().toByteArray());
    }

    @Test
    void badInputsAre400sNamingTheInput() {
        String x = "{\"inputs\": [{\"name\": \"x\", \"shape\": %s, \"datatype\": \"%s\", \"data\": %s}]}";
        assertEquals("input 'x' has 5 values; its shape [2,3] needs 6",
                bad(String.format(x, "[2, 3]", "FP32", "[1, 2, 3, 4, 5]")).getMessage());
        assertBad(String.format(x, "[2, 3]", "FP32", "[[1, 2, 3], [4, 5, 6], [7]]"), "'x'", "7 values");
        assertBad(String.format(x, "[1]", "UINT16", "[1]"), "'x'",
                "datatype UINT16 is not supported; one of BOOL, UINT8, INT8, INT32, INT64, FP16, FP32, FP64, BYTES");
        assertBad(String.format(x, "[1]", "BF16", "[1]"), "'x'", "BF16 is not supported");
        assertBad(String.format(x, "[1]", "COMPLEX", "[1]"), "'x'", "COMPLEX is not supported");
        for (String[] typeAndValue : new String[][] {{"UINT8", "256"}, {"UINT8", "-1"}, {"INT8", "128"}, {"INT8", "-129"},
                {"INT32", "2147483648"}, {"INT64", "9223372036854775808"}, {"INT32", "1.5"}, {"INT64", "1.0"}, {"UINT8", "true"},
                {"BOOL", "1"}, {"BYTES", "1"}, {"FP32", "\"one\""}, {"FP16", "null"}, {"FP64", "{}"}}) {
            assertBad(String.format(x, "[1]", typeAndValue[0], "[" + typeAndValue[1] + "]"), "'x'", typeAndValue[0]);
        }
        assertBad(String.format(x, "[1]", "FP32", "1"), "'x'", "not an array");
        assertBad(String.format(x, "[-1]", "FP32", "[]"), "'x'", "non-negative");
        assertBad(String.format(x, "[1.5]", "FP32", "[1]"), "'x'", "non-negative integers");
        assertBad(String.format(x, "2", "FP32", "[1]"), "'x'", "shape");
        assertBad(String.format(x, "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]", "FP32", "[1]"), "'x'", "17 dimensions");
        assertBad(String.format(x, "[4294967296, 4294967296]", "FP32", "[1]"), "'x'", "overflows");
        assertBad(String.format(x, "[65536, 1025]", "FP32", "[1]"), "'x'", "at most 67108864");
        assertBad("{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"data\": [1]}]}", "'x'", "datatype");
        assertBad("{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP32\"}]}", "'x'", "neither");
        assertBad("{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"data\": [1]}]}", "'x'", "shape");
        assertBad("{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]},"
                + " {\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}]}", "'x'", "twice");
        assertBad("{\"inputs\": [{\"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}]}", "inputs[0]", "name");
        assertBad("{\"inputs\": [{\"name\": \"\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}]}", "inputs[0]", "name");
        assertBad("{\"inputs\": [1]}", "inputs[0]", "object");
        assertBad("{\"inputs\": []}", "inputs", "non-empty");
        assertBad("{\"inputs\": {}}", "inputs", "array");
        assertBad("{}", "inputs");
        assertBad("[1]", "JSON object");
        assertBad("{\"inputs\": ", "not valid JSON");
        assertBad("", "JSON object");
        assertBad("{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}]} {}", "not valid JSON");
        assertBad("{\"id\": 5, \"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}]}", "\"id\"");
        StringBuilder many = new StringBuilder("{\"inputs\": [");
        for (int i = 0; i <= 256; i++) {
            many.append(i == 0 ? "" : ",").append("{\"name\": \"i").append(i).append("\", \"shape\": [1], \"datatype\": \"INT8\", \"data\": [1]}");
        }
        assertBad(many.append("]}").toString(), "257", "256");
        String output = "{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}], \"outputs\": %s}";
        assertBad(String.format(output, "[{\"name\": \"y\"}, {\"name\": \"y\"}]"), "'y'", "twice");
        assertBad(String.format(output, "[{\"name\": \"y\", \"parameters\": {\"binary_data\": \"yes\"}}]"), "'y'", "binary_data");
        assertBad(String.format(output, "[{}]"), "outputs[0]", "name");
        assertBad(String.format(output, "{}"), "outputs", "array");
    }

    @Test
    void badBinarySectionsAre400sNamingTheInput() {
        String f = "{\"inputs\": [{\"name\": \"f\", \"shape\": [2], \"datatype\": \"FP32\", \"parameters\": {\"binary_data_size\": %s}}]}";
        String s = "{\"inputs\": [{\"name\": \"s\", \"shape\": [%s], \"datatype\": \"BYTES\", \"parameters\": {\"binary_data_size\": %s}}]}";
        assertBadBinary(String.format(f, 4), new byte[4], "'f'", "binary_data_size 4", "needs 8");
        assertBadBinary(String.format(f, 8), new byte[4], "'f'", "claims 8", "only 4");
        assertBadBinary(String.format(f, 8), new byte[12], "4 bytes", "left over");
        assertBadBinary(String.format(f, -8), new byte[8], "'f'", "non-negative");
        assertBadBinary(String.format(s, 1, 5), concat(le(4).putInt(1).array(), new byte[] {(byte) 0xC3}), "'s'", "UTF-8");
        assertBadBinary(String.format(s, 1, 5), concat(le(4).putInt(9).array(), new byte[] {'a'}), "'s'", "claims 9");
        assertBadBinary(String.format(s, 1, 6), concat(le(4).putInt(1).array(), new byte[] {'a', 0}), "'s'", "length of element 1");
        assertBadBinary(String.format(s, 2, 5), concat(le(4).putInt(1).array(), new byte[] {'a'}), "'s'", "1 values", "needs 2");
        assertBadBinary(String.format(s, 1, 0), new byte[0], "'s'", "0 values", "needs 1");
        String both = "{\"inputs\": [{\"name\": \"f\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1],"
                + " \"parameters\": {\"binary_data_size\": 4}}]}";
        assertBadBinary(both, new byte[4], "'f'", "both");
        // binary_data_size with no Inference-Header-Content-Length
        assertBad(String.format(f, 8), "'f'", "no binary section");
        byte[] body = utf8(String.format(f, 8));
        for (int length : new int[] {-1, body.length + 1}) {
            ProblemException e = assertThrows(ProblemException.class, () -> OpenInference.parse("m", body, length));
            assertEquals(400, e.status());
            assertTrue(e.getMessage().contains("Inference-Header-Content-Length"), e.getMessage());
        }
    }

    @Test
    void rendersJson() throws Exception {
        InferResponse response = InferResponse.newBuilder().setId("r-7").setDurationUs(1200).setQueueUs(30).setBatchRequests(2)
                .setProvider(ExecutionProvider.CPU)
                .addOutputs(tensor("y", ElementType.FLOAT, le(16).putFloat(1.5f).putFloat(Float.NaN)
                        .putFloat(Float.NEGATIVE_INFINITY).putFloat(0.1f).array(), 2, 2))
                .addOutputs(tensor("h", ElementType.FLOAT16, le(4).putShort((short) 0xC100).putShort((short) 0x7C00).array(), 2))
                .addOutputs(tensor("l", ElementType.INT64, le(8).putLong(-5).array(), 1))
                .addOutputs(tensor("u", ElementType.UINT8, new byte[] {(byte) 200, 1}, 2))
                .addOutputs(tensor("i", ElementType.INT8, new byte[] {-3}, 1))
                .addOutputs(tensor("b", ElementType.BOOL, new byte[] {1, 0}, 2))
                .addOutputs(tensor("d", ElementType.DOUBLE, le(8).putDouble(0.25).array(), 1))
                .addOutputs(Tensor.newBuilder().setName("s").setElementType(ElementType.STRING).addShape(2)
                        .addStringData("a").addStringData("é"))
                .build();
        OpenInference.Rendered rendered = OpenInference.render("my-model", response, parse(
                "{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}]}"));
        assertEquals(-1, rendered.jsonLength());
        assertEquals("application/json", rendered.contentType());
        JsonNode json = MAPPER.readTree(rendered.body());
        assertEquals("my-model", json.get("model_name").asText());
        assertEquals("1", json.get("model_version").asText());
        assertEquals("r-7", json.get("id").asText());
        assertEquals(MAPPER.readTree("{\"duration_us\": 1200, \"queue_us\": 30, \"batch_requests\": 2, \"provider\": \"CPU\"}"),
                json.get("parameters"));
        JsonNode y = json.get("outputs").get(0);
        assertEquals("y", y.get("name").asText());
        assertEquals("FP32", y.get("datatype").asText());
        assertEquals("[2,2]", y.get("shape").toString());
        assertEquals("[1.5,\"NaN\",\"-Infinity\",0.1]", y.get("data").toString());
        assertEquals("[-2.5,\"Infinity\"]", output(json, "h").get("data").toString());
        assertEquals("FP16", output(json, "h").get("datatype").asText());
        assertEquals("[-5]", output(json, "l").get("data").toString());
        assertEquals("[200,1]", output(json, "u").get("data").toString());
        assertEquals("[-3]", output(json, "i").get("data").toString());
        assertEquals("[true,false]", output(json, "b").get("data").toString());
        assertEquals("[0.25]", output(json, "d").get("data").toString());
        assertEquals("[\"a\",\"é\"]", output(json, "s").get("data").toString());
        assertEquals("BYTES", output(json, "s").get("datatype").asText());
        assertFalse(y.has("parameters"));

        // no id anywhere: none written; the request's id is echoed when the response has none
        InferResponse bare = InferResponse.newBuilder().build();
        assertFalse(MAPPER.readTree(OpenInference.render("m", bare, parse(
                "{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}]}")).body()).has("id"));
        assertEquals("q", MAPPER.readTree(OpenInference.render("m", bare, parse(
                "{\"id\": \"q\", \"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}]}")).body())
                .get("id").asText());
    }

    @Test
    void rendersBinaryOutputsAfterTheJson() throws Exception {
        byte[] floats = le(8).putFloat(1.5f).putFloat(-2f).array();
        InferResponse response = InferResponse.newBuilder()
                .addOutputs(tensor("y", ElementType.FLOAT, floats, 2))
                .addOutputs(tensor("k", ElementType.INT32, le(4).putInt(9).array(), 1))
                .addOutputs(Tensor.newBuilder().setName("s").setElementType(ElementType.STRING).addShape(2)
                        .addStringData("abc").addStringData("é"))
                .build();
        // y and s in binary (s by the request's default), k asked in JSON
        OpenInference.Parsed asked = parse("{\"parameters\": {\"binary_data_output\": true},"
                + " \"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}],"
                + " \"outputs\": [{\"name\": \"y\", \"parameters\": {\"binary_data\": true}},"
                + " {\"name\": \"k\", \"parameters\": {\"binary_data\": false}}]}");
        OpenInference.Rendered rendered = OpenInference.render("m", response, asked);
        assertEquals("application/octet-stream", rendered.contentType());
        assertTrue(rendered.jsonLength() > 0);
        JsonNode json = MAPPER.readTree(Arrays.copyOf(rendered.body(), rendered.jsonLength()));
        assertEquals(8, output(json, "y").get("parameters").get("binary_data_size").asInt());
        assertFalse(output(json, "y").has("data"));
        assertEquals("[9]", output(json, "k").get("data").toString());
        assertFalse(output(json, "k").has("parameters"));
        assertEquals(13, output(json, "s").get("parameters").get("binary_data_size").asInt());
        byte[] expected = concat(floats, le(4).putInt(3).array(), utf8("abc"), le(4).putInt(2).array(), utf8("é"));
        assertArrayEquals(expected, Arrays.copyOfRange(rendered.body(), rendered.jsonLength(), rendered.body().length));

        // what render writes, parse reads back as inputs
        String header = new String(rendered.body(), 0, rendered.jsonLength(), StandardCharsets.UTF_8)
                .replace("\"outputs\"", "\"inputs\"");
        OpenInference.Parsed back = OpenInference.parse("m", concat(utf8(header), expected), utf8(header).length);
        assertArrayEquals(floats, back.request().getInputs(0).getRawData().toByteArray());
        assertEquals(List.of("abc", "é"), back.request().getInputs(2).getStringDataList());
    }

    @Test
    void typedOutputFieldsAreAccepted() throws Exception {
        InferResponse response = InferResponse.newBuilder()
                .addOutputs(Tensor.newBuilder().setName("f").setElementType(ElementType.FLOAT).addShape(2).addFloatData(0.5f).addFloatData(-1f))
                .addOutputs(Tensor.newBuilder().setName("l").setElementType(ElementType.INT64).addShape(1).addInt64Data(1L << 40))
                .addOutputs(Tensor.newBuilder().setName("i").setElementType(ElementType.INT32).addShape(1).addInt32Data(-7))
                .addOutputs(Tensor.newBuilder().setName("d").setElementType(ElementType.DOUBLE).addShape(1).addDoubleData(2.25))
                .addOutputs(Tensor.newBuilder().setName("b").setElementType(ElementType.BOOL).addShape(2).addBoolData(false).addBoolData(true))
                .build();
        OpenInference.Parsed asked = parse("{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}],"
                + " \"outputs\": [{\"name\": \"f\", \"parameters\": {\"binary_data\": true}}]}");
        OpenInference.Rendered rendered = OpenInference.render("m", response, asked);
        JsonNode json = MAPPER.readTree(Arrays.copyOf(rendered.body(), rendered.jsonLength()));
        assertEquals(8, output(json, "f").get("parameters").get("binary_data_size").asInt());
        assertArrayEquals(le(8).putFloat(0.5f).putFloat(-1f).array(),
                Arrays.copyOfRange(rendered.body(), rendered.jsonLength(), rendered.body().length));
        assertEquals("[1099511627776]", output(json, "l").get("data").toString());
        assertEquals("[-7]", output(json, "i").get("data").toString());
        assertEquals("[2.25]", output(json, "d").get("data").toString());
        assertEquals("[false,true]", output(json, "b").get("data").toString());
    }

    // helpers

    private static Tensor single(String datatype, String shape, String data) {
        return parse("{\"inputs\": [{\"name\": \"x\", \"shape\": " + shape + ", \"datatype\": \"" + datatype + "\", \"data\": "
                + data + "}]}").request().getInputs(0);
    }

    private static OpenInference.Parsed parse(String json) {
        return OpenInference.parse("m", utf8(json), null);
    }

    private static ProblemException bad(String json) {
        ProblemException e = assertThrows(ProblemException.class, () -> parse(json), json);
        assertEquals(400, e.status());
        return e;
    }

    private static void assertBad(String json, String... fragments) {
        String message = bad(json).getMessage();
        for (String fragment : fragments) {
            assertTrue(message.contains(fragment), () -> "\"" + message + "\" lacks \"" + fragment + "\" for " + json);
        }
    }

    private static void assertBadBinary(String json, byte[] binary, String... fragments) {
        ProblemException e = assertThrows(ProblemException.class,
                () -> OpenInference.parse("m", concat(utf8(json), binary), utf8(json).length), json);
        assertEquals(400, e.status());
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), () -> "\"" + e.getMessage() + "\" lacks \"" + fragment + "\"");
        }
    }

    private static JsonNode output(JsonNode json, String name) {
        for (JsonNode output : json.get("outputs")) {
            if (output.get("name").asText().equals(name)) {
                return output;
            }
        }
        throw new AssertionError("no output " + name + " in " + json);
    }

    private static Tensor tensor(String name, ElementType type, byte[] raw, long... shape) {
        Tensor.Builder t = Tensor.newBuilder().setName(name).setElementType(type).setRawData(ByteString.copyFrom(raw));
        for (long dim : shape) {
            t.addShape(dim);
        }
        return t.build();
    }

    private static int half(float f) {
        return OpenInference.toHalf(f) & 0xFFFF;
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
