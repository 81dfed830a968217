package dev.bkg.inference.chat;

import java.util.List;

/**
 * One reply being generated: its prompt, sampling and limits, where its text goes, and its place
 * in the batch (how many of its tokens the KV cache holds). Touched by the engine's thread only,
 * except {@link #cancel()}.
 */
public final class Generation {

    /** Where a generation's text and end go; called on the engine's thread, so keep it quick. */
    public interface Sink {
        /** The generation has its place in the queue: the model that runs it and the prompt's token count. */
        void accepted(String model, int promptTokens);

        /** A piece of text (may be empty mid-character) for one generated token. */
        void token(String text, long tokenId);

        /** The end: "stop" (an end token or stop sequence) or "length" (max tokens or the context window). */
        void finished(String reason, Usage usage);

        void failed(RuntimeException failure);
    }

    /** Counts and timings of a finished generation. */
    public record Usage(int promptTokens, int completionTokens, long timeToFirstTokenMs, double tokensPerSecond,
            long durationMs, long queuedMs) {
    }

    final long[] prompt;
    final int maxNewTokens;
    final boolean useKvCache;
    final boolean ignoreEos;
    final Sampler sampler;
    final TextStream text;
    final Sink sink;
    final long arrivedNanos = System.nanoTime();
    long admittedNanos;
    long firstTokenNanos;
    long lastTokenNanos;
    /** Tokens of this sequence in the KV cache: the prompt and every generated token fed back so far. */
    int cached;
    /** The last generated token, fed to the next decode step. */
    long next;
    /** Every generated token (for recomputation without the cache, and the counts). */
    long[] generated = new long[16];
    int generatedCount;
    String finishReason;
    private volatile boolean cancelled;

    Generation(long[] prompt, int maxNewTokens, boolean useKvCache, boolean ignoreEos, Sampler.Settings sampling,
            List<String> stops, java.util.function.Function<long[], String> decoder, Sink sink) {
        this.prompt = prompt;
        this.maxNewTokens = maxNewTokens;
        this.useKvCache = useKvCache;
        this.ignoreEos = ignoreEos;
        this.sampler = new Sampler(sampling, prompt);
        this.text = new TextStream(decoder, stops);
        this.sink = sink;
    }

    /** Stops the generation at the next step (the client went away); its cache rows are freed then. */
    public void cancel() {
        cancelled = true;
    }

    boolean cancelled() {
        return cancelled;
    }

    /** The prompt followed by the generated tokens. */
    long[] sequence() {
        long[] all = java.util.Arrays.copyOf(prompt, prompt.length + generatedCount);
        System.arraycopy(generated, 0, all, prompt.length, generatedCount);
        return all;
    }

    void record(long token) {
        if (generatedCount == generated.length) {
            generated = java.util.Arrays.copyOf(generated, generatedCount * 2);
        }
        generated[generatedCount++] = token;
        long now = System.nanoTime();
        if (generatedCount == 1) {
            firstTokenNanos = now;
        }
        lastTokenNanos = now;
        next = token;
    }

    Usage usage() {
        long ttft = firstTokenNanos == 0 ? 0 : (firstTokenNanos - arrivedNanos) / 1_000_000;
        double rate = generatedCount > 1 && lastTokenNanos > firstTokenNanos
                ? (generatedCount - 1) * 1e9 / (lastTokenNanos - firstTokenNanos) : 0;
        long end = lastTokenNanos == 0 ? System.nanoTime() : lastTokenNanos;
        return new Usage(prompt.length, generatedCount, ttft, rate, (end - arrivedNanos) / 1_000_000,
                admittedNanos == 0 ? 0 : (admittedNanos - arrivedNanos) / 1_000_000);
    }
}
