package dev.bkg.model.importer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;

import dev.bkg.proto.onnx.AttributeProto;
import dev.bkg.proto.onnx.GraphProto;
import dev.bkg.proto.onnx.ModelProto;
import dev.bkg.proto.onnx.NodeProto;
import dev.bkg.proto.onnx.OperatorSetIdProto;
import dev.bkg.proto.onnx.TensorProto;

/**
 * Dynamic int8 quantisation of an ONNX graph, the form ONNX Runtime's own {@code quantize_dynamic}
 * writes: the float weights of MatMul and Gemm become int8, symmetric per output channel, and the
 * activations are quantised at run time (DynamicQuantizeLinear → MatMulInteger → Cast → Mul by both
 * scales, a chain ONNX Runtime fuses into one kernel); embedding tables read by Gather become int8
 * with a scale per row (Gather of the rows and of their scales, Cast, Mul). Everything else is
 * kept as it is (unknown fields included: the graph is parsed with our part of onnx.proto). Conv
 * is left in float: its weights are a small share of the models this serves (text encoders).
 */
public final class Int8Quantizer {

    /** Weights smaller than this stay float: quantising them saves nothing and costs accuracy. */
    static final int MIN_ELEMENTS = 1024;
    private static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;

    public record Result(byte[] onnx, int quantizedWeights, Set<String> ops) {
    }

    private final GraphProto.Builder graph;
    private final Map<String, TensorProto> initializers = new HashMap<>();
    private final Map<String, Integer> uses = new HashMap<>();
    private final Set<String> names = new HashSet<>();
    /** The run-time quantisation of an activation, shared by every MatMul that reads it: [q, scale, zero point]. */
    private final Map<String, String[]> dynamicQuantized = new HashMap<>();
    /** A quantised weight, by the float initializer it replaces: [int8 name, scale name]. */
    private final Map<String, String[]> quantizedWeights = new HashMap<>();
    private final Set<String> ops = new TreeSet<>();
    private final List<NodeProto> nodes = new ArrayList<>();

    private Int8Quantizer(GraphProto graph) {
        this.graph = graph.toBuilder();
        graph.getInitializerList().forEach(t -> initializers.put(t.getName(), t));
        countUses(graph);
        graph.getInputList().forEach(v -> names.add(v.getName()));
        graph.getNodeList().forEach(n -> names.addAll(n.getOutputList()));
        names.addAll(initializers.keySet());
    }

    /** The quantised model, or IllegalArgumentException naming why this graph cannot be. */
    public static Result quantize(byte[] onnx) {
        ModelProto model;
        try {
            model = ModelProto.parseFrom(onnx);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("the graph is not a readable ONNX model: " + e.getMessage());
        }
        long opset = model.getOpsetImportList().stream().filter(o -> o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx"))
                .mapToLong(OperatorSetIdProto::getVersion).findFirst().orElse(0);
        if (opset < 11) {
            throw new IllegalArgumentException("the graph uses ONNX opset " + opset
                    + "; dynamic int8 quantisation needs opset 11 or later (DynamicQuantizeLinear)");
        }
        if (model.getGraph().getInitializerList().stream().anyMatch(t -> t.getDataLocation() == 1)) {
            throw new IllegalArgumentException("the graph keeps its weights in external data files, which are not quantised here");
        }
        Int8Quantizer quantizer = new Int8Quantizer(model.getGraph());
        quantizer.rewrite();
        if (quantizer.quantizedWeights.isEmpty()) {
            throw new IllegalArgumentException("nothing to quantise: no MatMul, Gemm or Gather reads a float weight of "
                    + MIN_ELEMENTS + " values or more");
        }
        ModelProto out = model.toBuilder().setGraph(quantizer.graph).setProducerName("bkg model-service int8 quantizer")
                .build();
        return new Result(out.toByteArray(), quantizer.quantizedWeights.size(), quantizer.ops);
    }

    private void countUses(GraphProto g) {
        for (NodeProto node : g.getNodeList()) {
            node.getInputList().forEach(i -> uses.merge(i, 1, Integer::sum));
            for (AttributeProto a : node.getAttributeList()) {
                if (a.hasG()) {
                    countUses(a.getG());
                }
                a.getGraphsList().forEach(this::countUses);
            }
        }
        g.getOutputList().forEach(o -> uses.merge(o.getName(), 1, Integer::sum));
    }

    private void rewrite() {
        // a weight is quantised only when every reader of it can take the int8 form
        Map<String, Integer> quantizableUses = new HashMap<>();
        for (NodeProto node : graph.getNodeList()) {
            String weight = weightOf(node);
            if (weight != null) {
                quantizableUses.merge(weight, 1, Integer::sum);
            }
        }
        for (NodeProto node : graph.getNodeList()) {
            String weight = weightOf(node);
            if (weight == null || !quantizableUses.get(weight).equals(uses.get(weight))) {
                nodes.add(node);
                continue;
            }
            switch (node.getOpType()) {
                case "MatMul" -> matMul(node.getInput(0), weight, false, node.getOutput(0));
                case "Gemm" -> gemm(node, weight);
                default -> gather(node, weight);
            }
            ops.add(node.getOpType());
        }
        graph.clearNode().addAllNode(nodes);
        Set<String> replaced = quantizedWeights.keySet();
        List<TensorProto> kept = graph.getInitializerList().stream().filter(t -> !replaced.contains(t.getName())).toList();
        graph.clearInitializer().addAllInitializer(kept).addAllInitializer(added);
        // old models list initializers among the inputs too
        var inputs = graph.getInputList().stream().filter(v -> !replaced.contains(v.getName())).toList();
        graph.clearInput().addAllInput(inputs);
    }

    /** The float weight a node reads that this quantiser can take, else null. */
    private String weightOf(NodeProto node) {
        String name;
        switch (node.getOpType()) {
            case "MatMul" -> name = node.getInputCount() == 2 ? node.getInput(1) : null;
            case "Gemm" -> name = intAttribute(node, "transA", 0) == 0 ? node.getInput(1) : null;
            case "Gather" -> name = intAttribute(node, "axis", 0) == 0 ? node.getInput(0) : null;
            default -> name = null;
        }
        TensorProto weight = name == null ? null : initializers.get(name);
        if (weight == null || weight.getDataType() != FLOAT || weight.getDimsCount() != 2) {
            return null;
        }
        return weight.getDims(0) * weight.getDims(1) >= MIN_ELEMENTS ? name : null;
    }

    private final List<TensorProto> added = new ArrayList<>();

    /** Y = A·W with W [K, N] (transposed from [N, K] for a Gemm with transB) as int8 columns. */
    private void matMul(String a, String weight, boolean transposed, String y) {
        String[] q = quantizedWeights.computeIfAbsent(weight, w -> {
            float[][] columns = columns(initializers.get(w), transposed);
            return addPerChannel(w, columns);
        });
        String[] dq = dynamicQuantized.computeIfAbsent(a, input -> {
            String[] out = {fresh(input + "_quantized"), fresh(input + "_scale"), fresh(input + "_zero_point")};
            nodes.add(node("DynamicQuantizeLinear", List.of(input), List.of(out)));
            return out;
        });
        String product = fresh(y + "_int32");
        nodes.add(node("MatMulInteger", List.of(dq[0], q[0], dq[2]), List.of(product)));
        String asFloat = fresh(y + "_float");
        nodes.add(node("Cast", List.of(product), List.of(asFloat), AttributeProto.newBuilder().setName("to")
                .setType(AttributeProto.AttributeType.INT).setI(FLOAT).build()));
        String scales = fresh(y + "_scales");
        nodes.add(node("Mul", List.of(dq[1], q[1]), List.of(scales)));
        nodes.add(node("Mul", List.of(asFloat, scales), List.of(y)));
    }

    /** Gemm(A, W, C) = alpha·A·W + beta·C, with the product quantised. */
    private void gemm(NodeProto node, String weight) {
        float alpha = floatAttribute(node, "alpha", 1f);
        float beta = floatAttribute(node, "beta", 1f);
        boolean hasBias = node.getInputCount() > 2 && !node.getInput(2).isEmpty();
        String y = node.getOutput(0);
        String product = alpha == 1f && !hasBias ? y : fresh(y + "_product");
        matMul(node.getInput(0), weight, intAttribute(node, "transB", 0) == 1, product);
        String scaled = product;
        if (alpha != 1f) {
            scaled = hasBias ? fresh(y + "_scaled") : y;
            nodes.add(node("Mul", List.of(product, scalar(y + "_alpha", alpha)), List.of(scaled)));
        }
        if (hasBias) {
            String bias = node.getInput(2);
            if (beta != 1f) {
                String scaledBias = fresh(y + "_bias");
                nodes.add(node("Mul", List.of(bias, scalar(y + "_beta", beta)), List.of(scaledBias)));
                bias = scaledBias;
            }
            nodes.add(node("Add", List.of(scaled, bias), List.of(y)));
        }
    }

    /** Gather of rows of an int8 table and of their scales, multiplied back to float. */
    private void gather(NodeProto node, String weight) {
        String[] q = quantizedWeights.computeIfAbsent(weight, w -> {
            TensorProto table = initializers.get(w);
            int rows = (int) table.getDims(0);
            int width = (int) table.getDims(1);
            float[] values = floats(table);
            byte[] quantized = new byte[values.length];
            float[] scales = new float[rows];
            for (int r = 0; r < rows; r++) {
                scales[r] = quantizeRun(values, r * width, width, quantized, r * width);
            }
            String qName = fresh(w + "_int8");
            added.add(TensorProto.newBuilder().setName(qName).setDataType(TensorProto.DataType.INT8_VALUE)
                    .addDims(rows).addDims(width).setRawData(ByteString.copyFrom(quantized)).build());
            String sName = fresh(w + "_row_scale");
            added.add(floatTensor(sName, scales, rows, 1));
            return new String[] {qName, sName};
        });
        String y = node.getOutput(0);
        String rows = fresh(y + "_int8");
        String scales = fresh(y + "_row_scale");
        String asFloat = fresh(y + "_float");
        nodes.add(node("Gather", List.of(q[0], node.getInput(1)), List.of(rows)));
        nodes.add(node("Gather", List.of(q[1], node.getInput(1)), List.of(scales)));
        nodes.add(node("Cast", List.of(rows), List.of(asFloat), AttributeProto.newBuilder().setName("to")
                .setType(AttributeProto.AttributeType.INT).setI(FLOAT).build()));
        nodes.add(node("Mul", List.of(asFloat, scales), List.of(y)));
    }

    /** An int8 [K, N] weight and its N scales from the [K, N] float matrix given as N columns. */
    private String[] addPerChannel(String weight, float[][] columns) {
        int n = columns.length;
        int k = columns[0].length;
        byte[] quantized = new byte[k * n];
        float[] scales = new float[n];
        byte[] column = new byte[k];
        for (int c = 0; c < n; c++) {
            scales[c] = quantizeRun(columns[c], 0, k, column, 0);
            for (int r = 0; r < k; r++) {
                quantized[r * n + c] = column[r];
            }
        }
        String qName = fresh(weight + "_int8");
        added.add(TensorProto.newBuilder().setName(qName).setDataType(TensorProto.DataType.INT8_VALUE)
                .addDims(k).addDims(n).setRawData(ByteString.copyFrom(quantized)).build());
        String sName = fresh(weight + "_scale");
        added.add(floatTensor(sName, scales, n));
        return new String[] {qName, sName};
    }

    /** Quantises values[from, from + count) symmetrically into out[to, to + count), in [-127, 127]; answers the scale. */
    static float quantizeRun(float[] values, int from, int count, byte[] out, int to) {
        float max = 0;
        for (int i = 0; i < count; i++) {
            max = Math.max(max, Math.abs(values[from + i]));
        }
        float scale = max == 0 ? 1f : max / 127f;
        for (int i = 0; i < count; i++) {
            out[to + i] = (byte) Math.max(-127, Math.min(127, Math.round(values[from + i] / scale)));
        }
        return scale;
    }

    /** The N columns of a [K, N] weight ([N, K] when transposed: its rows are the columns). */
    private static float[][] columns(TensorProto weight, boolean transposed) {
        float[] values = floats(weight);
        int rows = (int) weight.getDims(0);
        int cols = (int) weight.getDims(1);
        int n = transposed ? rows : cols;
        int k = transposed ? cols : rows;
        float[][] columns = new float[n][k];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                float v = values[r * cols + c];
                if (transposed) {
                    columns[r][c] = v;
                } else {
                    columns[c][r] = v;
                }
            }
        }
        return columns;
    }

    static float[] floats(TensorProto t) {
        if (!t.getRawData().isEmpty()) {
            float[] values = new float[t.getRawData().size() / 4];
            t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
            return values;
        }
        float[] values = new float[t.getFloatDataCount()];
        for (int i = 0; i < values.length; i++) {
            values[i] = t.getFloatData(i);
        }
        return values;
    }

    private static TensorProto floatTensor(String name, float[] values, long... dims) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(FLOAT).setRawData(ByteString.copyFrom(bytes));
        for (long d : dims) {
            t.addDims(d);
        }
        return t.build();
    }

    private String scalar(String name, float value) {
        String unique = fresh(name);
        added.add(floatTensor(unique, new float[] {value}));
        return unique;
    }

    private String fresh(String wanted) {
        String name = wanted;
        for (int i = 1; !names.add(name); i++) {
            name = wanted + "_" + i;
        }
        return name;
    }

    private NodeProto node(String op, List<String> inputs, List<String> outputs, AttributeProto... attributes) {
        return NodeProto.newBuilder().setOpType(op).setName(fresh(outputs.get(0) + "_" + op)).addAllInput(inputs)
                .addAllOutput(outputs).addAllAttribute(List.of(attributes)).build();
    }

    private static long intAttribute(NodeProto node, String name, long fallback) {
        return node.getAttributeList().stream().filter(a -> a.getName().equals(name)).mapToLong(AttributeProto::getI)
                .findFirst().orElse(fallback);
    }

    private static float floatAttribute(NodeProto node, String name, float fallback) {
        return node.getAttributeList().stream().filter(a -> a.getName().equals(name)).map(AttributeProto::getF)
                .findFirst().orElse(fallback);
    }
}
