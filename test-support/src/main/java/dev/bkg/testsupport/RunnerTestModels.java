package dev.bkg.testsupport;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.List;

import com.google.protobuf.ByteString;

import dev.bkg.proto.model.v1.DownloadModelRequest;
import dev.bkg.proto.model.v1.Model;
import dev.bkg.proto.model.v1.ModelKind;
import dev.bkg.proto.model.v1.ModelServiceGrpc.ModelServiceBlockingStub;
import dev.bkg.proto.onnx.GraphProto;
import dev.bkg.proto.onnx.ModelProto;
import dev.bkg.proto.onnx.NodeProto;
import dev.bkg.proto.onnx.OperatorSetIdProto;
import dev.bkg.proto.onnx.TensorProto;
import dev.bkg.proto.onnx.TensorShapeProto;
import dev.bkg.proto.onnx.TypeProto;
import dev.bkg.proto.onnx.ValueInfoProto;

/**
 * Small ONNX graphs for the model runner's tests, written with our onnx.proto and installed in
 * model-service as generic models from a local file server: an affine map with known weights and
 * an echo of one tensor of each element type.
 */
public final class RunnerTestModels {

    public static final String AFFINE = "affine-3x2";
    public static final String ECHO = "echo-types";
    /** Bytes that are no ONNX graph (a download is READY once its bytes are in; only a validation would open it). */
    public static final String BROKEN = "broken-graph";

    /** y = x · W + b, x [batch, 3]: W and b below. */
    public static final float[][] WEIGHTS = {{1, 2}, {3, 4}, {5, 6}};
    public static final float[] BIAS = {0.5f, -1};

    /** The echo graph's inputs (in_&lt;type&gt;, shape [batch, 2]) and their ONNX element types; outputs out_&lt;type&gt;. */
    public static final List<String> ECHO_TYPES = List.of("float", "float16", "double", "int64", "int32", "int8", "uint8",
            "bool", "string");
    private static final int[] ONNX_TYPES = {1, 10, 11, 7, 6, 3, 2, 9, 8};

    private RunnerTestModels() {
    }

    public static float[] affine(float[] x) {
        float[] y = BIAS.clone();
        for (int j = 0; j < 2; j++) {
            for (int k = 0; k < 3; k++) {
                y[j] += x[k] * WEIGHTS[k][j];
            }
        }
        return y;
    }

    public static byte[] affineGraph() {
        ByteBuffer w = ByteBuffer.allocate(6 * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float[] row : WEIGHTS) {
            for (float v : row) {
                w.putFloat(v);
            }
        }
        ByteBuffer b = ByteBuffer.allocate(2 * 4).order(ByteOrder.LITTLE_ENDIAN).putFloat(BIAS[0]).putFloat(BIAS[1]);
        GraphProto graph = GraphProto.newBuilder().setName("affine")
                .addInitializer(TensorProto.newBuilder().setName("W").setDataType(1).addDims(3).addDims(2)
                        .setRawData(ByteString.copyFrom(w.array())))
                .addInitializer(TensorProto.newBuilder().setName("b").setDataType(1).addDims(2)
                        .setRawData(ByteString.copyFrom(b.array())))
                .addNode(NodeProto.newBuilder().setOpType("MatMul").setName("matmul").addInput("x").addInput("W").addOutput("xw"))
                .addNode(NodeProto.newBuilder().setOpType("Add").setName("add").addInput("xw").addInput("b").addOutput("y"))
                .addInput(tensor("x", 1, "batch", 3)).addOutput(tensor("y", 1, "batch", 2)).build();
        return model(graph);
    }

    public static byte[] echoGraph() {
        GraphProto.Builder graph = GraphProto.newBuilder().setName("echo");
        for (int i = 0; i < ECHO_TYPES.size(); i++) {
            String type = ECHO_TYPES.get(i);
            graph.addNode(NodeProto.newBuilder().setOpType("Identity").setName("id_" + type).addInput("in_" + type)
                    .addOutput("out_" + type));
            graph.addInput(tensor("in_" + type, ONNX_TYPES[i], "batch", 2)).addOutput(tensor("out_" + type, ONNX_TYPES[i], "batch", 2));
        }
        return model(graph.build());
    }

    private static byte[] model(GraphProto graph) {
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("bkg tests").setGraph(graph)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17)).build().toByteArray();
    }

    private static ValueInfoProto tensor(String name, int elementType, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            shape.addDim(d instanceof String s ? TensorShapeProto.Dimension.newBuilder().setDimParam(s)
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(((Number) d).longValue()));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(elementType).setShape(shape))).build();
    }

    /** The graphs served by a local file server and downloaded into model-service as generic models, READY. */
    public static void install(ModelServiceBlockingStub models, LocalFileServer files, Duration timeout) {
        files.serve("/runner/affine.onnx", affineGraph());
        files.serve("/runner/echo.onnx", echoGraph());
        install(models, AFFINE, files.url("/runner/affine.onnx"), timeout);
        install(models, ECHO, files.url("/runner/echo.onnx"), timeout);
        files.serve("/runner/broken.onnx", "this is not an ONNX graph".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        install(models, BROKEN, files.url("/runner/broken.onnx"), timeout);
    }

    private static Model install(ModelServiceBlockingStub models, String name, String url, Duration timeout) {
        String id = models.downloadModel(DownloadModelRequest.newBuilder().setName(name).setKind(ModelKind.GENERIC).setUrl(url)
                .build()).getModelId();
        return ChatTestModels.awaitReady(models, id, name, timeout);
    }
}
