package dev.bkg.model.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.bkg.testsupport.LocalFileServer;
import dev.bkg.model.domain.ModelDirectory;
import dev.bkg.proto.model.v1.CancelDownloadRequest;
import dev.bkg.proto.model.v1.DeleteModelRequest;
import dev.bkg.proto.model.v1.DownloadModelRequest;
import dev.bkg.proto.model.v1.DownloadModelResponse;
import dev.bkg.proto.model.v1.DownloadProgress;
import dev.bkg.proto.model.v1.DownloadProgress.State;
import dev.bkg.proto.model.v1.FileSource;
import dev.bkg.proto.model.v1.FileSourceList;
import dev.bkg.proto.model.v1.GetModelRequest;
import dev.bkg.proto.model.v1.HuggingFaceSource;
import dev.bkg.proto.model.v1.ListModelsRequest;
import dev.bkg.proto.model.v1.Model;
import dev.bkg.proto.model.v1.ModelKind;
import dev.bkg.proto.model.v1.ModelStatus;
import dev.bkg.proto.model.v1.MutinyModelServiceGrpc.MutinyModelServiceStub;
import dev.bkg.proto.model.v1.ReadModelFileRequest;
import dev.bkg.proto.model.v1.WatchDownloadRequest;
import dev.bkg.testsupport.EmbeddedPostgresTestResource;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;

/**
 * Downloads from a real HTTP server on loopback (allow-listed in the test profile) through the
 * gRPC contract: progress in order to the end, resume with a Range request after the transfer
 * breaks off, checksum and HTTP failures that leave nothing behind, the SSRF guard, joining a
 * running download, cancel, delete, and reading the files back in chunks.
 */
@QuarkusTest
@WithTestResource(EmbeddedPostgresTestResource.class)
class DownloadsTest {

    static final Duration WAIT = Duration.ofSeconds(60);
    /** One server for the whole run (it dies with the test JVM). */
    static final LocalFileServer server = LocalFileServer.shared();

    @GrpcClient("model")
    MutinyModelServiceStub models;

    @Inject
    ModelDirectory directory;

    DownloadModelResponse download(String name, String path, String sha256) {
        return models.downloadModel(DownloadModelRequest.newBuilder().setName(name).setKind(ModelKind.GENERIC)
                .setFiles(FileSourceList.newBuilder().addFiles(FileSource.newBuilder().setName("weights/model.bin")
                        .setUrl(server.url(path)).setSha256(sha256)))
                .build()).await().atMost(WAIT);
    }

    List<DownloadProgress> watchToTheEnd(String jobId) {
        return models.watchDownload(WatchDownloadRequest.newBuilder().setJobId(jobId).build())
                .collect().asList().await().atMost(WAIT);
    }

    Model model(String id) {
        return models.getModel(GetModelRequest.newBuilder().setId(id).build()).await().atMost(WAIT).getModel();
    }

    static Status.Code codeOf(Runnable call) {
        return assertThrows(StatusRuntimeException.class, call::run).getStatus().getCode();
    }

    /** Nothing of the model's download is left in the staging folder. */
    boolean noStaging(String modelId) {
        return !Files.exists(directory.root().resolve(".downloads").resolve(modelId));
    }

    @Test
    void aDownloadReportsProgressInOrderVerifiesItsChecksumAndServesItsFile() throws Exception {
        DownloadModelResponse started = download("slow-model", "/slow.bin", LocalFileServer.SHA256);
        List<DownloadProgress> progress = watchToTheEnd(started.getJobId());
        DownloadProgress last = progress.get(progress.size() - 1);
        assertEquals(State.DONE, last.getState(), last.getMessage());
        assertTrue(progress.stream().filter(p -> p.getState() == State.RUNNING).count() >= 5, "several RUNNING updates");
        for (int i = 1; i < progress.size(); i++) {
            assertTrue(progress.get(i).getBytesDone() >= progress.get(i - 1).getBytesDone(), "bytes only grow");
            assertTrue(progress.get(i).getTimestampEpochMs() >= progress.get(i - 1).getTimestampEpochMs());
        }
        assertEquals(LocalFileServer.CONTENT.length, last.getBytesDone());
        assertEquals(LocalFileServer.CONTENT.length, last.getBytesTotal(), "the size was known from HEAD");
        assertTrue(progress.stream().anyMatch(p -> p.getRateBytesPerS() > 0 && p.getEtaMs() >= 0), "rate and ETA shown");

        Model model = model(started.getModelId());
        assertEquals(ModelStatus.READY, model.getStatus());
        assertEquals(LocalFileServer.SHA256, model.getFiles(0).getSha256());
        assertEquals("weights/model.bin", model.getFiles(0).getName());
        assertEquals(started.getJobId(), model.getJobId());
        assertTrue(Files.size(directory.file(model.getId(), "weights/model.bin")) == LocalFileServer.CONTENT.length);
        assertTrue(noStaging(model.getId()), "nothing left in staging");

        // another service fetches it in chunks, from an offset too
        ByteArrayOutputStream read = new ByteArrayOutputStream();
        var chunks = models.readModelFile(ReadModelFileRequest.newBuilder().setModelId(model.getId())
                .setFileName("weights/model.bin").setOffset(1000).setChunkSize(100_000).build()).collect().asList()
                .await().atMost(WAIT);
        chunks.forEach(c -> read.writeBytes(c.getData().toByteArray()));
        assertEquals(LocalFileServer.SHA256, chunks.get(0).getSha256());
        assertTrue(chunks.get(chunks.size() - 1).getLast());
        assertTrue(java.util.Arrays.equals(java.util.Arrays.copyOfRange(LocalFileServer.CONTENT, 1000,
                LocalFileServer.CONTENT.length), read.toByteArray()));
        assertEquals(Status.Code.NOT_FOUND, codeOf(() -> models.readModelFile(ReadModelFileRequest.newBuilder()
                .setModelId(model.getId()).setFileName("../etc/passwd").build()).collect().asList().await().atMost(WAIT)));

        // the same name again: already there
        assertEquals(Status.Code.ALREADY_EXISTS, codeOf(() -> download("slow-model", "/model.bin", "")));
        // delete removes files and entry
        long freed = models.deleteModel(DeleteModelRequest.newBuilder().setId(model.getId()).build()).await().atMost(WAIT)
                .getFreedBytes();
        assertEquals(LocalFileServer.CONTENT.length, freed);
        assertFalse(Files.exists(directory.model(model.getId())));
        assertEquals(Status.Code.NOT_FOUND, codeOf(() -> model(model.getId())));
    }

    @Test
    void aHuggingFaceStyleRepositoryComesInOneRequest() {
        server.serve("/acme/tiny-embedder/resolve/v1.0/onnx/model.onnx", new byte[] { 1, 2, 3 });
        server.serve("/acme/tiny-embedder/resolve/v1.0/tokenizer.json", "{}".getBytes());
        DownloadModelResponse started = models.downloadModel(DownloadModelRequest.newBuilder().setName("tiny-embedder")
                .setKind(ModelKind.EMBEDDING).setHuggingFace(HuggingFaceSource.newBuilder().setRepo("acme/tiny-embedder")
                        .setRevision("v1.0").addFiles("onnx/model.onnx").addFiles("tokenizer.json")
                        .setEndpoint(server.url("")))
                .build()).await().atMost(WAIT);
        assertEquals(State.DONE, watchToTheEnd(started.getJobId()).stream().reduce((a, b) -> b).orElseThrow().getState());
        Model model = model(started.getModelId());
        assertEquals("hf:acme/tiny-embedder@v1.0", model.getSource());
        assertEquals(List.of("onnx/model.onnx", "tokenizer.json"), model.getFilesList().stream().map(f -> f.getName()).toList());
        assertEquals(Status.Code.INVALID_ARGUMENT, codeOf(() -> models.downloadModel(DownloadModelRequest.newBuilder()
                .setName("hf-bad").setKind(ModelKind.EMBEDDING).setHuggingFace(HuggingFaceSource.newBuilder()
                        .setRepo("../../etc").addFiles("x")).build()).await().atMost(WAIT)));
    }

    @Test
    void aTransferThatBreaksOffResumesWithARangeRequest() {
        DownloadModelResponse started = download("flaky-model", "/flaky.bin", LocalFileServer.SHA256);
        DownloadProgress last = watchToTheEnd(started.getJobId()).stream().reduce((a, b) -> b).orElseThrow();
        assertEquals(State.DONE, last.getState(), last.getMessage());
        assertEquals(ModelStatus.READY, model(started.getModelId()).getStatus());
        List<String> flaky = server.ranges.stream().filter(r -> r.startsWith("/flaky.bin")).toList();
        assertEquals(2, flaky.size(), "one broken transfer, one resumed: " + flaky);
        assertEquals("/flaky.bin -", flaky.get(0));
        assertTrue(flaky.get(1).matches("/flaky\\.bin bytes=[1-9]\\d*-"), "the second asks for the rest only: " + flaky);
    }

    @Test
    void failuresEndTheJobWithTheReasonAndLeaveNothingBehind() throws Exception {
        DownloadModelResponse bad = download("bad-checksum", "/model.bin", "0".repeat(64));
        DownloadProgress end = watchToTheEnd(bad.getJobId()).stream().reduce((a, b) -> b).orElseThrow();
        assertEquals(State.FAILED, end.getState());
        assertTrue(end.getMessage().contains("checksum mismatch"), end.getMessage());
        Model failed = model(bad.getModelId());
        assertEquals(ModelStatus.FAILED, failed.getStatus());
        assertTrue(failed.getStatusMessage().contains("checksum mismatch"));
        assertFalse(Files.exists(directory.model(bad.getModelId())));
        assertTrue(noStaging(bad.getModelId()));

        DownloadModelResponse missing = download("not-there", "/nothing-here.bin", "");
        end = watchToTheEnd(missing.getJobId()).stream().reduce((a, b) -> b).orElseThrow();
        assertEquals(State.FAILED, end.getState());
        assertTrue(end.getMessage().contains("HTTP 404"), end.getMessage());

        DownloadModelResponse redirected = download("redirected", "/redirect", "");
        end = watchToTheEnd(redirected.getJobId()).stream().reduce((a, b) -> b).orElseThrow();
        assertEquals(State.FAILED, end.getState());
        assertTrue(end.getMessage().contains("private"), "a redirect to a loopback host is refused: " + end.getMessage());

        // a failed model downloads again under the same name, and this time it works
        DownloadModelResponse again = models.downloadModel(DownloadModelRequest.newBuilder().setName("bad-checksum")
                .setKind(ModelKind.GENERIC).setUrl(server.url("/model.bin")).setExpectedSha256(LocalFileServer.SHA256).build())
                .await().atMost(WAIT);
        assertEquals(bad.getModelId(), again.getModelId());
        assertEquals(State.DONE, watchToTheEnd(again.getJobId()).stream().reduce((a, b) -> b).orElseThrow().getState());
        assertEquals("model.bin", model(again.getModelId()).getFiles(0).getName());

        // too large for the cap
        DownloadModelResponse capped = models.downloadModel(DownloadModelRequest.newBuilder().setName("capped")
                .setKind(ModelKind.GENERIC).setUrl(server.url("/model.bin")).setMaxBytes(1024).build()).await().atMost(WAIT);
        end = watchToTheEnd(capped.getJobId()).stream().reduce((a, b) -> b).orElseThrow();
        assertEquals(State.FAILED, end.getState());
        assertTrue(end.getMessage().contains("cap of 1024"), end.getMessage());
        assertTrue(noStaging(capped.getModelId()));

        // larger than the disk (the test profile lifts the cap above it): refused before the first byte
        DownloadModelResponse enormous = download("enormous", "/enormous.bin", "");
        end = watchToTheEnd(enormous.getJobId()).stream().reduce((a, b) -> b).orElseThrow();
        assertEquals(State.FAILED, end.getState());
        assertTrue(end.getMessage().startsWith("not enough disk space for weights/model.bin: " + LocalFileServer.ENORMOUS
                + " more bytes needed"), end.getMessage());
        assertEquals(ModelStatus.FAILED, model(enormous.getModelId()).getStatus());
        assertTrue(noStaging(enormous.getModelId()));
    }

    @Test
    void badRequestsAndPrivateAddressesAreRefusedAtOnce() {
        String port = server.url("/").replaceAll(".*:(\\d+)/$", "$1");
        for (String url : List.of("http://localhost:" + port + "/model.bin", "http://10.0.0.1/model.onnx",
                "http://169.254.169.254/latest/meta-data", "file:///etc/passwd", "ftp://example.org/x", "not a url")) {
            Status.Code code = codeOf(() -> models.downloadModel(DownloadModelRequest.newBuilder().setName("ssrf")
                    .setKind(ModelKind.GENERIC).setUrl(url).build()).await().atMost(WAIT));
            assertEquals(Status.Code.INVALID_ARGUMENT, code, url);
        }
        for (String name : List.of("../escape.onnx", "/etc/passwd", "a/../../b", "", "x\u0000y")) {
            assertEquals(Status.Code.INVALID_ARGUMENT, codeOf(() -> models.downloadModel(DownloadModelRequest.newBuilder()
                    .setName("names").setKind(ModelKind.GENERIC).setFiles(FileSourceList.newBuilder().addFiles(
                            FileSource.newBuilder().setName(name).setUrl(server.url("/model.bin")))).build())
                    .await().atMost(WAIT)), name);
        }
        assertEquals(Status.Code.INVALID_ARGUMENT, codeOf(() -> models.downloadModel(DownloadModelRequest.newBuilder()
                .setName("no-kind").setUrl(server.url("/model.bin")).build()).await().atMost(WAIT)));
        assertEquals(Status.Code.INVALID_ARGUMENT, codeOf(() -> models.downloadModel(DownloadModelRequest.newBuilder()
                .setName("bad-sha").setKind(ModelKind.GENERIC).setUrl(server.url("/model.bin")).setExpectedSha256("abc")
                .build()).await().atMost(WAIT)));
        assertTrue(models.listModels(ListModelsRequest.getDefaultInstance()).await().atMost(WAIT).getModelsList().stream()
                .noneMatch(m -> List.of("ssrf", "names", "no-kind", "bad-sha").contains(m.getName())), "nothing stored");
        assertEquals(Status.Code.NOT_FOUND, codeOf(() -> models.watchDownload(WatchDownloadRequest.newBuilder()
                .setJobId("j_nope").build()).collect().asList().await().atMost(WAIT)));
    }

    @Test
    void concurrentRequestsShareOneDownloadWhichCanBeCancelledAndDeletedOnlyWithForce() throws Exception {
        DownloadModelResponse first = download("shared", "/slow.bin", "");
        DownloadModelResponse second = download("shared", "/slow.bin", "");
        assertTrue(second.getJoinedExisting());
        assertEquals(first.getJobId(), second.getJobId());
        assertEquals(Status.Code.FAILED_PRECONDITION, codeOf(() -> models.deleteModel(DeleteModelRequest.newBuilder()
                .setId(first.getModelId()).build()).await().atMost(WAIT)));
        DownloadProgress cancelled = models.cancelDownload(CancelDownloadRequest.newBuilder().setJobId(first.getJobId())
                .build()).await().atMost(WAIT).getProgress();
        assertEquals(State.CANCELLED, cancelled.getState());
        assertEquals(ModelStatus.FAILED, model(first.getModelId()).getStatus());
        assertTrue(noStaging(first.getModelId()), "a cancelled job leaves nothing");

        DownloadModelResponse third = download("shared", "/slow.bin", "");
        assertEquals(first.getModelId(), third.getModelId());
        models.deleteModel(DeleteModelRequest.newBuilder().setId(third.getModelId()).setForce(true).build())
                .await().atMost(WAIT);
        assertEquals(Status.Code.NOT_FOUND, codeOf(() -> model(third.getModelId())));
        assertFalse(Files.exists(directory.model(third.getModelId())));
        assertTrue(noStaging(third.getModelId()));
    }
}
