package dev.bkg.model.importer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import com.google.protobuf.ByteString;

import dev.bkg.testsupport.LocalFileServer;
import dev.bkg.proto.model.v1.DownloadModelRequest;
import dev.bkg.proto.model.v1.FileSource;
import dev.bkg.proto.model.v1.FileSourceList;
import dev.bkg.proto.model.v1.ImportFile;
import dev.bkg.proto.model.v1.ImportModelRequest;
import dev.bkg.proto.model.v1.Model;
import dev.bkg.proto.model.v1.ModelKind;
import dev.bkg.proto.model.v1.ModelStatus;
import dev.bkg.proto.model.v1.MutinyModelServiceGrpc.MutinyModelServiceStub;
import dev.bkg.proto.model.v1.WatchDownloadRequest;
import dev.bkg.testsupport.EmbeddedPostgresTestResource;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/** ImportModel through gRPC: inline TF.js files, or a TF.js model downloaded into the catalog first. */
@QuarkusTest
@WithTestResource(EmbeddedPostgresTestResource.class)
class TfjsImportTest {

    static final Duration WAIT = Duration.ofSeconds(60);

    @GrpcClient("model")
    MutinyModelServiceStub models;

    @Test
    void aTfjsGraphBecomesAValidatedOnnxModel() throws Exception {
        TfjsConverterTest graph = new TfjsConverterTest();
        byte[] json = TfjsConverterTest.JSON.writeValueAsBytes(graph.modelJson(false));
        byte[] weights = graph.weightBytes();
        Model model = models.importModel(ImportModelRequest.newBuilder().setFormat("tfjs").setName("tiny-tfjs")
                .setKind(ModelKind.GENERIC)
                .addFiles(ImportFile.newBuilder().setName("model.json").setContent(ByteString.copyFrom(json)))
                .addFiles(ImportFile.newBuilder().setName("group1-shard1of1.bin").setContent(ByteString.copyFrom(weights)))
                .build()).await().atMost(WAIT).getModel();
        assertEquals(ModelStatus.READY, model.getStatus(), model.getStatusMessage());
        assertEquals("onnx", model.getFormat());
        assertEquals("model.onnx", model.getFiles(0).getName());
        assertEquals("input", model.getValidation().getInputs(0).getName());
        assertTrue(model.getValidation().getMessage().contains("embedding[1, 5]"), model.getValidation().getMessage());
        assertTrue(model.getPropertiesOrThrow("tfjs_ops").contains("DepthwiseConv2dNative"));

        // the same files downloaded into the catalog, then imported from there
        LocalFileServer server = LocalFileServer.shared();
        server.serve("/tfjs/model.json", json);
        server.serve("/tfjs/group1-shard1of1.bin", weights);
        var download = models.downloadModel(DownloadModelRequest.newBuilder().setName("tiny-tfjs-source")
                .setKind(ModelKind.GENERIC).setFormat("tfjs").setFiles(FileSourceList.newBuilder()
                        .addFiles(FileSource.newBuilder().setName("model.json").setUrl(server.url("/tfjs/model.json")))
                        .addFiles(FileSource.newBuilder().setName("group1-shard1of1.bin")
                                .setUrl(server.url("/tfjs/group1-shard1of1.bin"))))
                .build()).await().atMost(WAIT);
        models.watchDownload(WatchDownloadRequest.newBuilder().setJobId(download.getJobId()).build()).collect().asList()
                .await().atMost(WAIT);
        Model imported = models.importModel(ImportModelRequest.newBuilder().setFormat("tfjs").setName("tiny-tfjs-2")
                .setKind(ModelKind.GENERIC).setSourceModelId(download.getModelId()).build()).await().atMost(WAIT).getModel();
        assertEquals(ModelStatus.READY, imported.getStatus());
        assertEquals("import:" + download.getModelId(), imported.getSource());
    }

    @Test
    void whatCannotBeConvertedIsNamed() throws Exception {
        TfjsConverterTest graph = new TfjsConverterTest();
        byte[] json = TfjsConverterTest.JSON.writeValueAsBytes(graph.modelJson(true));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> models.importModel(
                ImportModelRequest.newBuilder().setFormat("tfjs").setName("unsupported").setKind(ModelKind.GENERIC)
                        .addFiles(ImportFile.newBuilder().setName("model.json").setContent(ByteString.copyFrom(json)))
                        .addFiles(ImportFile.newBuilder().setName("group1-shard1of1.bin")
                                .setContent(ByteString.copyFrom(graph.weightBytes())))
                        .build()).await().atMost(WAIT));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("unsupported TF.js ops: Softmax, TopKV2", e.getStatus().getDescription());
        StatusRuntimeException notJson = assertThrows(StatusRuntimeException.class, () -> models.importModel(
                ImportModelRequest.newBuilder().setFormat("tfjs").setName("garbage").setKind(ModelKind.GENERIC)
                        .addFiles(ImportFile.newBuilder().setName("model.json").setContent(ByteString.copyFromUtf8("{not json")))
                        .build()).await().atMost(WAIT));
        assertEquals(Status.Code.INVALID_ARGUMENT, notJson.getStatus().getCode());
        StatusRuntimeException badName = assertThrows(StatusRuntimeException.class, () -> models.importModel(
                ImportModelRequest.newBuilder().setFormat("tfjs").setName("traversal").setKind(ModelKind.GENERIC)
                        .addFiles(ImportFile.newBuilder().setName("../model.json").setContent(ByteString.copyFrom(json)))
                        .build()).await().atMost(WAIT));
        assertEquals(Status.Code.INVALID_ARGUMENT, badName.getStatus().getCode());

        // JSON bombs: deep nesting (inline) and a huge graph file (downloaded first) are refused with the limit named
        String deep = "[".repeat(10_000) + "]".repeat(10_000);
        assertEquals("model.json is nested deeper than 64 levels", refusal(ImportModelRequest.newBuilder().setName("deep")
                .addFiles(ImportFile.newBuilder().setName("model.json").setContent(ByteString.copyFromUtf8(deep)))));
        byte[] huge = new byte[8 * 1024 * 1024 + 1];
        java.util.Arrays.fill(huge, (byte) ' ');
        LocalFileServer server = LocalFileServer.shared();
        server.serve("/bomb/model.json", huge);
        var download = models.downloadModel(DownloadModelRequest.newBuilder().setName("bomb-source").setKind(ModelKind.GENERIC)
                .setFormat("tfjs").setUrl(server.url("/bomb/model.json")).build()).await().atMost(WAIT);
        models.watchDownload(WatchDownloadRequest.newBuilder().setJobId(download.getJobId()).build()).collect().asList()
                .await().atMost(WAIT);
        String tooLarge = refusal(ImportModelRequest.newBuilder().setName("huge").setSourceModelId(download.getModelId()));
        assertTrue(tooLarge.startsWith("model.json has 8388609 bytes; at most 8388608 are read"), tooLarge);
    }

    String refusal(ImportModelRequest.Builder request) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> models.importModel(
                request.setFormat("tfjs").setKind(ModelKind.GENERIC).build()).await().atMost(WAIT));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        return e.getStatus().getDescription();
    }
}
