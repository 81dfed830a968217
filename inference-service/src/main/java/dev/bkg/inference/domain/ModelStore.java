package dev.bkg.inference.domain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import dev.bkg.modelfiles.ModelFileCache;
import dev.bkg.proto.model.v1.ListModelsRequest;
import dev.bkg.proto.model.v1.Model;
import dev.bkg.proto.model.v1.ModelFile;
import dev.bkg.proto.model.v1.QuantizeModelRequest;
import dev.bkg.proto.model.v1.QuantizeModelResponse;
import dev.bkg.proto.model.v1.ModelServiceGrpc.ModelServiceBlockingStub;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;

/**
 * Models as model-service has them (see {@link ModelFileCache}), their failures as refusals:
 * NOT_FOUND for a model or file the catalog lacks, NOT_READY while model-service does not answer.
 * The cache is $BKG_HOME/cache/inference unless configured. Blocking: call it from worker threads.
 */
@ApplicationScoped
public class ModelStore {

    private final ModelFileCache cache;
    private final ModelServiceBlockingStub models;

    ModelStore(@GrpcClient("model") ModelServiceBlockingStub models, InferenceSettings settings,
            @ConfigProperty(name = "bkg.home", defaultValue = ".bkg") Path home) {
        this.models = models;
        this.cache = new ModelFileCache(models, settings.cacheDir().orElseGet(() -> home.resolve("cache").resolve("inference")));
    }

    /** A model by id or name (Refusal NOT_FOUND; NOT_READY while model-service does not answer). */
    public Model find(String idOrName) {
        try {
            return cache.find(idOrName).orElseThrow(() -> new Refusal(Refusal.Reason.NOT_FOUND, "no model '" + idOrName + "'"));
        } catch (StatusRuntimeException e) {
            throw unavailable(e);
        }
    }

    /** Every model of model-service's catalog (filtered as asked). */
    public java.util.List<Model> list(ListModelsRequest request) {
        try {
            return cache.list(request);
        } catch (StatusRuntimeException e) {
            throw unavailable(e);
        }
    }

    /** Asks model-service for an int8 copy of a model (its statuses pass through: NOT_FOUND, INVALID_ARGUMENT, …). */
    public QuantizeModelResponse quantize(QuantizeModelRequest request) {
        return models.withDeadlineAfter(10, java.util.concurrent.TimeUnit.MINUTES).quantizeModel(request);
    }

    /**
     * The name of a model's ONNX graph: {@code model.onnx} in any folder (Optimum puts it in {@code onnx/}),
     * else the first {@code .onnx} file by name.
     */
    public static String graphFile(Model model) {
        return model.getFilesList().stream().map(ModelFile::getName).filter(n -> n.endsWith(".onnx"))
                .min(java.util.Comparator.comparing((String n) -> !n.equals("model.onnx") && !n.endsWith("/model.onnx"))
                        .thenComparing(n -> n))
                .orElseThrow(() -> new Refusal(Refusal.Reason.INVALID, "model '" + model.getName() + "' has no .onnx graph"));
    }

    /** One file of a model on the local disk, fetched first when the cache lacks it. */
    public Path file(Model model, String name) {
        ModelFile wanted = ModelFileCache.entry(model, name)
                .orElseThrow(() -> new Refusal(Refusal.Reason.INVALID, "model '" + model.getName() + "' has no file " + name));
        try {
            return cache.file(model, wanted);
        } catch (StatusRuntimeException e) {
            throw unavailable(e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot cache " + name + " of " + model.getName(), e);
        }
    }

    private static RuntimeException unavailable(StatusRuntimeException e) {
        if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
            return new Refusal(Refusal.Reason.NOT_FOUND, e.getStatus().getDescription());
        }
        return new Refusal(Refusal.Reason.NOT_READY, "model-service cannot be reached (" + e.getStatus().getCode() + ")");
    }
}
