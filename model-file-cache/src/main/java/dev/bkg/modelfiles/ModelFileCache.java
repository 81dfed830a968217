package dev.bkg.modelfiles;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.jboss.logging.Logger;

import dev.bkg.proto.model.v1.FileChunk;
import dev.bkg.proto.model.v1.GetModelRequest;
import dev.bkg.proto.model.v1.ListModelsRequest;
import dev.bkg.proto.model.v1.Model;
import dev.bkg.proto.model.v1.ModelFile;
import dev.bkg.proto.model.v1.ModelServiceGrpc.ModelServiceBlockingStub;
import dev.bkg.proto.model.v1.ReadModelFileRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Models as model-service has them: looked up by id or name, their files fetched over gRPC
 * (ReadModelFile), checked against the catalog's size and SHA-256, and kept in a local folder named
 * by SHA-256, so that a service running models needs no disk shared with model-service and fetches
 * a file once however many models or restarts use it. Blocking: call it from worker threads.
 * Failures of model-service reach the caller as the {@link StatusRuntimeException} it raised.
 */
public final class ModelFileCache {

    private static final Logger LOG = Logger.getLogger(ModelFileCache.class);
    private static final long DEADLINE_SECONDS = 20;

    private final ModelServiceBlockingStub models;
    private final Path folder;

    public ModelFileCache(ModelServiceBlockingStub models, Path folder) {
        this.models = models;
        this.folder = folder.toAbsolutePath();
    }

    /** A model by id ({@code m_…}) or by name; empty when the catalog has none. */
    public Optional<Model> find(String idOrName) {
        if (idOrName.startsWith("m_")) {
            try {
                return Optional.of(stub().getModel(GetModelRequest.newBuilder().setId(idOrName).build()).getModel());
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
                    throw e;
                }
            }
        }
        return stub().listModels(ListModelsRequest.getDefaultInstance()).getModelsList().stream()
                .filter(m -> m.getName().equals(idOrName)).findFirst();
    }

    /** The catalog's models, filtered as asked. */
    public List<Model> list(ListModelsRequest request) {
        return stub().listModels(request).getModelsList();
    }

    /** The file's entry in the model's catalog record; empty when the model has no such file. */
    public static Optional<ModelFile> entry(Model model, String name) {
        return model.getFilesList().stream().filter(f -> f.getName().equals(name)).findFirst();
    }

    /** One file of a model on the local disk, fetched first when the cache lacks it. */
    public Path file(Model model, ModelFile wanted) throws IOException {
        if (!wanted.getSha256().matches("[0-9a-f]{64}")) {
            throw new IOException("model-service gave no SHA-256 for " + wanted.getName() + " of " + model.getName());
        }
        Path cached = folder.resolve(wanted.getSha256());
        if (Files.isRegularFile(cached) && Files.size(cached) == wanted.getSizeBytes()) {
            return cached;
        }
        Files.createDirectories(folder);
        Path partial = Files.createTempFile(folder, wanted.getSha256(), ".part");
        try {
            fetch(model.getId(), wanted, partial);
            Files.move(partial, cached, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(partial);
        }
        return cached;
    }

    private void fetch(String modelId, ModelFile file, Path into) throws IOException {
        long started = System.nanoTime();
        MessageDigest sha = sha256();
        long received = 0;
        try (OutputStream out = Files.newOutputStream(into)) {
            Iterator<FileChunk> chunks = models.readModelFile(ReadModelFileRequest.newBuilder().setModelId(modelId)
                    .setFileName(file.getName()).build());
            while (chunks.hasNext()) {
                FileChunk chunk = chunks.next();
                if (chunk.getOffset() != received) {
                    throw new IOException("chunk at " + chunk.getOffset() + " after " + received + " bytes");
                }
                chunk.getData().writeTo(out);
                sha.update(chunk.getData().asReadOnlyByteBuffer());
                received += chunk.getData().size();
            }
        }
        String got = HexFormat.of().formatHex(sha.digest());
        if (received != file.getSizeBytes() || !got.equals(file.getSha256())) {
            throw new IOException("fetched " + file.getName() + " does not match its catalog entry (" + received + " bytes, "
                    + got + ")");
        }
        LOG.infof("fetched %s of model %s (%d bytes) from model-service in %d ms", file.getName(), modelId, received,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    }

    private ModelServiceBlockingStub stub() {
        return models.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
