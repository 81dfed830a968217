package dev.bkg.face.domain;

import java.nio.file.Path;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** bkg.face.*: the models, detection and recognition defaults, image limits and the gallery's search. */
@ConfigMapping(prefix = "bkg.face")
public interface FaceSettings {

    /**
     * The detector a request that names none gets: auto (both graphs, their faces merged: a face
     * filling the photo and faces across a room alike), back (256×256, faces a few metres away;
     * misses a face that fills the frame) or front (128×128, near faces only).
     */
    @WithDefault("auto")
    String defaultDetector();

    /** Catalog names in model-service of the two BlazeFace detectors and the embedder. */
    @WithDefault("blazeface-front-128")
    String frontModel();

    @WithDefault("blazeface-back-256")
    String backModel();

    @WithDefault("mobileface")
    String embedderModel();

    /** Detection score a face needs (0..1); photos without faces peak near 0.53 on BlazeFace. */
    @WithDefault("0.75")
    float minConfidence();

    /** Overlap (intersection over union) above which detections are blended into one face. */
    @WithDefault("0.3")
    float nmsOverlap();

    /** Cosine similarity at which two faces count as one person (same person 0.74–0.87, others below 0.3 on MobileFace). */
    @WithDefault("0.5")
    float similarityThreshold();

    /** Largest encoded image accepted, in bytes (CompreFace's limit: 5 MB). */
    @WithDefault("5242880")
    int maxImageBytes();

    /** Most pixels a decoded image may have, read from its header before any pixel is decoded. */
    @WithDefault("40000000")
    long maxImagePixels();

    /** Keep the source image of each enrolled face in the database (off: only embedding, box and SHA-256). */
    @WithDefault("false")
    boolean storeImages();

    /** Gallery size from which 1:N search goes through the HNSW graph instead of an exact scan. */
    @WithDefault("20000")
    int hnswFrom();

    /** Most faces one request may ask for at once (max_faces), and most matches per face. */
    @WithDefault("100")
    int maxFaces();

    /** ONNX Runtime threads per run; 0: all cores. */
    @WithDefault("0")
    int intraOpThreads();

    /** auto (CUDA when it can be used, else CPU), cpu, or cuda (falls back to CPU with a warning). */
    @WithDefault("auto")
    String provider();

    @WithDefault("0")
    int cudaDevice();

    /** Where model files fetched from model-service are kept; default $BKG_HOME/cache/face. */
    Optional<Path> cacheDir();
}
