package dev.bkg.inference.domain;

import java.nio.file.Path;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** bkg.inference.*: the role, the execution provider, the model cache and the embedding limits. */
@ConfigMapping(prefix = "bkg.inference")
public interface InferenceSettings {

    /** Which plugin this process plays: llm (llmserver), runner (candle) or index (brainml). */
    @WithDefault("llm")
    String role();

    /** auto (CUDA when it can be used, else CPU), cpu, or cuda (falls back to CPU with a warning). */
    @WithDefault("auto")
    String provider();

    @WithDefault("0")
    int cudaDevice();

    /** ONNX Runtime's threads per run; 0: the cores shared out among the embedding workers. */
    @WithDefault("0")
    int intraOpThreads();

    /** Where model files fetched from model-service are kept, by SHA-256; default $BKG_HOME/cache/inference. */
    Optional<Path> cacheDir();

    /** Where brainml keeps its collections' search indexes (one folder each); default $BKG_HOME/index. */
    Optional<Path> indexDir();

    Embedding embedding();

    Chat chat();

    Runner runner();

    /** The model runner (role runner, plugin candle): keep-alive, memory budget, batching. */
    interface Runner {
        /** How long a model stays loaded after its last request, unless its load said otherwise. */
        @WithDefault("5m")
        java.time.Duration keepAlive();

        /** Megabytes of weights the loaded models may hold together; 0: no budget. */
        @WithDefault("0")
        long memoryBudgetMb();

        /** Over the budget: "evict" unloads the least recently used idle models first; "refuse" answers 409. */
        @WithDefault("evict")
        String onBudget();

        /** Concurrent requests that share one run at most. */
        @WithDefault("16")
        int maxBatch();

        /** ONNX Runtime's threads for one run; 0: every core. */
        @WithDefault("0")
        int threads();
    }

    /** Chat generation (role llm): the default model, continuous batching, keep-alive. */
    interface Chat {
        /** The chat model used when a request names none; unset: the most recently added READY llm model. */
        Optional<String> defaultModel();

        /** Generations that share one decode step at most (continuous batching). */
        @WithDefault("8")
        int maxBatch();

        /** Generations waiting for a place in the batch at most (all models); beyond it: overload (429). */
        @WithDefault("64")
        int queueCapacity();

        /** How long a model stays loaded after its last generation (Ollama's keep-alive). */
        @WithDefault("5m")
        java.time.Duration keepAlive();

        /** Caps the context window (prompt + reply) below the model's max_position_embeddings. */
        Optional<Integer> maxContext();

        /** ONNX Runtime's threads for a chat model's runs; 0: every core. */
        @WithDefault("0")
        int threads();

        /** Characters of all messages of one request at most. */
        @WithDefault("262144")
        int maxInputChars();
    }

    interface Embedding {
        /** The model used when a request names none. */
        @WithDefault("all-minilm-l6-v2")
        String defaultModel();

        /** Most texts in one ONNX Runtime run. */
        @WithDefault("32")
        int maxBatch();

        /**
         * Batches that run at once, each on its own thread; 0: one per core on CPU (each run then
         * single-threaded, so that a core taken by the gateway stalls one run, not every run's
         * threads), one on CUDA.
         */
        @WithDefault("0")
        int workers();

        /** How long a batch waits for more texts before it runs, in microseconds. */
        @WithDefault("1000")
        long maxWaitMicros();

        /** Texts waiting at most (all models); beyond it requests are refused as overload. */
        @WithDefault("4096")
        int queueCapacity();

        /**
         * Embedding models loaded at once at most (each holds a session and a thread per core): a
         * load beyond it unloads the least recently used idle one; the default model always stays.
         */
        @WithDefault("4")
        int maxLoaded();

        /** A model other than the default unused this long is unloaded. */
        @WithDefault("30m")
        java.time.Duration keepAlive();

        /** Texts in one request at most. */
        @WithDefault("2048")
        int maxInputs();

        /** Characters of one text at most (tokens are cut at the model's max length anyway). */
        @WithDefault("65536")
        int maxInputChars();

        /** Overrides the model's max length in tokens (tokenizer.json's truncation, else 512). */
        Optional<Integer> maxTokens();
    }
}
