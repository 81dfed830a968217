package dev.bkg.model.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import dev.bkg.testsupport.LocalFileServer;
import dev.bkg.proto.model.v1.DownloadModelRequest;
import dev.bkg.proto.model.v1.DownloadProgress.State;
import dev.bkg.proto.model.v1.FileSource;
import dev.bkg.proto.model.v1.FileSourceList;
import dev.bkg.proto.model.v1.ListModelsRequest;
import dev.bkg.proto.model.v1.Model;
import dev.bkg.proto.model.v1.ModelKind;
import dev.bkg.proto.model.v1.ModelStatus;
import dev.bkg.proto.model.v1.MutinyModelServiceGrpc.MutinyModelServiceStub;
import dev.bkg.proto.model.v1.TensorInfo;
import dev.bkg.proto.model.v1.ValidateModelRequest;
import dev.bkg.proto.model.v1.ValidateModelResponse;
import dev.bkg.proto.model.v1.WatchDownloadRequest;
import dev.bkg.testsupport.EmbeddedPostgresTestResource;
import dev.bkg.testsupport.Readiness;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The built-in MiniLM is READY after a start without network, with the real signature recorded by
 * ONNX Runtime; validation checks a graph against its declared kind and refuses what is not ONNX.
 */
@QuarkusTest
@WithTestResource(EmbeddedPostgresTestResource.class)
class BuiltinAndValidationTest {

    static final Duration WAIT = Duration.ofSeconds(120);
    static final LocalFileServer server = LocalFileServer.shared();

    @GrpcClient("model")
    MutinyModelServiceStub models;

    Model minilm() {
        Readiness.awaitStatus(200, WAIT);
        return models.listModels(ListModelsRequest.newBuilder().setKind(ModelKind.EMBEDDING).build()).await().atMost(WAIT)
                .getModelsList().stream().filter(m -> m.getName().equals("all-minilm-l6-v2")).findFirst().orElseThrow();
    }

    static Map<String, TensorInfo> byName(List<TensorInfo> tensors) {
        return tensors.stream().collect(Collectors.toMap(TensorInfo::getName, t -> t));
    }

    @Test
    void theBuiltInMiniLmIsReadyWithItsRealSignature() {
        Model model = minilm();
        assertEquals(ModelStatus.READY, model.getStatus());
        assertTrue(model.getSource().startsWith("builtin:dev.langchain4j:"));
        assertEquals(List.of("model.onnx", "tokenizer.json"), model.getFilesList().stream().map(f -> f.getName()).toList());
        assertEquals(90_387_606, model.getFiles(0).getSizeBytes());
        assertEquals(64, model.getFiles(0).getSha256().length());
        assertEquals("384", model.getPropertiesOrThrow("dimensions"));
        Map<String, TensorInfo> inputs = byName(model.getValidation().getInputsList());
        assertEquals(List.of("attention_mask", "input_ids", "token_type_ids"), inputs.keySet().stream().sorted().toList());
        assertEquals("int64", inputs.get("input_ids").getElementType());
        assertEquals(List.of(-1L, -1L), inputs.get("input_ids").getShapeList());
        TensorInfo output = byName(model.getValidation().getOutputsList()).get("last_hidden_state");
        assertEquals("float", output.getElementType());
        assertEquals(List.of(-1L, -1L, 384L), output.getShapeList());
        assertTrue(model.getValidation().getOk());

        ValidateModelResponse again = models.validateModel(ValidateModelRequest.newBuilder().setId(model.getId())
                .setRunInference(true).build()).await().atMost(WAIT);
        assertTrue(again.getResult().getOk(), again.getResult().getMessage());
        assertTrue(again.getResult().getMessage().contains("last_hidden_state[1, 8, 384]"), again.getResult().getMessage());
        assertEquals("model.onnx", again.getResult().getGraphFile());
        System.out.printf("MiniLM validation with one inference took %d ms%n", again.getResult().getDurationMs());
    }

    @Test
    void theBuiltInFaceDetectorsAreReadyWithTheirImageInputs() {
        Readiness.awaitStatus(200, WAIT);
        Map<String, Model> detectors = models.listModels(ListModelsRequest.newBuilder().setKind(ModelKind.FACE_DETECTOR)
                .build()).await().atMost(WAIT).getModelsList().stream().filter(m -> m.getSource().startsWith("builtin:npm:"))
                .collect(Collectors.toMap(Model::getName, m -> m));
        assertEquals(List.of("blazeface-back-256", "blazeface-front-128"), detectors.keySet().stream().sorted().toList());
        for (Model detector : detectors.values()) {
            assertEquals(ModelStatus.READY, detector.getStatus(), detector.getStatusMessage());
            long size = Long.parseLong(detector.getPropertiesOrThrow("input_size"));
            TensorInfo input = detector.getValidation().getInputs(0);
            assertEquals("float", input.getElementType());
            assertEquals(List.of(1L, size, size, 3L), input.getShapeList());
            assertEquals(4, detector.getValidation().getOutputsCount(), "scores and boxes for two anchor grids");
            assertTrue(detector.getValidation().getMessage().contains("ran one inference"));
        }
    }

    @Test
    void theBuiltInFaceEmbedderIsConvertedFromTfjsAndReady() {
        Readiness.awaitStatus(200, WAIT);
        Model mobileface = models.listModels(ListModelsRequest.newBuilder().setKind(ModelKind.FACE_EMBEDDER).build())
                .await().atMost(WAIT).getModelsList().stream().filter(m -> m.getName().equals("mobileface")).findFirst()
                .orElseThrow();
        assertEquals(ModelStatus.READY, mobileface.getStatus(), mobileface.getStatusMessage());
        assertEquals(List.of("model.onnx"), mobileface.getFilesList().stream().map(f -> f.getName()).toList());
        TensorInfo input = mobileface.getValidation().getInputs(0);
        assertEquals(List.of(-1L, 112L, 112L, 3L), input.getShapeList());
        TensorInfo output = mobileface.getValidation().getOutputs(0);
        assertEquals(List.of(-1L, 256L), output.getShapeList());
        assertTrue(mobileface.getValidation().getMessage().contains("[1, 256]"), mobileface.getValidation().getMessage());
    }

    @Test
    void aGraphOfTheWrongKindOrNoGraphAtAllIsInvalid() throws Exception {
        byte[] onnx;
        try (InputStream in = Thread.currentThread().getContextClassLoader().getResourceAsStream("all-minilm-l6-v2.onnx")) {
            onnx = in.readAllBytes();
        }
        server.serve("/minilm/model.onnx", onnx);
        long started = System.nanoTime();
        var job = models.downloadModel(DownloadModelRequest.newBuilder().setName("minilm-as-face-detector")
                .setKind(ModelKind.FACE_DETECTOR).setUrl(server.url("/minilm/model.onnx")).build()).await().atMost(WAIT);
        var end = models.watchDownload(WatchDownloadRequest.newBuilder().setJobId(job.getJobId()).build()).collect().asList()
                .await().atMost(WAIT);
        double seconds = (System.nanoTime() - started) / 1e9;
        assertEquals(State.DONE, end.get(end.size() - 1).getState(), end.get(end.size() - 1).getMessage());
        System.out.printf("downloaded %d bytes from loopback in %.2f s: %.0f MB/s%n", onnx.length, seconds,
                onnx.length / seconds / 1e6);
        ValidateModelResponse wrongKind = models.validateModel(ValidateModelRequest.newBuilder().setId(job.getModelId())
                .build()).await().atMost(WAIT);
        assertFalse(wrongKind.getResult().getOk());
        assertTrue(wrongKind.getResult().getMessage().contains("face model needs one float image input"),
                wrongKind.getResult().getMessage());
        assertEquals(ModelStatus.INVALID, wrongKind.getStatus());

        var notOnnx = models.downloadModel(DownloadModelRequest.newBuilder().setName("not-onnx").setKind(ModelKind.GENERIC)
                .setFiles(randomBytesAsOnnx(server.url("/model.bin"))).build()).await().atMost(WAIT);
        models.watchDownload(WatchDownloadRequest.newBuilder().setJobId(notOnnx.getJobId()).build()).collect().asList()
                .await().atMost(WAIT);
        ValidateModelResponse broken = models.validateModel(ValidateModelRequest.newBuilder().setId(notOnnx.getModelId())
                .build()).await().atMost(WAIT);
        assertFalse(broken.getResult().getOk());
        assertTrue(broken.getResult().getMessage().contains("cannot open model.onnx"), broken.getResult().getMessage());
        assertEquals(ModelStatus.INVALID, broken.getStatus());
    }

    /** The test server's random bytes, saved as model.onnx. */
    static FileSourceList randomBytesAsOnnx(String url) {
        return FileSourceList.newBuilder().addFiles(FileSource.newBuilder().setName("model.onnx").setUrl(url)).build();
    }
}
