package dev.bkg.model.domain;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.bkg.proto.model.v1.DownloadProgress;
import dev.bkg.proto.model.v1.DownloadProgress.State;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.subscription.BackPressureStrategy;
import io.smallrye.mutiny.subscription.MultiEmitter;

/**
 * One download: its files, its latest progress, and whoever watches it. A watcher gets the current
 * progress first, then each update; a slow watcher only misses intermediate updates, never the
 * final state (it ends the stream).
 */
public final class DownloadJob {

    public record Source(String name, String url, String sha256) {
    }

    final String id;
    final String modelId;
    final List<Source> files;
    final long maxBytes;
    final AtomicBoolean cancelled = new AtomicBoolean();
    private final List<MultiEmitter<? super DownloadProgress>> watchers = new CopyOnWriteArrayList<>();
    private volatile DownloadProgress progress;

    DownloadJob(String id, String modelId, List<Source> files, long maxBytes) {
        this.id = id;
        this.modelId = modelId;
        this.files = files;
        this.maxBytes = maxBytes;
        this.progress = DownloadProgress.newBuilder().setJobId(id).setModelId(modelId).setState(State.QUEUED)
                .setBytesTotal(-1).setEtaMs(-1).setFilesTotal(files.size()).setTimestampEpochMs(System.currentTimeMillis())
                .build();
    }

    public String id() {
        return id;
    }

    public String modelId() {
        return modelId;
    }

    public DownloadProgress progress() {
        return progress;
    }

    public boolean finished() {
        return terminal(progress.getState());
    }

    static boolean terminal(State state) {
        return state == State.DONE || state == State.FAILED || state == State.CANCELLED;
    }

    synchronized void publish(DownloadProgress next) {
        if (finished()) {
            return; // the end was already told
        }
        progress = next.toBuilder().setTimestampEpochMs(System.currentTimeMillis()).build();
        for (MultiEmitter<? super DownloadProgress> watcher : watchers) {
            watcher.emit(progress);
            if (finished()) {
                watcher.complete();
            }
        }
    }

    public Multi<DownloadProgress> watch() {
        return Multi.createFrom().<DownloadProgress>emitter(emitter -> {
            synchronized (this) {
                emitter.emit(progress);
                if (finished()) {
                    emitter.complete();
                    return;
                }
                watchers.add(emitter);
            }
            emitter.onTermination(() -> watchers.remove(emitter));
        }, BackPressureStrategy.LATEST);
    }
}
