package dev.bkg.model.domain;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.bkg.proto.model.v1.DownloadProgress;
import dev.bkg.proto.model.v1.DownloadProgress.State;
import dev.bkg.proto.model.v1.ModelStatus;
import io.quarkus.runtime.ShutdownEvent;

/**
 * Download jobs: each fetches its files over HTTP(S) into a staging folder, hashing as it writes,
 * resuming a broken transfer with a Range request (also after a service restart: the staging
 * folder and the request are kept), checking sizes against the cap and SHA-256 against the
 * expected one, then moves the finished folder into the model directory in one atomic rename.
 * Concurrent requests for the same model join its job. A failed or cancelled job leaves nothing
 * behind. Progress is published at most every 100 ms.
 */
@ApplicationScoped
public class Downloads {

    private static final Logger LOG = Logger.getLogger(Downloads.class);
    static final ObjectMapper JSON = new ObjectMapper();
    private static final long PUBLISH_EVERY_NANOS = 100_000_000L;
    private static final int MAX_REDIRECTS = 5;
    /** How often (in bytes written) a transfer looks at the free space again. */
    private static final long SPACE_CHECK_BYTES = 64L * 1024 * 1024;

    private final ModelCatalog catalog;
    private final ModelDirectory directory;
    private final ModelSettings settings;
    private final AddressGuard guard;
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final ExecutorService workers;
    private final java.util.concurrent.ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "model-download-watchdog");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, DownloadJob> jobs = new ConcurrentHashMap<>();
    private final Map<String, DownloadJob> byModel = new ConcurrentHashMap<>();
    private volatile boolean stopping;

    Downloads(ModelCatalog catalog, ModelDirectory directory, ModelSettings settings) {
        this.catalog = catalog;
        this.directory = directory;
        this.settings = settings;
        this.guard = new AddressGuard(settings.download().allowedHosts().orElse(List.of()));
        this.workers = Executors.newFixedThreadPool(settings.download().parallel(), r -> {
            Thread t = new Thread(r, "model-download");
            t.setDaemon(true);
            return t;
        });
    }

    void stop(@Observes ShutdownEvent event) {
        stopping = true; // running jobs stop where they are: their parts stay, the next start resumes them
        workers.shutdownNow();
        watchdog.shutdownNow();
    }

    public AddressGuard guard() {
        return guard;
    }

    public Optional<DownloadJob> job(String id) {
        return Optional.ofNullable(id == null ? null : jobs.get(id));
    }

    public Optional<DownloadJob> running(String modelId) {
        return Optional.ofNullable(byModel.get(modelId));
    }

    /** What a download was asked for, stored with the model so that a restart can resume it. */
    record Plan(List<DownloadJob.Source> files, long maxBytes) {
    }

    static String planJson(List<DownloadJob.Source> files, long maxBytes) {
        try {
            return JSON.writeValueAsString(new Plan(files, maxBytes));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Plan plan(String json) {
        try {
            return JSON.readValue(json, new TypeReference<Plan>() {
            });
        } catch (IOException e) {
            throw new IllegalStateException("unreadable download plan: " + e.getMessage(), e);
        }
    }

    /** Starts (or joins) the download of a catalogued model whose record holds the plan. */
    public synchronized DownloadJob start(ModelRecord model) {
        DownloadJob existing = byModel.get(model.id);
        if (existing != null && !existing.finished()) {
            return existing;
        }
        Plan plan = plan(model.sources);
        DownloadJob job = new DownloadJob("j_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16), model.id,
                plan.files(), plan.maxBytes());
        jobs.put(job.id, job);
        byModel.put(model.id, job);
        catalog.update(model.id, r -> {
            r.jobId = job.id;
            r.status = ModelStatus.DOWNLOADING.name();
            r.statusMessage = "";
        });
        workers.submit(() -> run(job));
        return job;
    }

    /** Cancels a job (idempotent): its staging folder is removed; the model ends FAILED "cancelled". */
    public DownloadProgress cancel(DownloadJob job) {
        job.cancelled.set(true);
        if (job.progress().getState() == State.QUEUED) {
            finish(job, State.CANCELLED, "cancelled");
        }
        return job.progress();
    }

    private void run(DownloadJob job) {
        if (job.cancelled.get()) {
            finish(job, State.CANCELLED, "cancelled");
            return;
        }
        Path staging = directory.staging(job.modelId);
        Progress progress = new Progress(job);
        try {
            Files.createDirectories(staging);
            progress.publish(State.RUNNING, "", true);
            long[] sizes = new long[job.files.size()];
            for (int i = 0; i < sizes.length; i++) {
                sizes[i] = head(job.files.get(i).url());
            }
            progress.sizes(sizes);
            List<ModelDirectory.StoredFile> stored = new ArrayList<>();
            for (int i = 0; i < job.files.size(); i++) {
                DownloadJob.Source source = job.files.get(i);
                progress.current = source.name();
                stored.add(fetch(job, source, staging, progress, settings.download().attempts()));
                progress.filesDone = i + 1;
            }
            progress.publish(State.VERIFYING, "", true);
            for (int i = 0; i < stored.size(); i++) {
                String expected = job.files.get(i).sha256();
                if (expected != null && !expected.isEmpty() && !expected.equalsIgnoreCase(stored.get(i).sha256())) {
                    throw new DownloadFailure("checksum mismatch for " + stored.get(i).name() + ": expected " + expected
                            + ", got " + stored.get(i).sha256(), false);
                }
            }
            directory.commit(job.modelId, staging);
            long total = stored.stream().mapToLong(ModelDirectory.StoredFile::sizeBytes).sum();
            catalog.update(job.modelId, r -> {
                r.files = ModelDirectory.filesJson(stored);
                r.totalSizeBytes = total;
                r.status = ModelStatus.READY.name();
                r.statusMessage = "";
            });
            finish(job, State.DONE, "");
        } catch (Cancelled e) {
            directory.removeStaging(job.modelId);
            catalog.update(job.modelId, r -> {
                r.status = ModelStatus.FAILED.name();
                r.statusMessage = "download cancelled";
            });
            finish(job, State.CANCELLED, "cancelled");
        } catch (ShuttingDown e) {
            LOG.infof("download of %s interrupted by shutdown; it resumes at the next start", job.modelId);
        } catch (IOException | RuntimeException e) {
            String reason = e instanceof DownloadFailure ? e.getMessage() : describe(e);
            LOG.warnf("download of model %s failed: %s", job.modelId, reason);
            directory.removeStaging(job.modelId);
            catalog.update(job.modelId, r -> {
                r.status = ModelStatus.FAILED.name();
                r.statusMessage = reason;
            });
            finish(job, State.FAILED, reason);
        }
    }

    private void finish(DownloadJob job, State state, String message) {
        job.publish(job.progress().toBuilder().setState(state).setMessage(message).setEtaMs(state == State.DONE ? 0 : -1)
                .setRateBytesPerS(0).build());
        byModel.remove(job.modelId, job);
    }

    private static String describe(Exception e) {
        if (e instanceof AccessDeniedException || e instanceof FileSystemException fs && fs.getReason() != null
                && fs.getReason().contains("space")) {
            return "cannot write the model: " + e.getMessage();
        }
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }

    /** The size a server announces for a URL, or -1 (no HEAD support, no length). */
    private long head(String url) {
        try {
            HttpResponse<Void> response = send(URI.create(url), "HEAD", -1, HttpResponse.BodyHandlers.discarding());
            return response.statusCode() == 200 ? response.headers().firstValueAsLong("content-length").orElse(-1) : -1;
        } catch (DownloadFailure e) {
            if (!e.retryable && e.getMessage().startsWith("refused")) {
                throw e; // the guard said no
            }
            return -1;
        } catch (IOException e) {
            return -1;
        }
    }

    /** Sends a request, following redirects itself so that every hop passes the SSRF guard. */
    private <T> HttpResponse<T> send(URI uri, String method, long rangeFrom, HttpResponse.BodyHandler<T> body)
            throws IOException {
        URI target = uri;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            try {
                guard.check(target);
            } catch (IllegalArgumentException e) {
                throw new DownloadFailure("refused: " + e.getMessage(), false);
            }
            HttpRequest.Builder request = HttpRequest.newBuilder(target).timeout(Duration.ofMinutes(5))
                    .method(method, HttpRequest.BodyPublishers.noBody()).header("user-agent", "bkg-mesh model-service");
            if (rangeFrom > 0) {
                request.header("range", "bytes=" + rangeFrom + "-");
            }
            HttpResponse<T> response;
            try {
                response = http.send(request.build(), body);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ShuttingDown();
            }
            int status = response.statusCode();
            if (status >= 300 && status < 400 && response.headers().firstValue("location").isPresent()) {
                if (response.body() instanceof InputStream in) {
                    in.close();
                }
                target = target.resolve(response.headers().firstValue("location").get());
                continue;
            }
            return response;
        }
        throw new DownloadFailure("more than " + MAX_REDIRECTS + " redirects", false);
    }

    private ModelDirectory.StoredFile fetch(DownloadJob job, DownloadJob.Source source, Path staging, Progress progress,
            int attempts) throws IOException {
        Path part = staging.resolve(source.name() + ".part");
        Path done = staging.resolve(source.name());
        Files.createDirectories(part.getParent());
        for (int attempt = 1;; attempt++) {
            try {
                return fetchOnce(job, source, part, done, progress);
            } catch (DownloadFailure e) {
                if (!e.retryable || attempt >= attempts) {
                    throw e;
                }
                LOG.infof("download of %s (%s) broke off (%s); resuming, attempt %d of %d", job.modelId, source.name(),
                        e.getMessage(), attempt + 1, attempts);
                sleep(Math.min(8000, 500L << attempt));
                if (job.cancelled.get()) {
                    throw new Cancelled();
                }
            }
        }
    }

    private ModelDirectory.StoredFile fetchOnce(DownloadJob job, DownloadJob.Source source, Path part, Path done,
            Progress progress) throws IOException {
        MessageDigest sha = sha256();
        long have = Files.exists(part) ? Files.size(part) : 0;
        if (have > 0) {
            try (InputStream in = new DigestInputStream(Files.newInputStream(part), sha)) {
                in.transferTo(OutputStream.nullOutputStream());
            }
        }
        HttpResponse<InputStream> response;
        try {
            response = send(URI.create(source.url()), "GET", have, HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new DownloadFailure("cannot reach " + host(source.url()) + ": " + describe(e), true);
        }
        int status = response.statusCode();
        boolean append = status == 206;
        if (status == 416 && have > 0) {
            response.body().close();
            Files.deleteIfExists(part); // the part does not fit the file any more: start over
            throw new DownloadFailure("the server no longer has the bytes after " + have + "; starting over", true);
        }
        if (status != 200 && status != 206) {
            response.body().close();
            throw new DownloadFailure("HTTP " + status + " from " + host(source.url()) + " for " + source.name(),
                    status >= 500 || status == 429);
        }
        if (!append && have > 0) {
            sha = sha256(); // the server ignored the Range: the whole file comes again
            have = 0;
        }
        long length = response.headers().firstValueAsLong("content-length").orElse(-1);
        long expectedSize = length < 0 ? -1 : have + length;
        if (expectedSize > job.maxBytes || progress.doneBefore() + Math.max(0, expectedSize) > job.maxBytes) {
            response.body().close();
            throw new DownloadFailure("larger than the cap of " + job.maxBytes + " bytes", false);
        }
        if (expectedSize > 0) {
            requireSpace(part, expectedSize - have, source.name());
        }
        progress.fileStarted(have, expectedSize);
        long written = have;
        long spaceCheckedAt = written;
        byte[] buffer = new byte[64 * 1024];
        // a server that stops sending would block the read for ever: the watchdog closes the stream
        InputStream body = response.body();
        long stallNanos = settings.download().stallTimeout().toNanos();
        java.util.concurrent.atomic.AtomicLong lastRead = new java.util.concurrent.atomic.AtomicLong(System.nanoTime());
        java.util.concurrent.atomic.AtomicBoolean stalled = new java.util.concurrent.atomic.AtomicBoolean();
        var guardTask = watchdog.scheduleAtFixedRate(() -> {
            if (System.nanoTime() - lastRead.get() > stallNanos && stalled.compareAndSet(false, true)) {
                try {
                    body.close();
                } catch (IOException e) {
                    // closing is all we want
                }
            }
        }, 200, 200, java.util.concurrent.TimeUnit.MILLISECONDS);
        try (InputStream in = body;
                OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE,
                        append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.WRITE)) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                if (stopping) {
                    throw new ShuttingDown();
                }
                if (job.cancelled.get()) {
                    throw new Cancelled();
                }
                lastRead.set(System.nanoTime());
                try {
                    out.write(buffer, 0, n);
                } catch (IOException e) {
                    throw new DownloadFailure("cannot write " + source.name() + ": " + describe(e), false);
                }
                sha.update(buffer, 0, n);
                written += n;
                if (progress.doneBefore() + written > job.maxBytes) {
                    throw new DownloadFailure("larger than the cap of " + job.maxBytes + " bytes", false);
                }
                if (written - spaceCheckedAt >= SPACE_CHECK_BYTES) {
                    requireSpace(part, 0, source.name()); // a file of unknown size, or a disk others fill too
                    spaceCheckedAt = written;
                }
                progress.bytes(written);
            }
        } catch (IOException e) {
            if (stopping) {
                throw new ShuttingDown();
            }
            if (job.cancelled.get()) {
                throw new Cancelled();
            }
            if (stalled.get()) {
                throw new DownloadFailure("no data for " + settings.download().stallTimeout().toSeconds() + " s from "
                        + host(source.url()) + " after " + written + " bytes of " + source.name(), true);
            }
            throw new DownloadFailure("the transfer of " + source.name() + " broke off after " + written + " bytes: "
                    + describe(e), true);
        } finally {
            guardTask.cancel(false);
        }
        if (expectedSize >= 0 && written != expectedSize) {
            throw new DownloadFailure("the transfer of " + source.name() + " ended after " + written + " of "
                    + expectedSize + " bytes", true);
        }
        Files.move(part, done, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        progress.fileDone(written);
        return new ModelDirectory.StoredFile(source.name(), written, HexFormat.of().formatHex(sha.digest()));
    }

    /** Refuses to write {@code more} bytes when that would leave less than the reserve free. */
    private void requireSpace(Path file, long more, String name) throws IOException {
        long usable = Files.getFileStore(file.getParent()).getUsableSpace();
        long reserve = settings.download().minFreeBytes();
        if (usable - more < reserve) {
            throw new DownloadFailure("not enough disk space for " + name + ": " + (more > 0 ? more + " more bytes needed, " : "")
                    + usable + " free, " + reserve + " kept free (bkg.models.download.min-free-bytes)", false);
        }
    }

    private static String host(String url) {
        try {
            return ModelFiles.printable(String.valueOf(URI.create(url).getHost()));
        } catch (IllegalArgumentException e) {
            return "?";
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShuttingDown();
        }
    }

    private static final class Cancelled extends RuntimeException {
        Cancelled() {
            super("cancelled", null, false, false);
        }
    }

    private static final class ShuttingDown extends RuntimeException {
        ShuttingDown() {
            super("shutting down", null, false, false);
        }
    }

    /** Bytes done across files, rate (over the last second or so) and ETA, published at most every 100 ms. */
    private static final class Progress {
        final DownloadJob job;
        long[] sizes = new long[0];
        long finishedBytes;
        long currentBytes;
        int filesDone;
        String current = "";
        long lastPublish;
        long windowStart = System.nanoTime();
        long windowBytes;
        double rate;

        Progress(DownloadJob job) {
            this.job = job;
        }

        void sizes(long[] known) {
            sizes = known;
        }

        long doneBefore() {
            return finishedBytes;
        }

        void fileStarted(long have, long size) {
            currentBytes = have;
            if (size >= 0 && filesDone < sizes.length) {
                sizes[filesDone] = size;
            }
            publish(State.RUNNING, "", true);
        }

        void bytes(long written) {
            windowBytes += written - currentBytes;
            currentBytes = written;
            long now = System.nanoTime();
            if (now - windowStart >= 1_000_000_000L) {
                double measured = windowBytes / ((now - windowStart) / 1e9);
                rate = rate == 0 ? measured : 0.5 * rate + 0.5 * measured;
                windowStart = now;
                windowBytes = 0;
            }
            if (now - lastPublish >= PUBLISH_EVERY_NANOS) {
                publish(State.RUNNING, "", false);
            }
        }

        void fileDone(long written) {
            finishedBytes += written;
            currentBytes = 0;
        }

        void publish(State state, String message, boolean force) {
            lastPublish = System.nanoTime();
            long total = 0;
            for (long size : sizes) {
                if (size < 0) {
                    total = -1;
                    break;
                }
                total += size;
            }
            if (sizes.length == 0) {
                total = -1;
            }
            long done = finishedBytes + currentBytes;
            double shownRate = rate > 0 ? rate : 0;
            long eta = total >= 0 && shownRate > 0 ? (long) ((total - done) / shownRate * 1000) : -1;
            job.publish(job.progress().toBuilder().setState(state).setBytesDone(done).setBytesTotal(total)
                    .setRateBytesPerS(shownRate).setEtaMs(eta).setCurrentFile(current).setFilesDone(filesDone)
                    .setMessage(message).build());
        }
    }
}
