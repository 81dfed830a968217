package dev.bkg.inference.chat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.jboss.logging.Logger;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.bkg.inference.domain.Refusal;

/**
 * Generates for one chat model with continuous batching: one thread runs decode steps in which
 * every active generation advances by one token; between steps, finished or cancelled ones leave
 * and queued ones join (each prefilled alone, then merged). The batch's KV cache stays in ONNX
 * Runtime values from step to step — each step's present.* become the next step's past — and is
 * rebuilt (rows left-padded to the longest, padding masked) only when the batch changes.
 */
final class ChatEngine implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ChatEngine.class);

    final ChatModel model;
    private final OrtEnvironment env;
    private final int maxBatch;
    private final int queueCapacity;
    /** Generations waiting in every engine's queue (the capacity is shared). */
    private final AtomicInteger waitingEverywhere;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final ArrayDeque<Generation> pending = new ArrayDeque<>();
    private final Thread thread;
    private volatile boolean closed;
    private volatile int activeCount;
    volatile long lastUsedMillis = System.currentTimeMillis();
    /** Counted over every engine of the process (they outlive an unloaded model). */
    private final AtomicLong tokensGenerated;
    private final AtomicLong generationsFinished;
    /** The most rows one decode step has had since the load. */
    volatile int peakBatch;

    // engine thread only: the batch, in row order, its cache [rows, kv heads, length, head size] per layer
    private List<Generation> active = new ArrayList<>();
    private final List<Generation> recomputing = new ArrayList<>();
    private OnnxTensor[] keys;
    private OnnxTensor[] values;
    private int length;

    ChatEngine(ChatModel model, OrtEnvironment env, int maxBatch, int queueCapacity, AtomicInteger waitingEverywhere,
            AtomicLong tokensGenerated, AtomicLong generationsFinished) {
        this.model = model;
        this.tokensGenerated = tokensGenerated;
        this.generationsFinished = generationsFinished;
        this.env = env;
        this.maxBatch = maxBatch;
        this.queueCapacity = queueCapacity;
        this.waitingEverywhere = waitingEverywhere;
        this.thread = new Thread(this::loop, "chat-" + model.name);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** Queues a generation; false when this engine was retired (load the model again). */
    boolean submit(Generation generation) {
        lock.lock();
        try {
            if (closed) {
                return false;
            }
            if (waitingEverywhere.get() >= queueCapacity) {
                throw new Refusal(Refusal.Reason.OVERLOADED, waitingEverywhere.get() + " chats are waiting already"
                        + " (bkg.inference.chat.queue-capacity); retry in a moment");
            }
            waitingEverywhere.incrementAndGet();
            lastUsedMillis = System.currentTimeMillis();
            generation.sink.accepted(model.name, generation.prompt.length);
            pending.add(generation);
            work.signal();
            return true;
        } finally {
            lock.unlock();
        }
    }

    int active() {
        return activeCount;
    }

    int queued() {
        lock.lock();
        try {
            return pending.size();
        } finally {
            lock.unlock();
        }
    }

    /** Bytes the batch's cache holds now. */
    long cacheBytes() {
        return (long) activeCount * length * model.cacheBytesPerToken();
    }

    /** Retires the engine if nothing ran since {@code idleSince}: true when it is closed now. */
    boolean retireIfIdle(long idleSinceMillis) {
        lock.lock();
        try {
            if (closed || !pending.isEmpty() || activeCount > 0 || lastUsedMillis > idleSinceMillis) {
                return closed;
            }
            closed = true;
            work.signal();
        } finally {
            lock.unlock();
        }
        return true;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            work.signal();
        } finally {
            lock.unlock();
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void loop() {
        try {
            while (true) {
                List<Generation> joining = take();
                if (joining == null) {
                    break;
                }
                try {
                    step(joining);
                } catch (OrtException | RuntimeException e) {
                    RuntimeException failure = new Refusal(Refusal.Reason.INVALID, "model '" + model.name + "' failed to run: "
                            + e.getMessage());
                    LOG.errorf(e, "chat model %s failed a step; %d generation(s) end with an error", model.name,
                            active.size() + recomputing.size() + joining.size());
                    for (List<Generation> group : List.of(active, recomputing, joining)) {
                        for (Generation g : group) {
                            if (g.finishReason == null) {
                                g.finishReason = "error";
                                g.sink.failed(failure);
                            }
                        }
                    }
                    active = new ArrayList<>();
                    recomputing.clear();
                    dropCache();
                }
                activeCount = active.size() + recomputing.size();
                lastUsedMillis = System.currentTimeMillis();
            }
        } finally {
            lock.lock();
            try {
                for (Generation g : pending) {
                    waitingEverywhere.decrementAndGet();
                    g.sink.failed(new Refusal(Refusal.Reason.NOT_READY, "model '" + model.name + "' was unloaded"));
                }
                pending.clear();
            } finally {
                lock.unlock();
            }
            for (Generation g : active) {
                g.sink.failed(new Refusal(Refusal.Reason.NOT_READY, "model '" + model.name + "' was unloaded"));
            }
            dropCache();
            model.close();
            LOG.infof("chat model %s unloaded", model.name);
        }
    }

    /** Waits for work; the generations that join the batch now (empty when only the batch runs); null when closed. */
    private List<Generation> take() {
        lock.lock();
        try {
            while (!closed && pending.isEmpty() && active.isEmpty() && recomputing.isEmpty()) {
                work.await(1, TimeUnit.SECONDS);
            }
            if (closed) {
                return null;
            }
            List<Generation> joining = new ArrayList<>();
            int room = maxBatch - liveCount(active) - liveCount(recomputing);
            while (room > 0 && !pending.isEmpty()) {
                Generation g = pending.poll();
                waitingEverywhere.decrementAndGet();
                if (!g.cancelled()) {
                    joining.add(g);
                    room--;
                }
            }
            return joining;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } finally {
            lock.unlock();
        }
    }

    private static int liveCount(List<Generation> group) {
        int n = 0;
        for (Generation g : group) {
            if (g.finishReason == null && !g.cancelled()) {
                n++;
            }
        }
        return n;
    }

    private void step(List<Generation> joining) throws OrtException {
        // leavers go first, so that joiners find their places
        List<Generation> staying = active.stream().filter(g -> g.finishReason == null && !g.cancelled()).toList();
        recomputing.removeIf(g -> g.finishReason != null || g.cancelled());
        List<Generation> merged = new ArrayList<>();
        Map<Generation, OnnxTensor[][]> prefilled = new IdentityHashMap<>();
        try {
            for (Generation g : joining) {
                g.admittedNanos = System.nanoTime();
                OnnxTensor[][] cache = prefill(g);
                if (g.finishReason != null || !g.useKvCache) {
                    close(cache);
                    if (g.finishReason == null) {
                        recomputing.add(g);
                    }
                    continue;
                }
                prefilled.put(g, cache);
                merged.add(g);
            }
            if (staying.size() != active.size() || !merged.isEmpty()) {
                rebuild(staying, merged, prefilled);
            }
        } finally {
            prefilled.values().forEach(ChatEngine::close);
        }
        activeCount = active.size() + recomputing.size();
        if (!active.isEmpty()) {
            decode();
        }
        for (Generation g : recomputing) {
            if (g.finishReason == null && !g.cancelled()) {
                recompute(g);
            }
        }
    }

    /** Runs a prompt alone and picks its first token; the cache it made, or null without the cache. */
    private OnnxTensor[][] prefill(Generation g) throws OrtException {
        int n = g.prompt.length;
        long[] positions = new long[n];
        long[] mask = new long[n];
        for (int i = 0; i < n; i++) {
            positions[i] = i;
            mask[i] = 1;
        }
        Step step = run(g.prompt, 1, n, mask, positions, null, null, 0);
        try {
            g.cached = n;
            emit(g, step.lastLogits(0));
            return g.useKvCache ? step.takeCache() : null;
        } finally {
            step.close();
        }
    }

    /** One token for every row of the batch, the cache advancing by one position. */
    private void decode() throws OrtException {
        int rows = active.size();
        peakBatch = Math.max(peakBatch, rows);
        int total = length + 1;
        long[] ids = new long[rows];
        long[] positions = new long[rows];
        long[] mask = new long[rows * total];
        for (int r = 0; r < rows; r++) {
            Generation g = active.get(r);
            ids[r] = g.next;
            positions[r] = g.cached;
            int padding = length - g.cached;
            for (int c = padding; c < total; c++) {
                mask[r * total + c] = 1;
            }
        }
        Step step = run(ids, rows, 1, mask, positions, keys, values, length);
        try {
            OnnxTensor[][] next = step.takeCache();
            dropCache();
            keys = next[0];
            values = next[1];
            length = total;
            for (int r = 0; r < rows; r++) {
                Generation g = active.get(r);
                g.cached++;
                if (g.cancelled()) {
                    continue;
                }
                emit(g, step.lastLogits(r));
            }
        } finally {
            step.close();
        }
    }

    /** The next token from the whole sequence with an empty cache (use_kv_cache false: the reference path). */
    private void recompute(Generation g) throws OrtException {
        long[] sequence = g.sequence();
        int n = sequence.length;
        long[] positions = new long[n];
        long[] mask = new long[n];
        for (int i = 0; i < n; i++) {
            positions[i] = i;
            mask[i] = 1;
        }
        Step step = run(sequence, 1, n, mask, positions, null, null, 0);
        try {
            g.cached = n;
            emit(g, step.lastLogits(0));
        } finally {
            step.close();
        }
    }

    /** Samples a row's next token, sends its text, and ends the generation when it is done. */
    private void emit(Generation g, float[] logits) {
        int token = g.sampler.next(logits);
        g.record(token);
        tokensGenerated.incrementAndGet();
        boolean end = !g.ignoreEos && model.eosIds.contains((long) token);
        if (!end) {
            g.sink.token(g.text.push(token), token);
        }
        String reason = end || g.text.stopped() ? "stop"
                : g.generatedCount >= g.maxNewTokens || g.prompt.length + g.generatedCount >= model.contextLength ? "length"
                        : null;
        if (reason != null) {
            String rest = g.text.flush();
            if (!rest.isEmpty()) {
                g.sink.token(rest, token);
            }
            g.finishReason = reason;
            generationsFinished.incrementAndGet();
            g.sink.finished(reason, g.usage());
        }
    }

    /**
     * The batch's cache for new rows: those staying (from the batch's cache) then those joining
     * (from their prefill), each row's tokens right-aligned to the longest (left padding).
     */
    private void rebuild(List<Generation> staying, List<Generation> joining, Map<Generation, OnnxTensor[][]> prefilled)
            throws OrtException {
        Map<Generation, Integer> oldRow = new HashMap<>();
        for (int r = 0; r < active.size(); r++) {
            oldRow.put(active.get(r), r);
        }
        List<Generation> rows = new ArrayList<>(staying);
        rows.addAll(joining);
        if (rows.isEmpty()) {
            dropCache();
            active = new ArrayList<>();
            return;
        }
        int newLength = rows.stream().mapToInt(g -> g.cached).max().orElse(0);
        int heads = model.kvHeads;
        int rowBytes = model.headDim * model.cacheElementBytes;
        OnnxTensor[] newKeys = new OnnxTensor[model.layers];
        OnnxTensor[] newValues = new OnnxTensor[model.layers];
        long[] shape = {rows.size(), heads, newLength, model.headDim};
        try {
            for (int layer = 0; layer < model.layers; layer++) {
                for (int part = 0; part < 2; part++) {
                    ByteBuffer target = ByteBuffer.allocateDirect(rows.size() * heads * newLength * rowBytes)
                            .order(ByteOrder.nativeOrder());
                    ByteBuffer batch = staying.isEmpty() ? null : (part == 0 ? keys : values)[layer].getByteBuffer();
                    for (int r = 0; r < rows.size(); r++) {
                        Generation g = rows.get(r);
                        ByteBuffer source;
                        int sourceRow;
                        int sourceLength;
                        if (r < staying.size()) {
                            source = batch;
                            sourceRow = oldRow.get(g);
                            sourceLength = length;
                        } else {
                            source = prefilled.get(g)[part][layer].getByteBuffer();
                            sourceRow = 0;
                            sourceLength = g.cached;
                        }
                        for (int h = 0; h < heads; h++) {
                            int from = ((sourceRow * heads + h) * sourceLength + (sourceLength - g.cached)) * rowBytes;
                            int to = ((r * heads + h) * newLength + (newLength - g.cached)) * rowBytes;
                            target.put(to, source, from, g.cached * rowBytes);
                        }
                    }
                    OnnxTensor tensor = OnnxTensor.createTensor(env, target, shape, model.cacheType);
                    if (part == 0) {
                        newKeys[layer] = tensor;
                    } else {
                        newValues[layer] = tensor;
                    }
                }
            }
        } catch (OrtException | RuntimeException e) {
            close(new OnnxTensor[][] {newKeys, newValues});
            throw e;
        }
        dropCache();
        keys = newKeys;
        values = newValues;
        length = newLength;
        active = rows;
    }

    private void dropCache() {
        if (keys != null) {
            close(new OnnxTensor[][] {keys, values});
        }
        keys = null;
        values = null;
        length = 0;
    }

    private static void close(OnnxTensor[][] cache) {
        if (cache == null) {
            return;
        }
        for (OnnxTensor[] part : cache) {
            for (OnnxTensor t : part) {
                if (t != null) {
                    t.close();
                }
            }
        }
    }

    /** One run of the graph: inputs built here, the outputs held until {@link Step#close()}. */
    private Step run(long[] ids, int rows, int columns, long[] mask, long[] positions, OnnxTensor[] pastKeys,
            OnnxTensor[] pastValues, int pastLength) throws OrtException {
        Map<String, OnnxTensor> inputs = new HashMap<>();
        List<OnnxTensor> made = new ArrayList<>();
        try {
            inputs.put("input_ids", keep(made, OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {rows, columns})));
            inputs.put("attention_mask", keep(made, OnnxTensor.createTensor(env, LongBuffer.wrap(mask),
                    new long[] {rows, mask.length / rows})));
            if (model.takesPositionIds) {
                inputs.put("position_ids", keep(made, OnnxTensor.createTensor(env, LongBuffer.wrap(positions),
                        new long[] {rows, columns})));
            }
            if (model.takesUseCacheBranch) {
                inputs.put("use_cache_branch", keep(made, OnnxTensor.createTensor(env, new boolean[] {pastLength > 0})));
            }
            OnnxTensor empty = pastKeys == null ? keep(made, OnnxTensor.createTensor(env,
                    ByteBuffer.allocateDirect(0), new long[] {rows, model.kvHeads, 0, model.headDim}, model.cacheType)) : null;
            for (int layer = 0; layer < model.layers; layer++) {
                inputs.put("past_key_values." + layer + ".key", pastKeys == null ? empty : pastKeys[layer]);
                inputs.put("past_key_values." + layer + ".value", pastValues == null ? empty : pastValues[layer]);
            }
            OrtSession.Result result = model.session.run(inputs);
            return new Step(result, rows, columns);
        } finally {
            made.forEach(OnnxTensor::close);
        }
    }

    private static OnnxTensor keep(List<OnnxTensor> made, OnnxTensor tensor) {
        made.add(tensor);
        return tensor;
    }

    /** A run's outputs: the logits (read once), and the present.* values, which the caller may take over. */
    private final class Step implements AutoCloseable {
        private final OrtSession.Result result;
        private final int rows;
        private final int columns;
        private FloatBuffer logits;
        private boolean cacheTaken;

        Step(OrtSession.Result result, int rows, int columns) {
            this.result = result;
            this.rows = rows;
            this.columns = columns;
        }

        /** The logits of a row's last position. */
        float[] lastLogits(int row) {
            if (logits == null) {
                logits = ((OnnxTensor) result.get("logits").orElseThrow()).getFloatBuffer();
            }
            int vocab = logits.capacity() / (rows * columns);
            float[] out = new float[vocab];
            logits.get((row * columns + columns - 1) * vocab, out, 0, vocab);
            return out;
        }

        /** present.{i}.key/value, no longer closed with the step. */
        OnnxTensor[][] takeCache() {
            OnnxTensor[][] cache = new OnnxTensor[2][model.layers];
            for (int layer = 0; layer < model.layers; layer++) {
                cache[0][layer] = (OnnxTensor) result.get("present." + layer + ".key").orElseThrow();
                cache[1][layer] = (OnnxTensor) result.get("present." + layer + ".value").orElseThrow();
            }
            cacheTaken = true;
            return cache;
        }

        @Override
        public void close() {
            for (Map.Entry<String, OnnxValue> output : result) {
                if (!cacheTaken || !output.getKey().startsWith("present.")) {
                    output.getValue().close();
                }
            }
        }
    }
}
