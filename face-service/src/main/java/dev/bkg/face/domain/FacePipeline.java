package dev.bkg.face.domain;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;

import ai.onnxruntime.OrtException;

/**
 * What every face request does: decode the image, find its faces, align and embed them, timing
 * each stage. As many requests run at once as there are cores (each may hold a decoded photo of
 * up to bkg.face.max-image-pixels); the others wait their turn. Blocking: call it from worker threads.
 */
@ApplicationScoped
public class FacePipeline {

    private static final long TURN_WAIT_SECONDS = 30;

    private final FaceSettings settings;
    private final FaceModels models;
    private final Semaphore turns = new Semaphore(Runtime.getRuntime().availableProcessors(), true);
    private final java.util.concurrent.atomic.AtomicLong images = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong facesFound = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong facesEmbedded = new java.util.concurrent.atomic.AtomicLong();

    FacePipeline(FaceSettings settings, FaceModels models) {
        this.settings = settings;
        this.models = models;
    }

    /** Detection options; zeros mean the service defaults. */
    public record Options(String detector, float minConfidence, int maxFaces) {
    }

    /** An image's faces, best first, with the stages' times in milliseconds (in the order they ran). */
    public record Detection(RgbImage image, String detector, List<DetectedFace> faces, Map<String, Double> timings) {
    }

    /** A face and its normalised embedding. */
    public record Embedded(DetectedFace face, float[] vector) {
    }

    /** Totals since start: images detected in, faces found, faces embedded. */
    public long[] totals() {
        return new long[] { images.get(), facesFound.get(), facesEmbedded.get() };
    }

    public FaceModels models() {
        return models;
    }

    public FaceSettings settings() {
        return settings;
    }

    public Detection detect(byte[] image, Options options) {
        return withTurn(() -> {
            Map<String, Double> timings = new LinkedHashMap<>();
            long started = System.nanoTime();
            RgbImage decoded = ImageDecoder.decode(image, settings.maxImageBytes(), settings.maxImagePixels());
            started = lap(timings, "decode", started);
            List<BlazeFaceDetector> detectors = models.detectors(options.detector());
            float minScore = confidence(options.minConfidence());
            int limit = maxFaces(options.maxFaces());
            List<DetectedFace> faces;
            String used;
            if (detectors.size() == 1) {
                faces = detectors.get(0).detect(decoded, minScore, settings.nmsOverlap(), limit);
                used = detectors.get(0).name();
            } else { // both graphs' faces, a face found by both blended into one
                List<DetectedFace> all = new ArrayList<>();
                for (BlazeFaceDetector detector : detectors) {
                    all.addAll(detector.detect(decoded, minScore, settings.nmsOverlap(), 0));
                }
                all.sort(Comparator.comparingDouble(DetectedFace::score).reversed());
                faces = BlazeFaceDetector.blend(all, settings.nmsOverlap());
                faces = limit > 0 && faces.size() > limit ? faces.subList(0, limit) : faces;
                used = "auto";
            }
            lap(timings, "detect", started);
            images.incrementAndGet();
            facesFound.addAndGet(faces.size());
            return new Detection(decoded, used, faces, timings);
        });
    }

    /** Every detected face embedded (the timings gain align+embed). */
    public List<Embedded> embed(Detection detection) {
        return embedFaces(detection, detection.faces());
    }

    /** The largest detected face embedded; NO_FACE when there is none. */
    public Embedded embedLargest(Detection detection) {
        DetectedFace largest = detection.faces().stream().max(Comparator.comparingDouble(DetectedFace::area))
                .orElseThrow(() -> new Refusal(Refusal.Reason.NO_FACE, "no face found in the image (detector "
                        + detection.detector() + ")"));
        return embedFaces(detection, List.of(largest)).get(0);
    }

    /**
     * The face in a region the caller gave: the detected face that overlaps it most (so a box
     * from a detect call embeds exactly as that face did); failing that, a face detected inside it
     * (the region and a margin around it) to align by its landmarks; failing that, the region
     * itself, squared and resized.
     */
    public Embedded embedRegion(byte[] image, float x, float y, float width, float height, Options options) {
        return withTurn(() -> {
            Detection detection = detect(image, new Options(options.detector(), options.minConfidence(), 0));
            RgbImage decoded = detection.image();
            if (!(width > 0 && height > 0 && x >= 0 && y >= 0 && x + width <= decoded.width() + 0.5f
                    && y + height <= decoded.height() + 0.5f)) {
                throw new Refusal(Refusal.Reason.INVALID, "the box (" + x + ", " + y + ", " + width + "×" + height
                        + ") is not inside the " + decoded.width() + "×" + decoded.height() + " image");
            }
            DetectedFace region = new DetectedFace(x, y, width, height, 0, new float[0]);
            long started = System.nanoTime();
            DetectedFace face = detection.faces().stream().filter(f -> f.intersectionOverUnion(region) >= 0.3f)
                    .max(Comparator.comparingDouble(f -> f.intersectionOverUnion(region))).orElse(null);
            if (face == null) {
                face = faceInRegion(decoded, region, options);
            }
            lap(detection.timings(), "detect", started);
            return embedFaces(new Detection(decoded, detection.detector(), List.of(face), detection.timings()), List.of(face))
                    .get(0);
        });
    }

    private DetectedFace faceInRegion(RgbImage image, DetectedFace region, Options options) throws OrtException {
        float margin = Math.max(region.width(), region.height()) * 0.25f;
        int left = (int) Math.max(0, Math.floor(region.x() - margin));
        int top = (int) Math.max(0, Math.floor(region.y() - margin));
        int right = (int) Math.min(image.width(), Math.ceil(region.x() + region.width() + margin));
        int bottom = (int) Math.min(image.height(), Math.ceil(region.y() + region.height() + margin));
        int[] pixels = new int[(right - left) * (bottom - top)];
        for (int row = top; row < bottom; row++) {
            System.arraycopy(image.pixels(), row * image.width() + left, pixels, (row - top) * (right - left), right - left);
        }
        RgbImage crop = new RgbImage(right - left, bottom - top, pixels);
        float centreX = region.x() + region.width() / 2 - left;
        float centreY = region.y() + region.height() / 2 - top;
        // the region is mostly face: the short-range detector's own case, unless the caller chose
        String detector = options.detector() == null || options.detector().isBlank()
                || options.detector().equalsIgnoreCase("auto") ? "front" : options.detector();
        return models.detectors(detector).get(0).detect(crop, confidence(options.minConfidence()), settings.nmsOverlap(), 0)
                .stream().filter(f -> centreX >= f.x() && centreX <= f.x() + f.width() && centreY >= f.y()
                        && centreY <= f.y() + f.height())
                .max(Comparator.comparingDouble(DetectedFace::area))
                .map(f -> shifted(f, left, top)).orElse(region);
    }

    private static DetectedFace shifted(DetectedFace f, float dx, float dy) {
        float[] landmarks = f.landmarks().clone();
        for (int i = 0; i < landmarks.length; i += 2) {
            landmarks[i] += dx;
            landmarks[i + 1] += dy;
        }
        return new DetectedFace(f.x() + dx, f.y() + dy, f.width(), f.height(), f.score(), landmarks);
    }

    private List<Embedded> embedFaces(Detection detection, List<DetectedFace> faces) {
        return withTurn(() -> {
            long started = System.nanoTime();
            float[][] vectors = models.embedder().embed(detection.image(), faces);
            lap(detection.timings(), "embed", started);
            facesEmbedded.addAndGet(faces.size());
            List<Embedded> embedded = new ArrayList<>(faces.size());
            for (int i = 0; i < faces.size(); i++) {
                embedded.add(new Embedded(faces.get(i), vectors[i]));
            }
            return embedded;
        });
    }

    float confidence(float requested) {
        if (requested < 0 || requested > 1 || Float.isNaN(requested)) {
            throw new Refusal(Refusal.Reason.INVALID, "the detection threshold must be between 0 and 1; was " + requested);
        }
        return requested == 0 ? settings.minConfidence() : requested;
    }

    int maxFaces(int requested) {
        if (requested < 0 || requested > settings.maxFaces()) {
            throw new Refusal(Refusal.Reason.INVALID, "max faces must be between 0 (no limit) and " + settings.maxFaces()
                    + "; was " + requested);
        }
        return requested;
    }

    /** Adds the time since {@code started} under {@code stage}; answers now. */
    public static long lap(Map<String, Double> timings, String stage, long started) {
        long now = System.nanoTime();
        timings.merge(stage, (now - started) / 1e6, Double::sum);
        return now;
    }

    private interface Work<T> {
        T run() throws OrtException;
    }

    /** Runs {@code work} in one of the cores' turns (re-entrant: a thread holding a turn keeps it). */
    private <T> T withTurn(Work<T> work) {
        boolean nested = HOLDING.get();
        try {
            if (!nested) {
                if (!turns.tryAcquire(TURN_WAIT_SECONDS, TimeUnit.SECONDS)) {
                    throw new Refusal(Refusal.Reason.OVERLOADED, "face-service is busy: no turn within " + TURN_WAIT_SECONDS
                            + " s; retry shortly");
                }
                HOLDING.set(true);
            }
            try {
                return work.run();
            } finally {
                if (!nested) {
                    HOLDING.set(false);
                    turns.release();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Refusal(Refusal.Reason.NOT_READY, "interrupted");
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
        }
    }

    private static final ThreadLocal<Boolean> HOLDING = ThreadLocal.withInitial(() -> false);
}
