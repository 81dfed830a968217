package dev.bkg.inference.domain;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.jboss.logging.Logger;

/**
 * Dynamic batching for one embedding model: texts of concurrent requests wait in one queue, which
 * {@code workers} threads drain, each running its batches on the shared session. A worker that
 * finds texts takes its fair share of them with the other idle workers; when it is the only idle
 * one it also waits up to {@code maxWait} for more, up to {@code maxBatch}. It sorts what it took
 * by length and runs it as batches whose padding stays small — a batch is cut where the next,
 * longer text would make more than half of its cells padding. The queue is bounded by the shared
 * {@link AtomicInteger} of waiting texts; a request that does not fit is refused whole.
 */
final class EmbeddingBatcher implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(EmbeddingBatcher.class);

    record Item(EmbeddingModel.Tokens tokens, boolean normalize, CompletableFuture<float[]> result) {
    }

    final EmbeddingModel model;
    private final int maxBatch;
    private final long maxWaitNanos;
    private final AtomicInteger waiting;
    private final int capacity;
    private final BlockingQueue<Item> queue = new LinkedBlockingQueue<>();
    private final List<Thread> workers = new ArrayList<>();
    /** Workers waiting for texts, so that one taking texts leaves the others their share. */
    private final AtomicInteger idle;
    private volatile boolean closed;

    final AtomicLong texts = new AtomicLong();
    final AtomicLong batches = new AtomicLong();
    final AtomicLong tokens = new AtomicLong();
    /** The most workers that have had texts at once. */
    final AtomicInteger mostBusy = new AtomicInteger();

    EmbeddingBatcher(EmbeddingModel model, int workers, int maxBatch, long maxWaitMicros, AtomicInteger waiting, int capacity) {
        this.model = model;
        this.maxBatch = maxBatch;
        this.maxWaitNanos = TimeUnit.MICROSECONDS.toNanos(maxWaitMicros);
        this.waiting = waiting;
        this.capacity = capacity;
        this.idle = new AtomicInteger(workers);
        for (int w = 0; w < workers; w++) {
            Thread worker = new Thread(this::work, "embed-" + model.name + "-" + w);
            worker.setDaemon(true);
            this.workers.add(worker);
        }
        this.workers.forEach(Thread::start);
    }

    /** Queues every text of one request, or none (Refusal OVERLOADED when the queue is full). */
    List<CompletableFuture<float[]>> submit(List<EmbeddingModel.Tokens> request, boolean normalize) {
        lastUsedMillis = System.currentTimeMillis();
        if (closed) {
            throw new Refusal(Refusal.Reason.NOT_READY, "model '" + model.name + "' is being unloaded");
        }
        if (waiting.addAndGet(request.size()) > capacity) {
            waiting.addAndGet(-request.size());
            throw new Refusal(Refusal.Reason.OVERLOADED, "model is overloaded: more than " + capacity
                    + " texts are waiting (bkg.inference.embedding.queue-capacity); retry shortly");
        }
        List<CompletableFuture<float[]>> results = new ArrayList<>(request.size());
        for (EmbeddingModel.Tokens t : request) {
            CompletableFuture<float[]> result = new CompletableFuture<>();
            results.add(result);
            queue.add(new Item(t, normalize, result));
        }
        return results;
    }

    private void work() {
        List<Item> taken = new ArrayList<>(maxBatch);
        while (!closed) {
            try {
                Item first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                int idleWithMe = idle.getAndDecrement();
                mostBusy.accumulateAndGet(workers.size() - idleWithMe + 1, Math::max);
                try {
                    taken.add(first);
                    // its share: the texts there (the first and the queued ones) divided among the idle workers, rounded up
                    int share = Math.min(maxBatch, (queue.size() + idleWithMe) / idleWithMe);
                    queue.drainTo(taken, share - taken.size());
                    // a worker left idle runs what comes next at once; only the last one waits to fill its batch
                    if (idleWithMe == 1) {
                        fill(taken);
                    }
                    waiting.addAndGet(-taken.size());
                    run(taken);
                } finally {
                    idle.incrementAndGet();
                }
            } catch (InterruptedException e) { // closing: only fill() waits with texts taken, still counted as waiting
                taken.forEach(this::refuseUnloaded);
                Thread.currentThread().interrupt();
                break;
            } catch (RuntimeException e) {
                LOG.error("embedding worker failed", e);
                taken.forEach(i -> i.result().completeExceptionally(e));
            } finally {
                taken.clear();
            }
        }
        Item left;
        while ((left = queue.poll()) != null) {
            refuseUnloaded(left);
        }
    }

    private void refuseUnloaded(Item item) {
        waiting.decrementAndGet();
        item.result().completeExceptionally(new Refusal(Refusal.Reason.NOT_READY, "model '" + model.name + "' was unloaded"));
    }

    /** Waits up to maxWait for more texts, while the batch is short of maxBatch. */
    private void fill(List<Item> taken) throws InterruptedException {
        long deadline = System.nanoTime() + maxWaitNanos;
        while (taken.size() < maxBatch) {
            long left = deadline - System.nanoTime();
            Item next = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : null;
            if (next == null) {
                return;
            }
            taken.add(next);
            queue.drainTo(taken, maxBatch - taken.size());
        }
    }

    /** Sorted by length, cut where padding would exceed half a batch, each part one run. */
    private void run(List<Item> items) {
        items.sort(Comparator.comparingInt(i -> i.tokens().length()));
        int from = 0;
        long real = 0;
        for (int i = 0; i < items.size(); i++) {
            int length = items.get(i).tokens().length();
            long padded = (long) (i - from + 1) * length;
            if (i > from && padded > 2 * (real + length)) {
                runOne(items.subList(from, i));
                from = i;
                real = 0;
            }
            real += length;
        }
        runOne(items.subList(from, items.size()));
    }

    private void runOne(List<Item> batch) {
        // requests may differ in normalisation; vectors are computed raw and normalised per item
        List<EmbeddingModel.Tokens> tokenized = batch.stream().map(Item::tokens).toList();
        try {
            float[][] vectors = model.embed(tokenized, false);
            // counted before the callers hear of it: whatever they do next (read the totals, unload) sees it
            texts.addAndGet(batch.size());
            batches.incrementAndGet();
            tokens.addAndGet(tokenized.stream().mapToLong(EmbeddingModel.Tokens::length).sum());
            for (int i = 0; i < batch.size(); i++) {
                if (batch.get(i).normalize()) {
                    EmbeddingModel.normalizeInPlace(vectors[i]);
                }
                batch.get(i).result().complete(vectors[i]);
            }
        } catch (Exception e) {
            LOG.warnf("embedding a batch of %d on %s failed: %s", batch.size(), model.name, e.getMessage());
            batch.forEach(i -> i.result().completeExceptionally(e));
        }
    }

    int queued() {
        return queue.size();
    }

    /** When a request last came (or the model was loaded): the least recently used is unloaded first. */
    volatile long lastUsedMillis = System.currentTimeMillis();

    @Override
    public void close() {
        closed = true;
        workers.forEach(Thread::interrupt);
        try {
            for (Thread worker : workers) {
                worker.join(5000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        model.close();
    }
}
