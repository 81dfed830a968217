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
 * Dynamic batching for one embedding model: texts of concurrent requests wait in one queue, a
 * worker takes what is there (waiting up to {@code maxWait} for more, up to {@code maxBatch}),
 * sorts it by length and runs it as batches whose padding stays small — a batch is cut where the
 * next, longer text would make more than half of its cells padding. The queue is bounded by the
 * shared {@link AtomicInteger} of waiting texts; a request that does not fit is refused whole.
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
    private final Thread worker;
    private volatile boolean closed;

    final AtomicLong texts = new AtomicLong();
    final AtomicLong batches = new AtomicLong();
    final AtomicLong tokens = new AtomicLong();

    EmbeddingBatcher(EmbeddingModel model, int maxBatch, long maxWaitMicros, AtomicInteger waiting, int capacity) {
        this.model = model;
        this.maxBatch = maxBatch;
        this.maxWaitNanos = TimeUnit.MICROSECONDS.toNanos(maxWaitMicros);
        this.waiting = waiting;
        this.capacity = capacity;
        this.worker = new Thread(this::work, "embed-" + model.name);
        worker.setDaemon(true);
        worker.start();
    }

    /** Queues every text of one request, or none (Refusal OVERLOADED when the queue is full). */
    List<CompletableFuture<float[]>> submit(List<EmbeddingModel.Tokens> request, boolean normalize) {
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
                taken.add(first);
                queue.drainTo(taken, maxBatch - taken.size());
                long deadline = System.nanoTime() + maxWaitNanos;
                while (taken.size() < maxBatch) {
                    long left = deadline - System.nanoTime();
                    Item next = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : null;
                    if (next == null) {
                        break;
                    }
                    taken.add(next);
                    queue.drainTo(taken, maxBatch - taken.size());
                }
                waiting.addAndGet(-taken.size());
                run(taken);
            } catch (InterruptedException e) {
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
            waiting.decrementAndGet();
            left.result().completeExceptionally(new Refusal(Refusal.Reason.NOT_READY, "model '" + model.name + "' was unloaded"));
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
            for (int i = 0; i < batch.size(); i++) {
                if (batch.get(i).normalize()) {
                    EmbeddingModel.normalizeInPlace(vectors[i]);
                }
                batch.get(i).result().complete(vectors[i]);
            }
            texts.addAndGet(batch.size());
            batches.incrementAndGet();
            tokens.addAndGet(tokenized.stream().mapToLong(EmbeddingModel.Tokens::length).sum());
        } catch (Exception e) {
            LOG.warnf("embedding a batch of %d on %s failed: %s", batch.size(), model.name, e.getMessage());
            batch.forEach(i -> i.result().completeExceptionally(e));
        }
    }

    int queued() {
        return queue.size();
    }

    @Override
    public void close() {
        closed = true;
        worker.interrupt();
        try {
            worker.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        model.close();
    }
}
