package dev.bkg.inference.runner;

import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.bkg.inference.domain.InferenceSettings;
import dev.bkg.inference.domain.ModelStore;
import dev.bkg.inference.domain.OrtRuntime;
import dev.bkg.inference.domain.Refusal;
import dev.bkg.proto.inference.v1.ExecutionProvider;
import dev.bkg.proto.inference.v1.InferRequest;
import dev.bkg.proto.inference.v1.InferResponse;
import dev.bkg.proto.inference.v1.LoadedModel;
import dev.bkg.proto.inference.v1.TensorInfo;
import dev.bkg.proto.model.v1.Model;
import dev.bkg.proto.model.v1.ModelFile;
import dev.bkg.proto.model.v1.ModelStatus;

/**
 * The models the runner (plugin candle) has loaded, as Ollama keeps them: loaded on demand or on
 * request, each for its keep-alive after its last use, within a memory budget of weights (the
 * least recently used idle models make room, or the load is refused, as configured). A load of a
 * model already loaded answers it (and renews its keep-alive); concurrent loads of one model open
 * it once.
 */
@ApplicationScoped
public class RunnerModels {

    private static final Logger LOG = Logger.getLogger(RunnerModels.class);

    private final ModelStore store;
    private final OrtRuntime runtime;
    private final InferenceSettings.Runner settings;
    /** By model id. */
    private final Map<String, RunnerModel> loaded = new ConcurrentHashMap<>();
    private final Map<String, CompletableFuture<RunnerModel>> loading = new ConcurrentHashMap<>();
    private final AtomicLong loads = new AtomicLong();
    private final AtomicLong unloads = new AtomicLong();
    private final ScheduledExecutorService reaper;

    RunnerModels(ModelStore store, OrtRuntime runtime, InferenceSettings settings) {
        this.store = store;
        this.runtime = runtime;
        this.settings = settings.runner();
        if (!List.of("evict", "refuse").contains(this.settings.onBudget())) {
            throw new IllegalArgumentException("bkg.inference.runner.on-budget must be evict or refuse; was "
                    + this.settings.onBudget());
        }
        this.reaper = dev.bkg.inference.domain.KeepAlive.everySecond("runner-keep-alive", this::unloadIdle);
    }

    /** A model loaded (keep-alive seconds: 0 the configured one, -1 until unloaded). Blocking. */
    public LoadedModel load(String idOrName, long keepAliveSeconds, ExecutionProvider provider) {
        if (keepAliveSeconds < -1) {
            throw new Refusal(Refusal.Reason.INVALID, "keep_alive_seconds must be -1 (until unloaded), 0 (the default) or more");
        }
        RunnerModel model = loadedOrLoad(idOrName, provider);
        model.keepAliveMillis = keepAliveSeconds == 0 ? settings.keepAlive().toMillis()
                : keepAliveSeconds < 0 ? -1 : keepAliveSeconds * 1000;
        model.lastUsedMillis = System.currentTimeMillis();
        return view(model);
    }

    /** A typed request run; its answer carries the outputs asked for (all when none), the run's time and its batch. */
    public CompletableFuture<InferResponse> infer(InferRequest request) {
        List<HostTensor> inputs = request.getInputsList().stream().map(HostTensor::of).toList();
        return infer(request.getModelId(), inputs, request.getOutputNamesList()).thenApply(result -> {
            InferResponse.Builder reply = InferResponse.newBuilder().setId(request.getId())
                    .setDurationUs(result.runMicros()).setQueueUs(result.queueMicros()).setBatchRequests(result.batchRequests())
                    .setModelId(result.model().model.getId()).setModelName(result.model().model.getName())
                    .setProvider(result.model().provider);
            result.outputs().forEach(t -> reply.addOutputs(t.toProto()));
            return reply.build();
        });
    }

    /** The answer with each output's values in the typed field of its type (raw_data stays for FLOAT16, INT8, UINT8). */
    public static InferResponse withTypedValues(InferResponse response) {
        InferResponse.Builder typed = response.toBuilder().clearOutputs();
        response.getOutputsList().forEach(t -> typed.addOutputs(HostTensor.typed(t)));
        return typed.build();
    }

    static LoadedModel view(RunnerModel m) {
        LoadedModel.Builder view = LoadedModel.newBuilder().setModelId(m.model.getId()).setName(m.model.getName())
                .setProvider(m.provider).setLoadMs(m.loadMillis).setLoadedAtEpochMs(m.loadedAtMillis)
                .setLastUsedEpochMs(m.lastUsedMillis).setExpiresAtEpochMs(m.keepAliveMillis < 0 ? 0 : m.lastUsedMillis + m.keepAliveMillis)
                .setMemoryBytes(m.memoryBytes).setInferences(m.inferences.get()).setDynamicBatch(m.dynamicBatch)
                .setGraphFile(m.graphFile);
        m.inputs.forEach((name, t) -> view.addInputs(info(name, t)));
        m.outputs.forEach((name, t) -> view.addOutputs(info(name, t)));
        return view.build();
    }

    private static TensorInfo info(String name, ai.onnxruntime.TensorInfo t) {
        TensorInfo.Builder info = TensorInfo.newBuilder().setName(name).setElementType(HostTensor.elementType(t));
        for (long d : t.getShape()) {
            info.addShape(d);
        }
        return info.build();
    }

    /** Runs a model (loading it first when needed) on the inputs; the answer comes when its run is done. */
    CompletableFuture<RunnerModel.Result> infer(String idOrName, List<HostTensor> inputs, List<String> outputs) {
        if (idOrName == null || idOrName.isBlank()) {
            throw new Refusal(Refusal.Reason.INVALID, "model_id is required");
        }
        if (inputs.isEmpty()) {
            throw new Refusal(Refusal.Reason.INVALID, "inputs are required");
        }
        for (int attempt = 0;; attempt++) {
            RunnerModel model = loadedOrLoad(idOrName, ExecutionProvider.EXECUTION_PROVIDER_UNSPECIFIED);
            try {
                return model.submit(inputs, outputs);
            } catch (Refusal e) {
                if (e.reason != Refusal.Reason.NOT_READY || attempt > 0) {
                    throw e;
                }
                // unloaded between the lookup and the submit: load it again, once
            }
        }
    }

    private RunnerModel loadedOrLoad(String idOrName, ExecutionProvider provider) {
        RunnerModel known = find(idOrName);
        if (known != null) {
            return known;
        }
        Model model = store.find(idOrName);
        if (model.getStatus() != ModelStatus.READY) {
            throw new Refusal(Refusal.Reason.PRECONDITION, "model '" + model.getName() + "' is " + model.getStatus()
                    + (model.getStatusMessage().isBlank() ? "" : " (" + model.getStatusMessage() + ")")
                    + "; only a READY model can be loaded");
        }
        CompletableFuture<RunnerModel> mine = new CompletableFuture<>();
        CompletableFuture<RunnerModel> running = loading.putIfAbsent(model.getId(), mine);
        if (running != null) {
            return running.join();
        }
        try {
            RunnerModel opened = loaded.get(model.getId());
            if (opened == null) {
                opened = open(model, provider);
                loaded.put(model.getId(), opened);
            }
            mine.complete(opened);
            return opened;
        } catch (RuntimeException e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            loading.remove(model.getId());
        }
    }

    /** A loaded model by id or name, or null. */
    private RunnerModel find(String idOrName) {
        RunnerModel byId = loaded.get(idOrName);
        return byId != null ? byId
                : loaded.values().stream().filter(m -> m.model.getName().equals(idOrName)).findFirst().orElse(null);
    }

    private RunnerModel open(Model model, ExecutionProvider provider) {
        String graphFile = ModelStore.graphFile(model);
        long weights = model.getFilesList().stream().filter(f -> f.getName().contains(".onnx"))
                .mapToLong(ModelFile::getSizeBytes).sum();
        makeRoom(model, weights);
        Path graph = store.file(model, graphFile);
        long started = System.nanoTime();
        OrtSession session;
        try {
            session = runtime.open(graph, settings.threads() > 0 ? settings.threads() : Runtime.getRuntime().availableProcessors(),
                    provider);
        } catch (OrtException e) {
            throw new Refusal(Refusal.Reason.INVALID, "ONNX Runtime cannot load model '" + model.getName() + "': " + e.getMessage());
        }
        ExecutionProvider used = runtime.provider() == ExecutionProvider.CUDA && provider != ExecutionProvider.CPU
                ? ExecutionProvider.CUDA : ExecutionProvider.CPU;
        try {
            RunnerModel opened = new RunnerModel(model, graphFile, runtime.environment(), session, used, weights,
                    (System.nanoTime() - started) / 1_000_000, settings.keepAlive().toMillis(), settings.maxBatch());
            loads.incrementAndGet();
            LOG.infof("runner: loaded %s (%s, %d MB of weights, %s) in %d ms; batching %s", model.getName(), model.getId(),
                    weights >> 20, used, opened.loadMillis, opened.dynamicBatch ? "on" : "off (the batch dimension is fixed)");
            return opened;
        } catch (OrtException | RuntimeException e) {
            try {
                session.close();
            } catch (OrtException closing) {
                e.addSuppressed(closing);
            }
            throw e instanceof Refusal r ? r : new Refusal(Refusal.Reason.INVALID, "model '" + model.getName()
                    + "' cannot be run: " + e.getMessage());
        }
    }

    /** Within the budget: unloads idle models, least recently used first, or refuses, as configured. */
    private synchronized void makeRoom(Model model, long weights) {
        long budget = budgetBytes();
        if (budget == 0) {
            return;
        }
        if (weights > budget) {
            throw new Refusal(Refusal.Reason.PRECONDITION, "model '" + model.getName() + "' has " + (weights >> 20)
                    + " MB of weights, over the runner's memory budget of " + settings.memoryBudgetMb()
                    + " MB (bkg.inference.runner.memory-budget-mb)");
        }
        while (used() + weights > budget) {
            RunnerModel victim = settings.onBudget().equals("evict") ? loaded.values().stream().filter(m -> m.waiting() == 0)
                    .min(Comparator.comparingLong(m -> m.lastUsedMillis)).orElse(null) : null;
            if (victim == null) {
                throw new Refusal(Refusal.Reason.PRECONDITION, "loading '" + model.getName() + "' (" + (weights >> 20)
                        + " MB) would pass the runner's memory budget of " + settings.memoryBudgetMb() + " MB ("
                        + (used() >> 20) + " MB loaded: " + String.join(", ", loaded.values().stream()
                                .map(m -> m.model.getName()).sorted().toList())
                        + "); unload a model first or raise bkg.inference.runner.memory-budget-mb");
            }
            LOG.infof("runner: unloading %s to make room for %s (memory budget %d MB)", victim.model.getName(), model.getName(),
                    settings.memoryBudgetMb());
            unloadLoaded(victim);
        }
    }

    /** Unloads a model by id or name; false when it was not loaded. */
    public boolean unload(String idOrName) {
        RunnerModel model = find(idOrName);
        return model != null && unloadLoaded(model);
    }

    private boolean unloadLoaded(RunnerModel model) {
        if (!loaded.remove(model.model.getId(), model)) {
            return false;
        }
        model.close();
        unloads.incrementAndGet();
        retiredInferences.addAndGet(model.inferences.get());
        return true;
    }

    public List<LoadedModel> list() {
        return loaded.values().stream().sorted(Comparator.comparing(m -> m.model.getName())).map(RunnerModels::view).toList();
    }

    public long budgetBytes() {
        return settings.memoryBudgetMb() << 20;
    }

    public long used() {
        return loaded.values().stream().mapToLong(m -> m.memoryBytes).sum();
    }

    /** For the figures: loaded models, weights held, requests answered, loads, unloads, requests waiting. */
    public long[] totals() {
        long inferences = 0;
        long waiting = 0;
        for (RunnerModel m : loaded.values()) {
            inferences += m.inferences.get();
            waiting += m.waiting();
        }
        return new long[] {loaded.size(), used(), inferences + retiredInferences.get(), loads.get(), unloads.get(), waiting};
    }

    private final AtomicLong retiredInferences = new AtomicLong();

    private void unloadIdle() {
        long now = System.currentTimeMillis();
        for (RunnerModel model : loaded.values()) {
            if (model.keepAliveMillis >= 0 && model.waiting() == 0 && now - model.lastUsedMillis > model.keepAliveMillis) {
                LOG.infof("runner: %s unused for %d s: unloading", model.model.getName(), model.keepAliveMillis / 1000);
                unloadLoaded(model);
            }
        }
    }

    @PreDestroy
    void close() {
        reaper.shutdownNow();
        loaded.values().forEach(this::unloadLoaded);
    }
}
