package dev.bkg.model.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.google.protobuf.ByteString;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
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
 * The int8 quantiser on a graph with each form it rewrites — an embedding table read by Gather, a
 * Gemm with transB, alpha, beta and a bias, a MatMul — run in ONNX Runtime before and after.
 */
class Int8QuantizerTest {

    private static final Random RANDOM = new Random(7);

    @Test
    void gatherGemmAndMatMulKeepTheirResultsWithInt8Weights() throws Exception {
        byte[] fp32 = graph(17, true);
        Int8Quantizer.Result result = Int8Quantizer.quantize(fp32);
        assertEquals(Set.of("Gather", "Gemm", "MatMul"), result.ops());
        assertEquals(3, result.quantizedWeights());
        assertTrue(result.onnx().length < fp32.length * 0.4, result.onnx().length + " of " + fp32.length);
        GraphProto quantized = ModelProto.parseFrom(result.onnx()).getGraph();
        List<String> ops = quantized.getNodeList().stream().map(NodeProto::getOpType).toList();
        assertTrue(ops.containsAll(List.of("DynamicQuantizeLinear", "MatMulInteger", "Cast", "Mul", "Add")), ops.toString());
        assertTrue(quantized.getInitializerList().stream().noneMatch(t -> Set.of("E", "W1", "W2").contains(t.getName())));
        assertEquals(3, quantized.getInitializerList().stream().filter(t -> t.getDataType() == TensorProto.DataType.INT8_VALUE)
                .count());

        float[] expected = run(fp32);
        float[] actual = run(result.onnx());
        assertEquals(expected.length, actual.length);
        double dot = 0;
        double ne = 0;
        double na = 0;
        double maxAbs = 0;
        double maxError = 0;
        for (int i = 0; i < expected.length; i++) {
            dot += expected[i] * actual[i];
            ne += expected[i] * expected[i];
            na += actual[i] * actual[i];
            maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
            maxError = Math.max(maxError, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(dot / Math.sqrt(ne * na) > 0.999, "cosine " + dot / Math.sqrt(ne * na));
        assertTrue(maxError < 0.03 * maxAbs, "largest error " + maxError + " of values up to " + maxAbs);
        assertTrue(maxError > 0, "nothing changed: were the weights quantised?");
    }

    @Test
    void graphsItCannotTakeAreRefusedWithTheReason() {
        IllegalArgumentException old = assertThrows(IllegalArgumentException.class, () -> Int8Quantizer.quantize(graph(10, true)));
        assertTrue(old.getMessage().contains("opset 10"), old.getMessage());
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class, () -> Int8Quantizer.quantize(graph(17, false)));
        assertTrue(small.getMessage().contains("nothing to quantise"), small.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Int8Quantizer.quantize(new byte[] {1, 2, 3}));
    }

    /** ids [n] → Gather(E [64, 32]) → Gemm(·, W1 [48, 32]ᵀ, b1, alpha 0.5, beta 2) → MatMul(·, W2 [48, 40]) → y [n, 40]. */
    private static byte[] graph(int opset, boolean large) {
        int vocab = large ? 64 : 4;
        GraphProto graph = GraphProto.newBuilder().setName("q")
                .addInitializer(weights("E", vocab, 32)).addInitializer(weights("W1", 48, 32)).addInitializer(weights("b1", 48))
                .addInitializer(large ? weights("W2", 48, 40) : weights("W2", 2, 2))
                .addNode(NodeProto.newBuilder().setOpType("Gather").addInput("E").addInput("ids").addOutput("h"))
                .addNode(NodeProto.newBuilder().setOpType("Gemm").addInput("h").addInput("W1").addInput("b1").addOutput("g")
                        .addAttribute(AttributeProto.newBuilder().setName("transB").setType(AttributeProto.AttributeType.INT).setI(1))
                        .addAttribute(AttributeProto.newBuilder().setName("alpha").setType(AttributeProto.AttributeType.FLOAT).setF(0.5f))
                        .addAttribute(AttributeProto.newBuilder().setName("beta").setType(AttributeProto.AttributeType.FLOAT).setF(2f)))
                .addNode(NodeProto.newBuilder().setOpType("MatMul").addInput("g").addInput("W2").addOutput("y"))
                .addInput(value("ids", TensorProto.DataType.INT64_VALUE, "n"))
                .addOutput(value("y", TensorProto.DataType.FLOAT_VALUE, "n", large ? 40 : 2)).build();
        if (!large) {
            // small weights everywhere: nothing reaches the size worth quantising
            graph = graph.toBuilder().setInitializer(1, weights("W1", 48, 2)).setNode(1, graph.getNode(1).toBuilder()
                    .clearAttribute()).setInitializer(0, weights("E", vocab, 48)).build();
        }
        return ModelProto.newBuilder().setIrVersion(8).setGraph(graph)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).build().toByteArray();
    }

    private static TensorProto weights(String name, long... dims) {
        int count = 1;
        for (long d : dims) {
            count *= (int) d;
        }
        ByteBuffer raw = ByteBuffer.allocate(count * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            raw.putFloat((float) RANDOM.nextGaussian());
        }
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
                .setRawData(ByteString.copyFrom(raw.array()));
        for (long d : dims) {
            t.addDims(d);
        }
        return t.build();
    }

    private static ValueInfoProto value(String name, int type, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            shape.addDim(d instanceof String s ? TensorShapeProto.Dimension.newBuilder().setDimParam(s)
                    : TensorShapeProto.Dimension.newBuilder().setDimValue((Integer) d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(type).setShape(shape))).build();
    }

    private static float[] run(byte[] onnx) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        long[] ids = {0, 5, 9, 63, 17, 30, 1, 2};
        try (OrtSession session = env.createSession(onnx, new OrtSession.SessionOptions());
                OnnxTensor input = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {ids.length});
                OrtSession.Result result = session.run(Map.of("ids", input))) {
            FloatBuffer y = ((OnnxTensor) result.get(0)).getFloatBuffer();
            float[] out = new float[y.remaining()];
            y.get(out);
            return out;
        }
    }
}
