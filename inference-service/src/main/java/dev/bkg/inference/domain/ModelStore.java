package dev.bkg.inference.domain;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;
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
import io.quarkus.grpc.GrpcClient;

/**
 * Models as model-service has them: looked up by id or name, their files fetched over gRPC
 * (ReadModelFile) and kept in a local cache named by SHA-256, so that this service needs no disk
 * shared with model-service and fetches a file once however many models or restarts use it.
 * Blocking: call it from worker threads.
 */
@ApplicationScoped
public class ModelStore {

    private static final Logger LOG = Logger.getLogger(ModelStore.class);
    private static final long DEADLINE_SECONDS = 20;

    private final ModelServiceBlockingStub models;
    private final Path cache;

    ModelStore(@GrpcClient("model") ModelServiceBlockingStub models, InferenceSettings settings,
            @ConfigProperty(name = "bkg.home", defaultValue = ".bkg") Path home) {
        this.models = models;
        this.cache = settings.cacheDir().orElseGet(() -> home.resolve("cache").resolve("inference")).toAbsolutePath();
    }

    /** A model by id or name (Refusal NOT_FOUND; NOT_READY while model-service does not answer). */
    public Model find(String idOrName) {
        try {
            if (idOrName.startsWith("m_")) {
                try {
                    return stub().getModel(GetModelRequest.newBuilder().setId(idOrName).build()).getModel();
                } catch (StatusRuntimeException e) {
                    if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
                        throw e;
                    }
                }
            }
            return stub().listModels(ListModelsRequest.getDefaultInstance()).getModelsList().stream()
                    .filter(m -> m.getName().equals(idOrName)).findFirst()
                    .orElseThrow(() -> new Refusal(Refusal.Reason.NOT_FOUND, "no model '" + idOrName + "'"));
        } catch (StatusRuntimeException e) {
            throw unavailable(e);
        }
    }

    /** Every model of model-service's catalog (filtered as asked). */
    public java.util.List<Model> list(ListModelsRequest request) {
        try {
            return stub().listModels(request).getModelsList();
        } catch (StatusRuntimeException e) {
            throw unavailable(e);
        }
    }

    /** One file of a model on the local disk, fetched first when the cache lacks it. */
    public Path file(Model model, String name) {
        ModelFile wanted = model.getFilesList().stream().filter(f -> f.getName().equals(name)).findFirst()
                .orElseThrow(() -> new Refusal(Refusal.Reason.INVALID, "model '" + model.getName() + "' has no file " + name));
        if (!wanted.getSha256().matches("[0-9a-f]{64}")) {
            throw new IllegalStateException("model-service gave no SHA-256 for " + name);
        }
        Path cached = cache.resolve(wanted.getSha256());
        try {
            if (Files.isRegularFile(cached) && Files.size(cached) == wanted.getSizeBytes()) {
                return cached;
            }
            Files.createDirectories(cache);
            Path partial = Files.createTempFile(cache, wanted.getSha256(), ".part");
            try {
                fetch(model.getId(), wanted, partial);
                Files.move(partial, cached, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(partial);
            }
            return cached;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot cache " + name + " of " + model.getName() + " in " + cache, e);
        }
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
        } catch (StatusRuntimeException e) {
            throw unavailable(e);
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

    private static RuntimeException unavailable(StatusRuntimeException e) {
        if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
            return new Refusal(Refusal.Reason.NOT_FOUND, e.getStatus().getDescription());
        }
        return new Refusal(Refusal.Reason.NOT_READY, "model-service cannot be reached (" + e.getStatus().getCode() + ")");
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
