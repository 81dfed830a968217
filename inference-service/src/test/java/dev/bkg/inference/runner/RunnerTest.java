package dev.bkg.inference.runner;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;

import dev.bkg.inference.domain.Embeddings;
import dev.bkg.proto.inference.v1.ElementType;
import dev.bkg.proto.inference.v1.InferRequest;
import dev.bkg.proto.inference.v1.InferResponse;
import dev.bkg.proto.inference.v1.ListLoadedRequest;
import dev.bkg.proto.inference.v1.LoadModelRequest;
import dev.bkg.proto.inference.v1.LoadedModel;
import dev.bkg.proto.inference.v1.QuantizeRequest;
import dev.bkg.proto.inference.v1.QuantizeResponse;
import dev.bkg.proto.inference.v1.RunnerServiceGrpc.RunnerServiceBlockingStub;
import dev.bkg.proto.inference.v1.Tensor;
import dev.bkg.proto.inference.v1.UnloadModelRequest;
import dev.bkg.proto.plugin.v1.InvokeRequest;
import dev.bkg.proto.plugin.v1.PluginGrpc.PluginBlockingStub;
import dev.bkg.testsupport.RunnerTestModels;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;

/**
 * The model runner (role runner, plugin candle) through its real gRPC API and the plugin bus, on
 * graphs with known weights, a graph echoing every element type, and the built-in MiniLM from a
 * real model-service: exact numbers, batching of concurrent calls, load/unload/keep-alive, the
 * memory budget, int8 quantisation with its size and accuracy, and the refusals.
 */
@QuarkusTest
@TestProfile(RunnerTest.RunnerRole.class)
@WithTestResource(RunnerBackend.class)
class RunnerTest {

    public static class RunnerRole implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // MiniLM (87 MB) and its int8 copy (~23 MB) do not fit together: loading one evicts the other
            return Map.of("bkg.inference.role", "runner", "bkg.inference.runner.memory-budget-mb", "100",
                    // and for the embeddings bound: two models at most, any but the default unloaded after 3 s idle
                    "bkg.inference.embedding.max-loaded", "2", "bkg.inference.embedding.keep-alive", "3s");
        }
    }

    static final String MINILM = "all-minilm-l6-v2";

    @GrpcClient("self")
    RunnerServiceBlockingStub runner;

    @GrpcClient("self")
    PluginBlockingStub plugin;

    @Inject
    Embeddings embeddings;

    static Tensor floats(String name, long rows, float... values) {
        ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            raw.putFloat(v);
        }
        return Tensor.newBuilder().setName(name).setElementType(ElementType.FLOAT).addShape(rows)
                .addShape(values.length / rows).setRawData(ByteString.copyFrom(raw.array())).build();
    }

    static float[] floats(Tensor t) {
        float[] out = new float[t.getRawData().size() / 4];
        t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    InferResponse affine(float... x) {
        return runner.infer(InferRequest.newBuilder().setModelId(RunnerTestModels.AFFINE).setId("r1")
                .addInputs(floats("x", x.length / 3, x)).build());
    }

    @Test
    void aGraphWithKnownWeightsGivesTheExactNumbers() {
        InferResponse reply = affine(1, 2, 3, -1, 0, 0.5f);
        assertEquals("r1", reply.getId());
        assertEquals(RunnerTestModels.AFFINE, reply.getModelName());
        Tensor y = reply.getOutputs(0);
        assertEquals("y", y.getName());
        assertEquals(List.of(2L, 2L), y.getShapeList());
        // [1, 2, 3]·W + b = [0.5 + 1 + 6 + 15, -1 + 2 + 8 + 18]; [-1, 0, 0.5]·W + b = [0.5 - 1 + 2.5, -1 - 2 + 3]
        assertArrayEquals(new float[] {22.5f, 27f, 2f, 0f}, floats(y), 0f);
        // the typed fields are read as raw bytes are
        InferResponse typed = runner.infer(InferRequest.newBuilder().setModelId(RunnerTestModels.AFFINE)
                .addInputs(Tensor.newBuilder().setName("x").setElementType(ElementType.FLOAT).addShape(1).addShape(3)
                        .addFloatData(1).addFloatData(2).addFloatData(3)).build());
        assertArrayEquals(RunnerTestModels.affine(new float[] {1, 2, 3}), floats(typed.getOutputs(0)), 0f);
    }

    @Test
    void concurrentCallsShareRunsAndEachGetsItsOwnRows() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(24);
        try {
            int rounds = 0;
            int shared = 0;
            while (shared == 0 && rounds++ < 5) {
                List<CompletableFuture<InferResponse>> calls = new ArrayList<>();
                for (int i = 0; i < 24; i++) {
                    float v = i;
                    calls.add(CompletableFuture.supplyAsync(() -> affine(v, 1, -v, 2 * v, 0, 1), pool));
                }
                for (int i = 0; i < calls.size(); i++) {
                    InferResponse reply = calls.get(i).get();
                    float[] expected = new float[4];
                    System.arraycopy(RunnerTestModels.affine(new float[] {i, 1, -i}), 0, expected, 0, 2);
                    System.arraycopy(RunnerTestModels.affine(new float[] {2 * i, 0, 1}), 0, expected, 2, 2);
                    assertArrayEquals(expected, floats(reply.getOutputs(0)), 0f, "call " + i);
                    assertEquals(List.of(2L, 2L), reply.getOutputs(0).getShapeList());
                    shared = Math.max(shared, reply.getBatchRequests() > 1 ? 1 : 0);
                }
            }
            assertEquals(1, shared, "24 concurrent calls never shared a run");
        } finally {
            pool.shutdownNow();
        }
        LoadedModel affine = loaded(RunnerTestModels.AFFINE);
        assertTrue(affine.getDynamicBatch());
        assertTrue(affine.getInferences() >= 24);
    }

    @Test
    void everyElementTypeGoesThroughUnchanged() {
        InferRequest.Builder request = InferRequest.newBuilder().setModelId(RunnerTestModels.ECHO);
        for (String type : RunnerTestModels.ECHO_TYPES) {
            Tensor.Builder t = Tensor.newBuilder().setName("in_" + type).addShape(1).addShape(2);
            switch (type) {
                case "float" -> t.setElementType(ElementType.FLOAT).addFloatData(1.5f).addFloatData(-2);
                case "float16" -> t.setElementType(ElementType.FLOAT16).setRawData(ByteString.copyFrom(new byte[] {0, 0x3c, 0, (byte) 0xc0}));
                case "double" -> t.setElementType(ElementType.DOUBLE).addDoubleData(Math.PI).addDoubleData(-1e300);
                case "int64" -> t.setElementType(ElementType.INT64).addInt64Data(Long.MAX_VALUE).addInt64Data(-7);
                case "int32" -> t.setElementType(ElementType.INT32).addInt32Data(Integer.MIN_VALUE).addInt32Data(42);
                case "int8" -> t.setElementType(ElementType.INT8).setRawData(ByteString.copyFrom(new byte[] {-128, 127}));
                case "uint8" -> t.setElementType(ElementType.UINT8).setRawData(ByteString.copyFrom(new byte[] {(byte) 255, 0}));
                case "bool" -> t.setElementType(ElementType.BOOL).addBoolData(true).addBoolData(false);
                default -> t.setElementType(ElementType.STRING).addStringData("héllo").addStringData("");
            }
            request.addInputs(t);
        }
        InferRequest built = request.build();
        InferResponse reply = runner.infer(built);
        assertEquals(RunnerTestModels.ECHO_TYPES.size(), reply.getOutputsCount());
        for (Tensor in : built.getInputsList()) {
            Tensor out = reply.getOutputsList().stream().filter(o -> o.getName().equals(in.getName().replace("in_", "out_")))
                    .findFirst().orElseThrow();
            assertEquals(in.getElementType(), out.getElementType(), in.getName());
            assertEquals(in.getShapeList(), out.getShapeList(), in.getName());
            Tensor rawIn = HostTensor.of(in).toProto();
            assertEquals(rawIn.getRawData(), out.getRawData(), in.getName());
            assertEquals(rawIn.getStringDataList(), out.getStringDataList(), in.getName());
        }
        // asking for some outputs answers those only
        InferResponse some = runner.infer(built.toBuilder().addOutputNames("out_bool").build());
        assertEquals(List.of("out_bool"), some.getOutputsList().stream().map(Tensor::getName).toList());
    }

    @Test
    void badRequestsAreRefusedNamingWhatTheModelExpects() {
        assertStatus(Status.Code.NOT_FOUND, "no-such-model", () -> runner.infer(InferRequest.newBuilder().setModelId("no-such-model")
                .addInputs(floats("x", 1, 1, 2, 3)).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "x FLOAT [-1, 3]", () -> runner.infer(InferRequest.newBuilder()
                .setModelId(RunnerTestModels.AFFINE).addInputs(floats("input", 1, 1, 2, 3)).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "expects FLOAT [-1, 3]", () -> runner.infer(InferRequest.newBuilder()
                .setModelId(RunnerTestModels.AFFINE).addInputs(floats("x", 1, 1, 2, 3, 4)).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "expects FLOAT [-1, 3]", () -> runner.infer(InferRequest.newBuilder()
                .setModelId(RunnerTestModels.AFFINE).addInputs(Tensor.newBuilder().setName("x").setElementType(ElementType.INT64)
                        .addShape(1).addShape(3).addInt64Data(1).addInt64Data(2).addInt64Data(3)).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "needs 6", () -> runner.infer(InferRequest.newBuilder()
                .setModelId(RunnerTestModels.AFFINE).addInputs(Tensor.newBuilder().setName("x").setElementType(ElementType.FLOAT)
                        .addShape(2).addShape(3).addFloatData(1)).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "needs 12", () -> runner.infer(InferRequest.newBuilder()
                .setModelId(RunnerTestModels.AFFINE).addInputs(Tensor.newBuilder().setName("x").setElementType(ElementType.FLOAT)
                        .addShape(1).addShape(3).setRawData(ByteString.copyFrom(new byte[5]))).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "no output 'z'", () -> runner.infer(InferRequest.newBuilder()
                .setModelId(RunnerTestModels.AFFINE).addInputs(floats("x", 1, 1, 2, 3)).addOutputNames("z").build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "inputs missing: [in_", () -> runner.infer(InferRequest.newBuilder()
                .setModelId(RunnerTestModels.ECHO).addInputs(Tensor.newBuilder().setName("in_bool").setElementType(ElementType.BOOL)
                        .addShape(1).addShape(2).addBoolData(true).addBoolData(true)).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "model_id is required", () -> runner.infer(InferRequest.getDefaultInstance()));
        // a graph ONNX Runtime cannot open: its words reach the caller
        assertStatus(Status.Code.INVALID_ARGUMENT, "ONNX Runtime cannot load model 'broken-graph'", () -> runner.loadModel(LoadModelRequest
                .newBuilder().setModelId(RunnerTestModels.BROKEN).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "nothing to quantise", () -> runner.quantize(QuantizeRequest.newBuilder()
                .setModelId(RunnerTestModels.AFFINE).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "keep_alive_seconds", () -> runner.loadModel(LoadModelRequest.newBuilder()
                .setModelId(RunnerTestModels.AFFINE).setKeepAliveSeconds(-5).build()));
        // the process is fine afterwards
        assertArrayEquals(RunnerTestModels.affine(new float[] {1, 2, 3}), floats(affine(1, 2, 3).getOutputs(0)), 0f);
    }

    @Test
    void loadIsIdempotentUnloadFreesAndKeepAliveExpires() throws InterruptedException {
        LoadedModel first = runner.loadModel(LoadModelRequest.newBuilder().setModelId(RunnerTestModels.ECHO).build()).getModel();
        LoadedModel again = runner.loadModel(LoadModelRequest.newBuilder().setModelId(first.getModelId()).setKeepAliveSeconds(-1)
                .build()).getModel();
        assertEquals(first.getLoadedAtEpochMs(), again.getLoadedAtEpochMs(), "a second load answers the loaded model");
        assertEquals(0, again.getExpiresAtEpochMs(), "kept until unloaded");
        assertTrue(first.getExpiresAtEpochMs() > System.currentTimeMillis());
        assertTrue(first.getMemoryBytes() > 0);
        assertEquals(9, first.getInputsCount());
        assertTrue(runner.unloadModel(UnloadModelRequest.newBuilder().setModelId(RunnerTestModels.ECHO).build()).getUnloaded());
        assertFalse(runner.unloadModel(UnloadModelRequest.newBuilder().setModelId(RunnerTestModels.ECHO).build()).getUnloaded());
        assertTrue(runner.listLoaded(ListLoadedRequest.getDefaultInstance()).getModelsList().stream()
                .noneMatch(m -> m.getName().equals(RunnerTestModels.ECHO)));

        runner.loadModel(LoadModelRequest.newBuilder().setModelId(RunnerTestModels.ECHO).setKeepAliveSeconds(1).build());
        long deadline = System.currentTimeMillis() + 10_000;
        while (runner.listLoaded(ListLoadedRequest.getDefaultInstance()).getModelsList().stream()
                .anyMatch(m -> m.getName().equals(RunnerTestModels.ECHO))) {
            assertTrue(System.currentTimeMillis() < deadline, "a model with a keep-alive of 1 s was still loaded after 10 s");
            Thread.sleep(200);
        }
        String metrics = RestAssured.get("/q/metrics").asString();
        assertTrue(metrics.contains("bkg_runner_unloads_total"), metrics);
        assertTrue(metrics.contains("bkg_runner_models_loaded"), metrics);
    }

    @Test
    void miniLmQuantisedToInt8IsSmallCloseAndServableAsAnEmbeddingModel() throws Exception {
        QuantizeResponse report = runner.quantize(QuantizeRequest.newBuilder().setModelId(MINILM).setName("minilm-int8-test").build());
        assertEquals("minilm-int8-test", report.getNewModelName());
        double ratio = (double) report.getSizeAfterBytes() / report.getSizeBeforeBytes();
        assertTrue(ratio <= 0.30, "int8 graph is " + ratio + " of fp32");
        assertTrue(report.getQuantizedOpsList().containsAll(List.of("Gather", "MatMul")), report.getQuantizedOpsList().toString());
        assertEquals(8, report.getSamples());
        assertTrue(report.getMinCosine() > 0.9, "cosine on generated inputs " + report.getMinCosine());
        assertTrue(report.getMaxAbsError() > 0, "int8 weights changed nothing?");

        List<String> sentences = List.of("A man is eating food.", "A man is eating a piece of bread.",
                "The girl is carrying a baby.", "A man is riding a horse.", "A woman is playing violin.",
                "Two men pushed carts through the woods.", "A man is riding a white horse on an enclosed ground.",
                "A monkey is playing drums.", "Someone in a gorilla costume is playing a set of drums.",
                "The quick brown fox jumps over the lazy dog.");
        Embeddings.Result fp32 = embeddings.embed(MINILM, sentences, true, true).get();
        Embeddings.Result int8 = embeddings.embed("minilm-int8-test", sentences, true, true).get();
        for (int i = 0; i < sentences.size(); i++) {
            double cos = 0;
            for (int d = 0; d < fp32.dimensions(); d++) {
                cos += fp32.vectors().get(i)[d] * int8.vectors().get(i)[d];
            }
            assertTrue(cos >= 0.99, "sentence " + i + ": cosine " + cos);
        }

        // within the 100 MB budget MiniLM and its int8 copy do not fit together: the least recently used goes
        runner.loadModel(LoadModelRequest.newBuilder().setModelId(MINILM).build());
        runner.loadModel(LoadModelRequest.newBuilder().setModelId("minilm-int8-test").build());
        List<String> names = runner.listLoaded(ListLoadedRequest.getDefaultInstance()).getModelsList().stream()
                .map(LoadedModel::getName).toList();
        assertTrue(names.contains("minilm-int8-test") && !names.contains(MINILM), names.toString());
        assertTrue(runner.listLoaded(ListLoadedRequest.getDefaultInstance()).getMemoryUsedBytes() <= 100L << 20);
    }

    @Test
    void embeddingModelsAreBoundedInNumberAndIdleTime() throws Exception {
        String a = runner.quantize(QuantizeRequest.newBuilder().setModelId(MINILM).setName("minilm-a").setSamples(1).build())
                .getNewModelId();
        String b = runner.quantize(QuantizeRequest.newBuilder().setModelId(MINILM).setName("minilm-b").setSamples(1).build())
                .getNewModelId();
        long before = embeddings.totals()[0];
        embeddings.embed(MINILM, List.of("one"), true, true).get();
        embeddings.embed(a, List.of("two"), true, true).get();
        assertTrue(embeddings.isLoaded(a));
        // a third model with two loaded: the least recently used that is not the default goes
        embeddings.embed(b, List.of("three"), true, true).get();
        assertFalse(embeddings.isLoaded(a), "minilm-a should have made room");
        assertTrue(embeddings.isLoaded(b));
        String minilmId = embeddings.describe(MINILM).id();
        assertTrue(embeddings.isLoaded(minilmId), "the default model stays");
        // idle past the keep-alive (3 s): unloaded, but never the default
        long deadline = System.currentTimeMillis() + 15_000;
        while (embeddings.isLoaded(b)) {
            assertTrue(System.currentTimeMillis() < deadline, "minilm-b still loaded 15 s after its last use");
            Thread.sleep(200);
        }
        assertTrue(embeddings.isLoaded(minilmId));
        assertTrue(embeddings.totals()[0] >= before + 3, "texts of unloaded models still count");
        // an unloaded model loads again on demand
        assertEquals(384, embeddings.embed(a, List.of("again"), true, true).get().dimensions());
    }

    @Test
    void theBusRunsTypedRequestsAndAnswersTypedValues() throws Exception {
        String reply = plugin.invoke(InvokeRequest.newBuilder().setCapability("candle.model.infer").setPayloadJson(
                "{\"modelId\":\"" + RunnerTestModels.AFFINE + "\",\"inputs\":[{\"name\":\"x\",\"elementType\":\"FLOAT\","
                        + "\"shape\":[1,3],\"floatData\":[1,2,3]}]}").build()).getPayloadJson();
        JsonNode outputs = new ObjectMapper().readTree(reply).path("outputs");
        assertEquals(22.5, outputs.get(0).path("floatData").get(0).asDouble(), 0);
        assertEquals(27, outputs.get(0).path("floatData").get(1).asDouble(), 0);
        String loaded = plugin.invoke(InvokeRequest.newBuilder().setCapability("candle.model.load")
                .setPayloadJson("{\"modelId\":\"" + RunnerTestModels.AFFINE + "\"}").build()).getPayloadJson();
        assertTrue(loaded.contains("\"dynamicBatch\": true") || loaded.contains("\"dynamicBatch\":true"), loaded);
        assertStatus(Status.Code.INVALID_ARGUMENT, "", () -> plugin.invoke(InvokeRequest.newBuilder()
                .setCapability("candle.model.infer").setPayloadJson("{\"modelId\": 5, \"nope\": true}").build()));
        // every capability candle declares is served: an empty request is a bad request, never UNIMPLEMENTED
        for (var capability : plugin.describe(dev.bkg.proto.plugin.v1.DescribeRequest.getDefaultInstance()).getCapabilitiesList()) {
            assertStatus(Status.Code.INVALID_ARGUMENT, "model_id is required", () -> plugin.invoke(InvokeRequest.newBuilder()
                    .setCapability(capability.getName()).setPayloadJson("{}").build()));
        }
    }

    private LoadedModel loaded(String name) {
        return runner.listLoaded(ListLoadedRequest.getDefaultInstance()).getModelsList().stream()
                .filter(m -> m.getName().equals(name)).findFirst().orElseThrow();
    }

    private static void assertStatus(Status.Code code, String detail, Runnable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        String description = String.valueOf(e.getStatus().getDescription());
        assertTrue(description.contains(detail), description);
    }
}
