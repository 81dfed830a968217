package dev.bkg.inference.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import ai.onnxruntime.OrtException;
import dev.bkg.proto.model.v1.ListModelsRequest;
import dev.bkg.proto.model.v1.Model;
import dev.bkg.proto.model.v1.ModelKind;
import dev.bkg.proto.model.v1.ModelStatus;

/**
 * Text embeddings: the loaded models (each with its batcher), the request limits, and the
 * default model, which is loaded in the background at start and retried until model-service
 * answers (readiness waits for it).
 */
@ApplicationScoped
public class Embeddings {

    private static final Logger LOG = Logger.getLogger(Embeddings.class);

    /** The outcome of one request: a vector per text, in order, with the figures the APIs report. */
    public record Result(String model, int dimensions, List<float[]> vectors, int[] tokenCounts, boolean[] truncated,
            int promptTokens) {
    }

    private final ModelStore store;
    private final OrtRuntime runtime;
    private final InferenceSettings.Embedding settings;
    private final Map<String, EmbeddingBatcher> loaded = new ConcurrentHashMap<>();
    private final AtomicInteger waiting = new AtomicInteger();
    private volatile String defaultProblem = "not loaded yet";

    private final java.util.concurrent.ScheduledExecutorService reaper;
    private final long[] retiredTotals = new long[3];

    Embeddings(ModelStore store, OrtRuntime runtime, InferenceSettings settings) {
        this.store = store;
        this.runtime = runtime;
        this.settings = settings.embedding();
        this.reaper = KeepAlive.everySecond("embedding-keep-alive", this::unloadIdle);
    }

    /** Loads the default model in the background, retrying every few seconds until it works. */
    public void preloadDefault() {
        Thread loader = new Thread(() -> {
            for (int attempt = 1; !Thread.currentThread().isInterrupted(); attempt++) {
                try {
                    model(settings.defaultModel());
                    defaultProblem = null;
                    return;
                } catch (RuntimeException | LinkageError e) {
                    defaultProblem = String.valueOf(e.getMessage());
                    LOG.infof("default embedding model %s not loaded (attempt %d): %s; retrying", settings.defaultModel(),
                            attempt, e.getMessage());
                }
                try {
                    Thread.sleep(Math.min(10_000, 1000L * attempt));
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "embedding-preload");
        loader.setDaemon(true);
        loader.start();
    }

    /** Why the default model cannot serve yet; null once it can. */
    public String defaultProblem() {
        return defaultProblem;
    }

    /**
     * Validates, tokenizes and queues one request; the future completes when every text is
     * embedded. Blocking for the tokenization (and a first load of the model): call from a worker.
     */
    public CompletableFuture<Result> embed(String modelName, List<String> texts, boolean normalize, boolean truncate) {
        if (texts.isEmpty()) {
            throw new Refusal(Refusal.Reason.INVALID, "no input: give at least one text");
        }
        if (texts.size() > settings.maxInputs()) {
            throw new Refusal(Refusal.Reason.TOO_LARGE, texts.size() + " inputs; at most " + settings.maxInputs()
                    + " in one request (bkg.inference.embedding.max-inputs)");
        }
        for (int i = 0; i < texts.size(); i++) {
            String text = texts.get(i);
            if (text.length() > settings.maxInputChars()) {
                throw new Refusal(Refusal.Reason.TOO_LARGE, "input " + i + " has " + text.length() + " characters; at most "
                        + settings.maxInputChars() + " (bkg.inference.embedding.max-input-chars)");
            }
            if (text.isEmpty()) {
                throw new Refusal(Refusal.Reason.INVALID, "input " + i + " is empty");
            }
        }
        EmbeddingBatcher batcher = model(modelName == null || modelName.isBlank() ? settings.defaultModel() : modelName);
        EmbeddingModel model = batcher.model;
        List<EmbeddingModel.Tokens> tokenized = new ArrayList<>(texts.size());
        int[] counts = new int[texts.size()];
        boolean[] truncated = new boolean[texts.size()];
        int total = 0;
        for (int i = 0; i < texts.size(); i++) {
            EmbeddingModel.Tokens tokens = model.tokenize(texts.get(i));
            if (tokens.truncated() && !truncate) {
                throw new Refusal(Refusal.Reason.TOO_LARGE, "input " + i + " is longer than the " + model.maxTokens
                        + " tokens model '" + model.name + "' reads; send it shorter or allow truncation");
            }
            tokenized.add(tokens);
            counts[i] = tokens.length();
            truncated[i] = tokens.truncated();
            total += tokens.length();
        }
        List<CompletableFuture<float[]>> parts = submit(batcher, tokenized, normalize);
        int promptTokens = total;
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(done -> new Result(model.name,
                model.dimensions, parts.stream().map(CompletableFuture::join).toList(), counts, truncated, promptTokens));
    }

    private List<CompletableFuture<float[]>> submit(EmbeddingBatcher batcher, List<EmbeddingModel.Tokens> tokenized,
            boolean normalize) {
        try {
            return batcher.submit(tokenized, normalize);
        } catch (Refusal e) {
            if (e.reason != Refusal.Reason.NOT_READY) {
                throw e;
            }
            // unloaded (idle or to make room) between the lookup and the submit: load it again, once
            return model(batcher.model.id).submit(tokenized, normalize);
        }
    }

    /** A usable embedding model, loaded if it was not: what a collection records of it. */
    public record ModelInfo(String id, String name, int dimensions) {
    }

    public ModelInfo describe(String idOrName) {
        EmbeddingModel model = model(idOrName == null || idOrName.isBlank() ? settings.defaultModel() : idOrName).model;
        return new ModelInfo(model.id, model.name, model.dimensions);
    }

    /** The embedding models of the catalog that are READY, and which of them are loaded. */
    public List<Model> catalog() {
        return store.list(ListModelsRequest.newBuilder().setKind(ModelKind.EMBEDDING).setStatus(ModelStatus.READY).build());
    }

    public boolean isLoaded(String modelId) {
        return loaded.containsKey(modelId);
    }

    public String defaultModel() {
        return settings.defaultModel();
    }

    public int waiting() {
        return waiting.get();
    }

    /** Texts and batches embedded so far, over every model loaded now or before. */
    public long[] totals() {
        synchronized (retiredTotals) {
            long texts = retiredTotals[0];
            long batches = retiredTotals[1];
            long tokens = retiredTotals[2];
            for (EmbeddingBatcher b : loaded.values()) {
                texts += b.texts.get();
                batches += b.batches.get();
                tokens += b.tokens.get();
            }
            return new long[] {texts, batches, tokens};
        }
    }

    /** The most batches that have run at once on one model (its workers busy together). */
    public int mostRunsAtOnce() {
        return loaded.values().stream().mapToInt(b -> b.mostBusy.get()).max().orElse(0);
    }

    /** The batcher of a model, loading it on first use (one load at a time). */
    private EmbeddingBatcher model(String idOrName) {
        for (EmbeddingBatcher batcher : loaded.values()) {
            if (batcher.model.id.equals(idOrName) || batcher.model.name.equals(idOrName)) {
                return batcher;
            }
        }
        Model model = store.find(idOrName);
        if (model.getKind() != ModelKind.EMBEDDING) {
            throw new Refusal(Refusal.Reason.INVALID, "model '" + model.getName() + "' is a "
                    + model.getKind().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-') + " model, not an embedding model");
        }
        if (model.getStatus() != ModelStatus.READY) {
            throw new Refusal(Refusal.Reason.INVALID, "model '" + model.getName() + "' is " + model.getStatus()
                    + (model.getStatusMessage().isEmpty() ? "" : ": " + model.getStatusMessage()));
        }
        synchronized (this) {
            EmbeddingBatcher existing = loaded.get(model.getId());
            if (existing != null) {
                return existing;
            }
            makeRoom(model);
            long started = System.nanoTime();
            EmbeddingModel embedding;
            try {
                embedding = EmbeddingModel.load(model, store, runtime, settings.maxTokens());
            } catch (OrtException e) {
                throw new Refusal(Refusal.Reason.INVALID, "model '" + model.getName() + "' cannot be opened: " + e.getMessage());
            }
            EmbeddingBatcher batcher = new EmbeddingBatcher(embedding, runtime.embeddingWorkers(), settings.maxBatch(),
                    settings.maxWaitMicros(), waiting, settings.queueCapacity());
            loaded.put(model.getId(), batcher);
            LOG.infof("embedding model %s (%s) loaded in %d ms on %s, batches run by %d worker(s): %d dimensions, "
                    + "%d tokens at most", model.getName(), model.getId(), (System.nanoTime() - started) / 1_000_000,
                    runtime.provider(), runtime.embeddingWorkers(), embedding.dimensions, embedding.maxTokens);
            return batcher;
        }
    }

    /** At most max-loaded models: the least recently used idle one other than the default goes (429 if none can). */
    private void makeRoom(Model incoming) {
        while (loaded.size() >= settings.maxLoaded()) {
            EmbeddingBatcher victim = loaded.values().stream().filter(b -> !isDefault(b) && b.queued() == 0)
                    .min(java.util.Comparator.comparingLong(b -> b.lastUsedMillis)).orElse(null);
            if (victim == null) {
                throw new Refusal(Refusal.Reason.OVERLOADED, "model '" + incoming.getName() + "' cannot be loaded now: "
                        + loaded.size() + " embedding models are loaded and busy (bkg.inference.embedding.max-loaded); retry shortly");
            }
            unload(victim, "to make room for " + incoming.getName());
        }
    }

    /** Models other than the default unused for the keep-alive are unloaded. */
    private synchronized void unloadIdle() {
        long idleSince = System.currentTimeMillis() - settings.keepAlive().toMillis();
        for (EmbeddingBatcher batcher : List.copyOf(loaded.values())) {
            if (!isDefault(batcher) && batcher.queued() == 0 && batcher.lastUsedMillis < idleSince) {
                unload(batcher, "unused for " + settings.keepAlive());
            }
        }
    }

    private boolean isDefault(EmbeddingBatcher batcher) {
        return batcher.model.name.equals(settings.defaultModel()) || batcher.model.id.equals(settings.defaultModel());
    }

    private void unload(EmbeddingBatcher batcher, String why) {
        boolean removed;
        // its counts move to the retired ones in the same step, so that totals() never misses them
        synchronized (retiredTotals) {
            removed = loaded.remove(batcher.model.id, batcher);
            if (removed) {
                retiredTotals[0] += batcher.texts.get();
                retiredTotals[1] += batcher.batches.get();
                retiredTotals[2] += batcher.tokens.get();
            }
        }
        if (removed) {
            LOG.infof("embedding model %s unloaded: %s", batcher.model.name, why);
            batcher.close();
        }
    }

    @PreDestroy
    void unloadAll() {
        reaper.shutdownNow();
        loaded.values().forEach(EmbeddingBatcher::close);
        loaded.clear();
    }
}
