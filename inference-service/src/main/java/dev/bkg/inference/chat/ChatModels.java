package dev.bkg.inference.chat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import ai.onnxruntime.OrtException;
import dev.bkg.inference.domain.InferenceSettings;
import dev.bkg.inference.domain.ModelStore;
import dev.bkg.inference.domain.OrtRuntime;
import dev.bkg.inference.domain.Refusal;
import dev.bkg.proto.model.v1.ListModelsRequest;
import dev.bkg.proto.model.v1.Model;
import dev.bkg.proto.model.v1.ModelKind;
import dev.bkg.proto.model.v1.ModelStatus;

/**
 * Chat generation (role llm): checks a request, picks its model (named, configured, or the newest
 * READY llm model), loads the model on first use (one load at a time), renders and tokenizes the
 * prompt, and queues the generation on the model's engine. A model unused for the keep-alive is
 * unloaded. With no chat model installed — the normal state of a fresh machine — a request is
 * refused with how to pull one.
 */
@ApplicationScoped
public class ChatModels {

    private static final Logger LOG = Logger.getLogger(ChatModels.class);
    private static final java.util.Set<String> ROLES = java.util.Set.of("system", "user", "assistant", "tool");
    /** The exact call that installs a small instruct model (an onnx-community export in the Optimum layout). */
    public static final String HOW_TO_PULL = "pull one: ./bkg pull onnx-community/Qwen2.5-0.5B-Instruct --onnx"
            + " onnx/model_quantized.onnx — or POST"
            + " /api/models/download {\"name\":\"qwen2.5-0.5b-instruct\",\"kind\":\"llm\",\"huggingFace\":{\"repo\":"
            + "\"onnx-community/Qwen2.5-0.5B-Instruct\",\"files\":[\"onnx/model_quantized.onnx\",\"config.json\","
            + "\"generation_config.json\",\"tokenizer.json\",\"tokenizer_config.json\"]}}";

    /** One chat request, as the APIs give it (null: not given). */
    public record Request(String model, List<ChatTemplate.Message> messages, int maxTokens, Float temperature, Float topP,
            int topK, Float minP, Float repetitionPenalty, float presencePenalty, float frequencyPenalty, Long seed,
            List<String> stop, boolean useKvCache, boolean ignoreEos) {
    }

    /** A loaded or loadable chat model, for listings (Ollama's ps). */
    public record Info(Model model, boolean isDefault, boolean loaded, long memoryBytes, int contextLength,
            String architecture, long lastUsedMillis, int active, int queued, int peakBatch) {
    }

    private final ModelStore store;
    private final OrtRuntime runtime;
    private final InferenceSettings.Chat settings;
    private final Map<String, ChatEngine> engines = new ConcurrentHashMap<>();
    private final AtomicInteger waiting = new AtomicInteger();
    private final AtomicLong tokensGenerated = new AtomicLong();
    private final AtomicLong generationsFinished = new AtomicLong();
    private final ScheduledExecutorService reaper;

    ChatModels(ModelStore store, OrtRuntime runtime, InferenceSettings settings) {
        this.store = store;
        this.runtime = runtime;
        this.settings = settings.chat();
        this.reaper = dev.bkg.inference.domain.KeepAlive.everySecond("chat-keep-alive", this::unloadIdle);
    }

    /**
     * Checks, templates and queues a chat; the sink hears of it from then on. Blocking (a first
     * load, tokenization): call from a worker thread. The generation can be cancelled.
     */
    public Generation start(Request request, Generation.Sink sink) {
        check(request);
        for (int attempt = 0; attempt < 3; attempt++) {
            ChatEngine engine = engine(request.model());
            ChatModel model = engine.model;
            String prompt = model.prompt(request.messages());
            long[] ids = model.encode(prompt);
            if (ids.length >= model.contextLength) {
                throw new Refusal(Refusal.Reason.INVALID, "the prompt has " + ids.length + " tokens; model '" + model.name
                        + "' reads at most " + model.contextLength + " (its context window), the reply included");
            }
            int room = model.contextLength - ids.length;
            int max = request.maxTokens() > 0 ? Math.min(request.maxTokens(), room) : room;
            ChatModel.Defaults d = model.defaults;
            Sampler.Settings sampling = new Sampler.Settings(
                    orDefault(request.temperature(), d.temperature(), 1f), orDefault(request.topP(), d.topP(), 1f),
                    request.topK() > 0 ? request.topK() : d.topK() == null ? 0 : d.topK(),
                    orDefault(request.minP(), d.minP(), 0f), orDefault(request.repetitionPenalty(), d.repetitionPenalty(), 1f),
                    request.presencePenalty(), request.frequencyPenalty(),
                    request.seed() != null ? request.seed() : ThreadLocalRandom.current().nextLong());
            Generation generation = new Generation(ids, max, request.useKvCache(), request.ignoreEos(), sampling,
                    request.stop(), model::decode, sink);
            if (engine.submit(generation)) {
                return generation;
            }
            engines.remove(model.id, engine); // retired between lookup and submit: load it again
        }
        throw new Refusal(Refusal.Reason.NOT_READY, "the chat model was being unloaded; retry");
    }

    /** The chat models of the catalog and which are loaded. */
    public List<Info> list() {
        List<Model> catalog = catalog();
        String fallback = catalog.isEmpty() ? null : catalog.get(0).getId();
        List<Info> out = new ArrayList<>();
        for (Model model : catalog) {
            boolean isDefault = settings.defaultModel().map(d -> d.equals(model.getName()) || d.equals(model.getId()))
                    .orElse(model.getId().equals(fallback));
            ChatEngine engine = engines.get(model.getId());
            out.add(engine == null ? new Info(model, isDefault, false, 0, 0, "", 0, 0, 0, 0)
                    : new Info(model, isDefault, true, engine.model.weightBytes + engine.cacheBytes(),
                            engine.model.contextLength, engine.model.architecture, engine.lastUsedMillis, engine.active(),
                            engine.queued(), engine.peakBatch));
        }
        return out;
    }

    public long keepAliveMillis() {
        return settings.keepAlive().toMillis();
    }

    /** Tokens generated and generations finished (since start), generations active and waiting, models loaded. */
    public long[] totals() {
        int active = 0;
        for (ChatEngine engine : engines.values()) {
            active += engine.active();
        }
        return new long[] {tokensGenerated.get(), generationsFinished.get(), active, waiting.get(), engines.size()};
    }

    private static float orDefault(Float asked, Float modelDefault, float otherwise) {
        return asked != null ? asked : modelDefault != null ? modelDefault : otherwise;
    }

    private void check(Request request) {
        if (request.messages().isEmpty()) {
            throw new Refusal(Refusal.Reason.INVALID, "messages must not be empty");
        }
        long chars = 0;
        for (int i = 0; i < request.messages().size(); i++) {
            ChatTemplate.Message m = request.messages().get(i);
            if (!ROLES.contains(m.role())) {
                throw new Refusal(Refusal.Reason.INVALID, "messages[" + i + "].role is '" + m.role()
                        + "'; it must be system, user, assistant or tool");
            }
            chars += m.content().length();
        }
        if (chars > settings.maxInputChars()) {
            throw new Refusal(Refusal.Reason.TOO_LARGE, "the messages have " + chars + " characters; at most "
                    + settings.maxInputChars() + " (bkg.inference.chat.max-input-chars)");
        }
        if (request.maxTokens() < 0) {
            throw new Refusal(Refusal.Reason.INVALID, "max_tokens must be positive");
        }
        range("temperature", request.temperature(), 0, 100);
        range("top_p", request.topP(), Float.MIN_VALUE, 1);
        range("min_p", request.minP(), 0, 1);
        range("repetition_penalty", request.repetitionPenalty(), Float.MIN_VALUE, 100);
        range("presence_penalty", request.presencePenalty(), -2, 2);
        range("frequency_penalty", request.frequencyPenalty(), -2, 2);
        if (request.topK() < 0) {
            throw new Refusal(Refusal.Reason.INVALID, "top_k must be 0 (off) or positive");
        }
        if (request.stop().size() > 16 || request.stop().stream().anyMatch(s -> s.isEmpty() || s.length() > 256)) {
            throw new Refusal(Refusal.Reason.INVALID, "stop takes at most 16 sequences of 1 to 256 characters");
        }
    }

    private static void range(String name, Float value, float min, float max) {
        if (value != null && (value.isNaN() || value < min || value > max)) {
            throw new Refusal(Refusal.Reason.INVALID, name + " must be within " + (min == Float.MIN_VALUE ? "(0" : "[" + min)
                    + ", " + max + "]; it was " + value);
        }
    }

    /** The READY llm models, newest first. */
    private List<Model> catalog() {
        List<Model> models = new ArrayList<>(store.list(ListModelsRequest.newBuilder().setKind(ModelKind.LLM)
                .setStatus(ModelStatus.READY).build()));
        models.sort(Comparator.comparingLong(Model::getCreatedEpochMs).reversed());
        return models;
    }

    private ChatEngine engine(String idOrName) {
        if (idOrName != null && !idOrName.isBlank()) {
            for (ChatEngine engine : engines.values()) {
                if (engine.model.id.equals(idOrName) || engine.model.name.equals(idOrName)) {
                    return engine;
                }
            }
        }
        Model model = choose(idOrName);
        ChatEngine loaded = engines.get(model.getId());
        if (loaded != null) {
            return loaded;
        }
        synchronized (this) {
            loaded = engines.get(model.getId());
            if (loaded != null) {
                return loaded;
            }
            long started = System.nanoTime();
            int threads = settings.threads() > 0 ? settings.threads() : Runtime.getRuntime().availableProcessors();
            ChatModel chat;
            try {
                chat = ChatModel.load(model, store, runtime, threads, settings.maxContext());
            } catch (OrtException e) {
                throw new Refusal(Refusal.Reason.INVALID, "model '" + model.getName() + "' cannot be opened: " + e.getMessage());
            }
            ChatEngine engine = new ChatEngine(chat, runtime.environment(), settings.maxBatch(), settings.queueCapacity(),
                    waiting, tokensGenerated, generationsFinished);
            engines.put(model.getId(), engine);
            LOG.infof("chat model %s (%s, %s) loaded in %d ms on %s: %d layers, %d kv heads × %d, vocabulary %d, context %d,"
                    + " batch %d", chat.name, chat.id, chat.architecture, (System.nanoTime() - started) / 1_000_000,
                    runtime.provider(), chat.layers, chat.kvHeads, chat.headDim, chat.vocabSize, chat.contextLength,
                    settings.maxBatch());
            return engine;
        }
    }

    private Model choose(String idOrName) {
        if (idOrName != null && !idOrName.isBlank()) {
            Model model = store.find(idOrName);
            if (model.getKind() != ModelKind.LLM) {
                throw new Refusal(Refusal.Reason.INVALID, "model '" + model.getName() + "' is a "
                        + model.getKind().name().toLowerCase(Locale.ROOT).replace('_', '-') + " model, not a chat (llm) model");
            }
            if (model.getStatus() != ModelStatus.READY) {
                throw new Refusal(Refusal.Reason.INVALID, "model '" + model.getName() + "' is " + model.getStatus()
                        + (model.getStatusMessage().isEmpty() ? "" : ": " + model.getStatusMessage()));
            }
            return model;
        }
        if (settings.defaultModel().isPresent()) {
            return choose(settings.defaultModel().get());
        }
        List<Model> catalog = catalog();
        if (catalog.isEmpty()) {
            throw new Refusal(Refusal.Reason.PRECONDITION, "no chat model is installed: " + HOW_TO_PULL);
        }
        return catalog.get(0);
    }

    private void unloadIdle() {
        long idleSince = System.currentTimeMillis() - settings.keepAlive().toMillis();
        engines.values().removeIf(engine -> {
            if (engine.retireIfIdle(idleSince)) {
                LOG.infof("chat model %s unused for %s: unloading", engine.model.name, settings.keepAlive());
                Thread closer = new Thread(engine::close, "chat-unload");
                closer.setDaemon(true);
                closer.start();
                return true;
            }
            return false;
        });
    }

    @PreDestroy
    void unloadAll() {
        reaper.shutdownNow();
        engines.values().forEach(ChatEngine::close);
        engines.clear();
    }
}
