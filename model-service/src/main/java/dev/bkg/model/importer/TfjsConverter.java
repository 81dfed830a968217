package dev.bkg.model.importer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;

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
 * Converts a TF.js graph model (model.json + weight shards) to ONNX (opset 13). TensorFlow works
 * in NHWC, ONNX's Conv in NCHW: 4-D activations are kept in NCHW inside the graph (one Transpose
 * after each image input, one back before a Reshape or an output), filters are rearranged
 * (HWIO → OIHW; depthwise HW·C·M → (C·M)·1·H·W with group = C), per-channel constants reshaped to
 * broadcast over NCHW, and paddings reordered. Supported ops: Const, Placeholder, Identity, Add,
 * AddV2, BiasAdd, Sub, Mul, Maximum, Minimum, Relu, Pad, Conv2D, DepthwiseConv2dNative, Reshape,
 * MatMul; any other op is reported by name.
 */
public final class TfjsConverter {

    static final Set<String> SUPPORTED = Set.of("Const", "Placeholder", "Identity", "Add", "AddV2", "BiasAdd", "Sub", "Mul",
            "Maximum", "Minimum", "Relu", "Pad", "Conv2D", "DepthwiseConv2dNative", "Reshape", "MatMul");
    static final int OPSET = 13;

    /** What the converter knows of a value: its rank and whether it is a 4-D activation stored NCHW. */
    private record Value(String onnxName, int rank, boolean nchw) {
    }

    public record Result(byte[] onnx, List<String> inputs, List<String> outputs, Set<String> ops) {
    }

    private final Map<String, TfjsWeights.Tensor> weights;
    private final Map<String, Value> values = new HashMap<>();
    private final GraphProto.Builder graph = GraphProto.newBuilder().setName("tfjs-import");
    private int counter;

    private TfjsConverter(Map<String, TfjsWeights.Tensor> weights) {
        this.weights = weights;
    }

    /** Converts; IllegalArgumentException names unsupported ops or what is malformed. */
    public static Result convert(JsonNode modelJson, Map<String, byte[]> weightFiles) {
        if (!"graph-model".equals(modelJson.path("format").asText("graph-model"))) {
            throw new IllegalArgumentException("only TF.js graph models are supported (format graph-model)");
        }
        JsonNode nodes = modelJson.path("modelTopology").path("node");
        if (!nodes.isArray() || nodes.isEmpty()) {
            throw new IllegalArgumentException("model.json has no modelTopology.node list");
        }
        Set<String> unsupported = new TreeSet<>();
        Set<String> ops = new TreeSet<>();
        for (JsonNode node : nodes) {
            String op = node.path("op").asText();
            ops.add(op);
            if (!SUPPORTED.contains(op)) {
                unsupported.add(op);
            }
        }
        if (!unsupported.isEmpty()) {
            throw new IllegalArgumentException("unsupported TF.js ops: " + String.join(", ", unsupported));
        }
        TfjsConverter converter = new TfjsConverter(TfjsWeights.read(modelJson.path("weightsManifest"), weightFiles));
        return converter.run(nodes, ops);
    }

    private Result run(JsonNode nodes, Set<String> ops) {
        Set<String> consumed = new HashSet<>();
        for (JsonNode node : nodes) {
            node.path("input").forEach(in -> consumed.add(ref(in.asText())));
        }
        List<String> inputs = new ArrayList<>();
        Set<String> outputs = new LinkedHashSet<>();
        for (JsonNode node : topological(nodes)) {
            String name = node.path("name").asText();
            convertNode(node, name, inputs);
            if (!consumed.contains(name) && !node.path("op").asText().equals("Const")) {
                outputs.add(name);
            }
        }
        for (String output : outputs) {
            Value v = values.get(output);
            String onnxName = v.nchw ? emit("Transpose", List.of(v.onnxName), ints("perm", 0, 2, 3, 1)) : v.onnxName;
            String finalName = sanitize(output);
            graph.addNode(node("Identity", List.of(onnxName), List.of(finalName)));
            graph.addOutput(ValueInfoProto.newBuilder().setName(finalName).setType(TypeProto.newBuilder()
                    .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE))));
        }
        // constants used only as shapes or paddings were copied as int64: drop the originals
        Set<String> used = new HashSet<>();
        graph.getNodeList().forEach(n -> used.addAll(n.getInputList()));
        List<TensorProto> initializers = graph.getInitializerList().stream().filter(t -> used.contains(t.getName())).toList();
        graph.clearInitializer().addAllInitializer(initializers);
        ModelProto model = ModelProto.newBuilder().setIrVersion(8).setProducerName("bkg-mesh model-service")
                .setProducerVersion("tfjs-import 1").addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("")
                        .setVersion(OPSET)).setGraph(graph).build();
        return new Result(model.toByteArray(), inputs, List.copyOf(outputs.stream().map(TfjsConverter::sanitize).toList()), ops);
    }

    /** TF.js lists nodes in any order; ONNX wants them sorted. */
    private static List<JsonNode> topological(JsonNode nodes) {
        Map<String, JsonNode> byName = new HashMap<>();
        nodes.forEach(n -> byName.put(n.path("name").asText(), n));
        List<JsonNode> sorted = new ArrayList<>();
        Set<String> done = new HashSet<>();
        Set<String> visiting = new HashSet<>();
        for (JsonNode n : nodes) {
            visit(n, byName, done, visiting, sorted);
        }
        return sorted;
    }

    private static void visit(JsonNode node, Map<String, JsonNode> byName, Set<String> done, Set<String> visiting,
            List<JsonNode> sorted) {
        String name = node.path("name").asText();
        if (done.contains(name)) {
            return;
        }
        if (!visiting.add(name)) {
            throw new IllegalArgumentException("the graph has a cycle at " + name);
        }
        for (JsonNode in : node.path("input")) {
            JsonNode producer = byName.get(ref(in.asText()));
            if (producer == null) {
                throw new IllegalArgumentException("node " + name + " reads " + in.asText() + ", which no node produces");
            }
            visit(producer, byName, done, visiting, sorted);
        }
        visiting.remove(name);
        done.add(name);
        sorted.add(node);
    }

    /** "name:0" and "^name" (a control dependency) → "name". */
    private static String ref(String input) {
        String r = input.startsWith("^") ? input.substring(1) : input;
        int colon = r.indexOf(':');
        return colon < 0 ? r : r.substring(0, colon);
    }

    private void convertNode(JsonNode node, String name, List<String> graphInputs) {
        String op = node.path("op").asText();
        JsonNode attr = node.path("attr");
        List<Value> in = new ArrayList<>();
        for (JsonNode input : node.path("input")) {
            if (!input.asText().startsWith("^")) {
                in.add(values.get(ref(input.asText())));
            }
        }
        switch (op) {
            case "Placeholder" -> {
                long[] shape = dims(attr.path("shape").path("shape"));
                String onnxName = sanitize(name);
                TensorShapeProto.Builder dims = TensorShapeProto.newBuilder();
                for (long d : shape) {
                    dims.addDim(d < 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam("batch")
                            : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
                }
                graph.addInput(ValueInfoProto.newBuilder().setName(onnxName).setType(TypeProto.newBuilder()
                        .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE)
                                .setShape(dims))));
                graphInputs.add(onnxName);
                if (shape.length == 4) {
                    values.put(name, new Value(emit("Transpose", List.of(onnxName), ints("perm", 0, 3, 1, 2)), 4, true));
                } else {
                    values.put(name, new Value(onnxName, shape.length, false));
                }
            }
            case "Const" -> {
                TfjsWeights.Tensor w = weights.get(name);
                if (w == null) {
                    throw new IllegalArgumentException("constant " + name + " has no weights");
                }
                values.put(name, new Value(initializer(name, w.shape(), w), w.shape().length, false));
            }
            case "Identity" -> values.put(name, in.get(0));
            case "Relu" -> values.put(name, new Value(emit("Relu", List.of(in.get(0).onnxName)), in.get(0).rank, in.get(0).nchw));
            case "Add", "AddV2", "BiasAdd", "Sub", "Mul", "Maximum", "Minimum" -> {
                String onnxOp = switch (op) {
                    case "Sub" -> "Sub";
                    case "Mul" -> "Mul";
                    case "Maximum" -> "Max";
                    case "Minimum" -> "Min";
                    default -> "Add";
                };
                binary(name, onnxOp, in.get(0), in.get(1));
            }
            case "Pad" -> {
                Value x = in.get(0);
                TfjsWeights.Tensor paddings = constant(node, 1, "paddings");
                long[] p = new long[paddings.size()];
                for (int i = 0; i < p.length; i++) {
                    p[i] = paddings.ints() != null ? paddings.ints()[i] : (long) paddings.floats()[i];
                }
                int rank = p.length / 2;
                int[] order = x.nchw ? new int[] { 0, 3, 1, 2 } : identity(rank);
                long[] pads = new long[2 * rank];
                for (int i = 0; i < rank; i++) {
                    pads[i] = p[2 * order[i]];
                    pads[rank + i] = p[2 * order[i] + 1];
                }
                String padsName = int64(name + "/pads", pads);
                values.put(name, new Value(emit("Pad", List.of(x.onnxName, padsName)), x.rank, x.nchw));
            }
            case "Conv2D", "DepthwiseConv2dNative" -> conv(node, name, op, attr, in.get(0));
            case "Reshape" -> {
                Value x = in.get(0);
                String source = x.nchw ? emit("Transpose", List.of(x.onnxName), ints("perm", 0, 2, 3, 1)) : x.onnxName;
                TfjsWeights.Tensor shape = constant(node, 1, "shape");
                long[] s = new long[shape.size()];
                for (int i = 0; i < s.length; i++) {
                    s[i] = shape.ints() != null ? shape.ints()[i] : (long) shape.floats()[i];
                }
                values.put(name, new Value(emit("Reshape", List.of(source, int64(name + "/shape", s))), s.length, false));
            }
            case "MatMul" -> {
                Value a = in.get(0);
                Value b = in.get(1);
                String left = attr.path("transpose_a").path("b").asBoolean() ? emit("Transpose", List.of(a.onnxName))
                        : a.onnxName;
                String right = attr.path("transpose_b").path("b").asBoolean() ? emit("Transpose", List.of(b.onnxName))
                        : b.onnxName;
                values.put(name, new Value(emit("MatMul", List.of(left, right)), 2, false));
            }
            default -> throw new IllegalArgumentException("unsupported TF.js op: " + op);
        }
    }

    private void binary(String name, String onnxOp, Value a, Value b) {
        // a per-channel constant next to an NCHW activation must broadcast over channels, not width
        String left = a.onnxName;
        String right = b.onnxName;
        if (a.nchw && !b.nchw) {
            right = toNchwBroadcast(b);
        } else if (b.nchw && !a.nchw) {
            left = toNchwBroadcast(a);
        }
        boolean nchw = a.nchw || b.nchw;
        values.put(name, new Value(emit(onnxOp, List.of(left, right)), Math.max(a.rank, b.rank), nchw));
    }

    /** [C] or [1,1,1,C] (NHWC broadcasting) → [C,1,1] / [1,C,1,1]; scalars stay. */
    private String toNchwBroadcast(Value v) {
        if (v.rank == 0) {
            return v.onnxName;
        }
        if (v.rank == 1) {
            return emit("Reshape", List.of(v.onnxName, int64("nchw_shape_" + (counter++), new long[] { -1, 1, 1 })));
        }
        if (v.rank == 4) {
            return emit("Transpose", List.of(v.onnxName), ints("perm", 0, 3, 1, 2));
        }
        throw new IllegalArgumentException("cannot broadcast a rank-" + v.rank + " value over an NHWC image");
    }

    private void conv(JsonNode node, String name, String op, JsonNode attr, Value x) {
        if (!x.nchw) {
            throw new IllegalArgumentException(op + " " + name + " needs a 4-D NHWC input");
        }
        String format = text(attr.path("data_format"), "NHWC");
        if (!format.equals("NHWC")) {
            throw new IllegalArgumentException(op + " " + name + ": data_format " + format + " is not supported");
        }
        TfjsWeights.Tensor filter = constant(node, 1, "filter");
        long[] fs = filter.shape(); // HWIO, or H W C M for depthwise
        int kh = (int) fs[0];
        int kw = (int) fs[1];
        int c = (int) fs[2];
        int m = (int) fs[3];
        float[] w = filter.floats();
        float[] onnx = new float[w.length];
        long[] onnxShape;
        boolean depthwise = op.equals("DepthwiseConv2dNative");
        if (depthwise) {
            onnxShape = new long[] { (long) c * m, 1, kh, kw };
            for (int h = 0; h < kh; h++) {
                for (int ww = 0; ww < kw; ww++) {
                    for (int ci = 0; ci < c; ci++) {
                        for (int mi = 0; mi < m; mi++) {
                            onnx[((ci * m + mi) * kh + h) * kw + ww] = w[((h * kw + ww) * c + ci) * m + mi];
                        }
                    }
                }
            }
        } else {
            onnxShape = new long[] { m, c, kh, kw };
            for (int h = 0; h < kh; h++) {
                for (int ww = 0; ww < kw; ww++) {
                    for (int ci = 0; ci < c; ci++) {
                        for (int o = 0; o < m; o++) {
                            onnx[((o * c + ci) * kh + h) * kw + ww] = w[((h * kw + ww) * c + ci) * m + o];
                        }
                    }
                }
            }
        }
        String weightName = initializer(name + "/weight_oihw", onnxShape,
                new TfjsWeights.Tensor("float32", onnxShape, onnx, null));
        long[] strides = list(attr.path("strides"), 1, 1, 1, 1);
        long[] dilations = list(attr.path("dilations"), 1, 1, 1, 1);
        String padding = text(attr.path("padding"), "VALID");
        List<AttributeProto> attrs = new ArrayList<>();
        attrs.add(ints("strides", strides[1], strides[2]));
        attrs.add(ints("dilations", dilations[1], dilations[2]));
        attrs.add(ints("kernel_shape", kh, kw));
        switch (padding) {
            case "SAME" -> attrs.add(AttributeProto.newBuilder().setName("auto_pad").setType(AttributeProto.AttributeType.STRING)
                    .setS(com.google.protobuf.ByteString.copyFromUtf8("SAME_UPPER")).build());
            case "VALID" -> attrs.add(ints("pads", 0, 0, 0, 0));
            case "EXPLICIT" -> {
                long[] p = list(attr.path("explicit_paddings"), 0, 0, 0, 0, 0, 0, 0, 0);
                attrs.add(ints("pads", p[2], p[4], p[3], p[5]));
            }
            default -> throw new IllegalArgumentException(op + " " + name + ": padding " + padding + " is not supported");
        }
        if (depthwise) {
            attrs.add(AttributeProto.newBuilder().setName("group").setType(AttributeProto.AttributeType.INT).setI(c).build());
        }
        values.put(name, new Value(emit("Conv", List.of(x.onnxName, weightName), attrs.toArray(AttributeProto[]::new)), 4,
                true));
    }

    private TfjsWeights.Tensor constant(JsonNode node, int index, String what) {
        String input = ref(node.path("input").path(index).asText());
        TfjsWeights.Tensor t = weights.get(input);
        if (t == null) {
            throw new IllegalArgumentException(node.path("op").asText() + " " + node.path("name").asText() + ": its " + what
                    + " must be a constant");
        }
        return t;
    }

    private static String text(JsonNode attr, String fallback) {
        if (attr.has("s")) {
            return new String(Base64.getDecoder().decode(attr.get("s").asText()), StandardCharsets.UTF_8);
        }
        return fallback;
    }

    private static long[] list(JsonNode attr, long... fallback) {
        JsonNode list = attr.path("list").path("i");
        if (!list.isArray() || list.isEmpty()) {
            return fallback;
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = list.get(i).asLong();
        }
        return out;
    }

    private static long[] dims(JsonNode shape) {
        JsonNode dim = shape.path("dim");
        long[] out = new long[dim.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = dim.get(i).path("size").asLong(-1);
        }
        return out;
    }

    private static int[] identity(int rank) {
        int[] order = new int[rank];
        for (int i = 0; i < rank; i++) {
            order[i] = i;
        }
        return order;
    }

    private String initializer(String name, long[] shape, TfjsWeights.Tensor t) {
        String onnxName = sanitize(name);
        TensorProto.Builder tensor = TensorProto.newBuilder().setName(onnxName);
        for (long d : shape) {
            tensor.addDims(d);
        }
        if (t.floats() != null) {
            java.nio.ByteBuffer raw = java.nio.ByteBuffer.allocate(t.floats().length * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            raw.asFloatBuffer().put(t.floats());
            tensor.setDataType(TensorProto.DataType.FLOAT_VALUE).setRawData(com.google.protobuf.ByteString.copyFrom(raw));
        } else {
            tensor.setDataType(TensorProto.DataType.INT32_VALUE);
            for (int v : t.ints()) {
                tensor.addInt32Data(v);
            }
        }
        graph.addInitializer(tensor);
        return onnxName;
    }

    private String int64(String name, long[] values) {
        String onnxName = sanitize(name);
        TensorProto.Builder tensor = TensorProto.newBuilder().setName(onnxName).setDataType(TensorProto.DataType.INT64_VALUE)
                .addDims(values.length);
        for (long v : values) {
            tensor.addInt64Data(v);
        }
        graph.addInitializer(tensor);
        return onnxName;
    }

    private static AttributeProto ints(String name, long... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    private String emit(String op, List<String> inputs, AttributeProto... attributes) {
        String out = op.toLowerCase() + "_" + (counter++);
        NodeProto.Builder node = NodeProto.newBuilder().setOpType(op).setName(out).addAllInput(inputs).addOutput(out);
        for (AttributeProto a : attributes) {
            node.addAttribute(a);
        }
        graph.addNode(node);
        return out;
    }

    private static NodeProto node(String op, List<String> inputs, List<String> outputs) {
        return NodeProto.newBuilder().setOpType(op).addAllInput(inputs).addAllOutput(outputs).build();
    }

    static String sanitize(String name) {
        return name.replaceAll("[^A-Za-z0-9_./:-]", "_");
    }
}
