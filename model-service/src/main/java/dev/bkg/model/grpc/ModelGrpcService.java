package dev.bkg.model.grpc;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;

import dev.bkg.model.domain.DownloadJob;
import dev.bkg.model.domain.Downloads;
import dev.bkg.model.domain.ModelCatalog;
import dev.bkg.model.domain.ModelDirectory;
import dev.bkg.model.domain.ModelRecord;
import dev.bkg.model.domain.ModelValidator;
import dev.bkg.model.domain.Models;
import dev.bkg.proto.model.v1.CancelDownloadRequest;
import dev.bkg.proto.model.v1.CancelDownloadResponse;
import dev.bkg.proto.model.v1.DeleteModelRequest;
import dev.bkg.proto.model.v1.DeleteModelResponse;
import dev.bkg.proto.model.v1.DownloadModelRequest;
import dev.bkg.proto.model.v1.DownloadModelResponse;
import dev.bkg.proto.model.v1.DownloadProgress;
import dev.bkg.proto.model.v1.FileChunk;
import dev.bkg.proto.model.v1.GetModelRequest;
import dev.bkg.proto.model.v1.GetModelResponse;
import dev.bkg.proto.model.v1.ImportModelRequest;
import dev.bkg.proto.model.v1.ImportModelResponse;
import dev.bkg.proto.model.v1.QuantizeModelRequest;
import dev.bkg.proto.model.v1.QuantizeModelResponse;
import dev.bkg.proto.model.v1.ListModelsRequest;
import dev.bkg.proto.model.v1.ListModelsResponse;
import dev.bkg.proto.model.v1.Model;
import dev.bkg.proto.model.v1.ModelFile;
import dev.bkg.proto.model.v1.ModelKind;
import dev.bkg.proto.model.v1.ModelStatus;
import dev.bkg.proto.model.v1.MutinyModelServiceGrpc;
import dev.bkg.proto.model.v1.ReadModelFileRequest;
import dev.bkg.proto.model.v1.TensorInfo;
import dev.bkg.proto.model.v1.ValidateModelRequest;
import dev.bkg.proto.model.v1.ValidateModelResponse;
import dev.bkg.proto.model.v1.ValidationResult;
import dev.bkg.proto.model.v1.WatchDownloadRequest;
import io.grpc.Status;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;

/**
 * Serves bkg.model.v1.ModelService: the catalog, downloads (start or join, watch, cancel), delete
 * and file reads. Catalog work blocks on worker threads (@Blocking); bad requests are
 * INVALID_ARGUMENT, unknown ids NOT_FOUND, a name already taken ALREADY_EXISTS, a delete during a
 * download FAILED_PRECONDITION. ValidateModel opens the graph in ONNX Runtime; ImportModel
 * converts a TF.js graph model (inline files or a catalogued model's) into a new ONNX model.
 */
@GrpcService
public class ModelGrpcService extends MutinyModelServiceGrpc.ModelServiceImplBase {

    static final int DEFAULT_CHUNK = 256 * 1024;
    static final int MAX_CHUNK = 1024 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Models models;
    private final ModelCatalog catalog;
    private final Downloads downloads;
    private final ModelDirectory directory;

    ModelGrpcService(Models models, ModelCatalog catalog, Downloads downloads, ModelDirectory directory) {
        this.models = models;
        this.catalog = catalog;
        this.downloads = downloads;
        this.directory = directory;
    }

    @Override
    @Blocking
    public Uni<ListModelsResponse> listModels(ListModelsRequest request) {
        return answer(() -> {
            ListModelsResponse.Builder response = ListModelsResponse.newBuilder();
            catalog.all().stream()
                    .filter(m -> request.getKind() == ModelKind.MODEL_KIND_UNSPECIFIED || request.getKind().name().equals(m.kind))
                    .filter(m -> request.getStatus() == ModelStatus.MODEL_STATUS_UNSPECIFIED
                            || request.getStatus().name().equals(m.status))
                    .sorted(java.util.Comparator.comparing((ModelRecord m) -> m.createdAt))
                    .forEach(m -> response.addModels(view(m)));
            return response.build();
        });
    }

    @Override
    @Blocking
    public Uni<GetModelResponse> getModel(GetModelRequest request) {
        return answer(() -> GetModelResponse.newBuilder().setModel(view(find(request.getId()))).build());
    }

    @Override
    @Blocking
    public Uni<DownloadModelResponse> downloadModel(DownloadModelRequest request) {
        return answer(() -> {
            List<DownloadJob.Source> files = new ArrayList<>();
            String source;
            switch (request.getSourceCase()) {
                case URL -> {
                    String url = request.getUrl();
                    String name = url.replaceAll("[?#].*$", "");
                    name = name.substring(name.lastIndexOf('/') + 1);
                    files.add(new DownloadJob.Source(name.isEmpty() ? "model.onnx" : name, url, request.getExpectedSha256()));
                    source = url;
                }
                case FILES -> {
                    request.getFiles().getFilesList().forEach(f -> files.add(new DownloadJob.Source(f.getName(), f.getUrl(),
                            f.getSha256())));
                    source = files.isEmpty() ? "" : files.get(0).url();
                }
                case HUGGING_FACE -> {
                    var hf = request.getHuggingFace();
                    if (!hf.getRepo().matches("[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*")) {
                        throw new IllegalArgumentException("repo must look like owner/name");
                    }
                    String revision = hf.getRevision().isEmpty() ? "main" : hf.getRevision();
                    if (!revision.matches("[A-Za-z0-9][A-Za-z0-9._/-]{0,99}") || revision.contains("..")) {
                        throw new IllegalArgumentException("revision must be a branch, tag or commit");
                    }
                    String endpoint = hf.getEndpoint().isEmpty() ? "https://huggingface.co" : hf.getEndpoint().replaceAll("/+$", "");
                    hf.getFilesList().forEach(f -> files.add(new DownloadJob.Source(f,
                            endpoint + "/" + hf.getRepo() + "/resolve/" + revision + "/" + f, "")));
                    source = "hf:" + hf.getRepo() + "@" + revision;
                }
                default -> throw new IllegalArgumentException("a download needs url, files or hugging_face");
            }
            if (request.getKind() == ModelKind.MODEL_KIND_UNSPECIFIED || request.getKind() == ModelKind.UNRECOGNIZED) {
                throw new IllegalArgumentException("kind is required (embedding, llm, face-detector, face-embedder, generic)");
            }
            Models.Started started = models.download(new Models.DownloadRequest(request.getName(), request.getKind(),
                    request.getFormat(), files, request.getMaxBytes(), source));
            return DownloadModelResponse.newBuilder().setJobId(started.job().id()).setModelId(started.job().modelId())
                    .setJoinedExisting(started.joined()).build();
        });
    }

    @Override
    public Multi<DownloadProgress> watchDownload(WatchDownloadRequest request) {
        return downloads.job(request.getJobId()).map(DownloadJob::watch).orElseGet(() -> Multi.createFrom().failure(
                Status.NOT_FOUND.withDescription("no download job '" + request.getJobId() + "'").asRuntimeException()));
    }

    @Override
    @Blocking
    public Uni<CancelDownloadResponse> cancelDownload(CancelDownloadRequest request) {
        return answer(() -> {
            DownloadJob job = downloads.job(request.getJobId())
                    .orElseThrow(() -> new NoSuchElementException("no download job '" + request.getJobId() + "'"));
            downloads.cancel(job);
            long deadline = System.currentTimeMillis() + 10_000;
            while (!job.finished() && System.currentTimeMillis() < deadline) {
                Thread.sleep(50);
            }
            return CancelDownloadResponse.newBuilder().setProgress(job.progress()).build();
        });
    }

    @Override
    @Blocking
    public Uni<DeleteModelResponse> deleteModel(DeleteModelRequest request) {
        return answer(() -> DeleteModelResponse.newBuilder().setId(request.getId())
                .setFreedBytes(models.delete(request.getId(), request.getForce())).build());
    }

    @Override
    @Blocking
    public Uni<ValidateModelResponse> validateModel(ValidateModelRequest request) {
        return answer(() -> {
            models.validate(request.getId(), request.getRunInference());
            Model model = view(find(request.getId()));
            return ValidateModelResponse.newBuilder().setResult(model.getValidation()).setStatus(model.getStatus()).build();
        });
    }

    @Override
    @Blocking
    public Uni<ImportModelResponse> importModel(ImportModelRequest request) {
        return answer(() -> {
            if (!request.getFormat().equalsIgnoreCase("tfjs")) {
                throw new IllegalArgumentException("format must be tfjs (a TF.js graph model)");
            }
            if (request.getKind() == ModelKind.MODEL_KIND_UNSPECIFIED || request.getKind() == ModelKind.UNRECOGNIZED) {
                throw new IllegalArgumentException("kind is required");
            }
            java.util.Map<String, byte[]> files = new java.util.HashMap<>();
            request.getFilesList().forEach(f -> files.put(dev.bkg.model.domain.ModelFiles.checkName(f.getName()),
                    f.getContent().toByteArray()));
            ModelRecord model = models.importTfjs(request.getName(), request.getKind(), files, request.getSourceModelId());
            return ImportModelResponse.newBuilder().setModel(view(model)).build();
        });
    }

    @Override
    @Blocking
    public Uni<QuantizeModelResponse> quantizeModel(QuantizeModelRequest request) {
        return answer(() -> {
            Models.Quantized q = models.quantize(request.getModelId(), request.getName());
            return QuantizeModelResponse.newBuilder().setModel(view(q.model())).setSizeBeforeBytes(q.sizeBefore())
                    .setSizeAfterBytes(q.sizeAfter()).setQuantizedWeights(q.weights()).addAllQuantizedOps(q.ops())
                    .setDurationMs(q.durationMs()).build();
        });
    }

    @Override
    public Multi<FileChunk> readModelFile(ReadModelFileRequest request) {
        return Multi.createFrom().<FileChunk>emitter(emitter -> {
            try {
                ModelRecord model = find(request.getModelId());
                if (!ModelStatus.READY.name().equals(model.status) && !ModelStatus.INVALID.name().equals(model.status)) {
                    throw new IllegalStateException("model " + model.id + " is " + model.status);
                }
                ModelDirectory.StoredFile file = ModelDirectory.files(model.files).stream()
                        .filter(f -> f.name().equals(request.getFileName())).findFirst()
                        .orElseThrow(() -> new NoSuchElementException("model " + model.id + " has no file '"
                                + request.getFileName() + "'"));
                if (request.getOffset() < 0 || request.getOffset() > file.sizeBytes()) {
                    throw new IllegalArgumentException("offset must be within 0.." + file.sizeBytes());
                }
                int chunk = request.getChunkSize() <= 0 ? DEFAULT_CHUNK : Math.min(request.getChunkSize(), MAX_CHUNK);
                Path path = directory.file(model.id, file.name());
                try (InputStream in = Files.newInputStream(path)) {
                    in.skipNBytes(request.getOffset());
                    long offset = request.getOffset();
                    boolean first = true;
                    byte[] buffer = new byte[chunk];
                    do {
                        int n = in.readNBytes(buffer, 0, chunk);
                        FileChunk.Builder out = FileChunk.newBuilder().setData(ByteString.copyFrom(buffer, 0, n))
                                .setOffset(offset).setLast(offset + n >= file.sizeBytes());
                        if (first) {
                            out.setTotalSizeBytes(file.sizeBytes()).setSha256(file.sha256());
                            first = false;
                        }
                        offset += n;
                        emitter.emit(out.build());
                    } while (offset < file.sizeBytes() && !emitter.isCancelled());
                }
                emitter.complete();
            } catch (Exception e) {
                emitter.fail(status(e));
            }
        }).runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
    }

    private ModelRecord find(String id) {
        return catalog.find(id).orElseThrow(() -> new NoSuchElementException("no model '" + id + "'"));
    }

    static Model view(ModelRecord m) {
        Model.Builder model = Model.newBuilder().setId(m.id).setName(m.name).setKind(ModelKind.valueOf(m.kind))
                .setFormat(m.format).setTotalSizeBytes(m.totalSizeBytes).setSource(m.source)
                .setStatus(ModelStatus.valueOf(m.status)).setStatusMessage(m.statusMessage)
                .setCreatedEpochMs(m.createdAt.toEpochMilli()).setUpdatedEpochMs(m.updatedAt.toEpochMilli());
        ModelDirectory.files(m.files).forEach(f -> model.addFiles(ModelFile.newBuilder().setName(f.name())
                .setSizeBytes(f.sizeBytes()).setSha256(f.sha256())));
        try {
            Map<String, String> properties = JSON.readValue(m.properties, new TypeReference<Map<String, String>>() {
            });
            model.putAllProperties(properties);
        } catch (IOException e) {
            // a broken properties column hides the properties, not the model
        }
        if (m.jobId != null) {
            model.setJobId(m.jobId);
        }
        if (m.validation != null) {
            try {
                ModelValidator.Result v = JSON.readValue(m.validation, ModelValidator.Result.class);
                ValidationResult.Builder result = ValidationResult.newBuilder().setOk(v.ok()).setMessage(v.message())
                        .setDurationMs(v.durationMs()).setValidatedAtEpochMs(v.validatedAtEpochMs())
                        .setGraphFile(v.graphFile());
                v.inputs().forEach(t -> result.addInputs(tensor(t)));
                v.outputs().forEach(t -> result.addOutputs(tensor(t)));
                model.setValidation(result);
            } catch (IOException e) {
                // an unreadable stored result shows as "not validated"
            }
        }
        return model.build();
    }

    private static TensorInfo tensor(ModelValidator.Tensor t) {
        return TensorInfo.newBuilder().setName(t.name()).setElementType(t.elementType()).addAllShape(t.shape()).build();
    }

    /** Runs catalog work on this worker thread and maps domain failures to gRPC statuses. */
    private static <T> Uni<T> answer(Callable<T> work) {
        try {
            return Uni.createFrom().item(work.call());
        } catch (Exception e) {
            return Uni.createFrom().failure(status(e));
        }
    }

    static RuntimeException status(Exception e) {
        if (e instanceof io.grpc.StatusRuntimeException s) {
            return s;
        }
        Status status;
        if (e instanceof NoSuchElementException) {
            status = Status.NOT_FOUND;
        } else if (e instanceof IllegalArgumentException) {
            status = Status.INVALID_ARGUMENT;
        } else if (e instanceof IllegalStateException && e.getMessage() != null && e.getMessage().contains("already exists")) {
            status = Status.ALREADY_EXISTS;
        } else if (e instanceof IllegalStateException) {
            status = Status.FAILED_PRECONDITION;
        } else {
            status = Status.INTERNAL;
        }
        return status.withDescription(e.getMessage()).asRuntimeException();
    }
}
