package dev.bkg.face.domain;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.bkg.modelfiles.ModelFileCache;
import dev.bkg.proto.model.v1.Model;
import dev.bkg.proto.model.v1.ModelServiceGrpc.ModelServiceBlockingStub;
import dev.bkg.proto.model.v1.ModelStatus;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.runtime.StartupEvent;

/**
 * The three graphs this service runs — BlazeFace front (128) and back (256), MobileFace — fetched
 * from model-service by catalog name and opened in ONNX Runtime on the chosen execution provider
 * (CUDA when it loads, else CPU). Loading runs in the background from the start and retries until
 * model-service has them; until then requests are refused as not ready and so is readiness.
 */
@ApplicationScoped
public class FaceModels {

    private static final Logger LOG = Logger.getLogger(FaceModels.class);

    private final FaceSettings settings;
    private final ModelFileCache files;
    private volatile BlazeFaceDetector front;
    private volatile BlazeFaceDetector back;
    private volatile FaceEmbedder embedder;
    private volatile String problem = "the face models are loading";
    private volatile String provider = "CPU";
    private volatile boolean closed;

    FaceModels(FaceSettings settings, @GrpcClient("model") ModelServiceBlockingStub models,
            @ConfigProperty(name = "bkg.home", defaultValue = ".bkg") Path home) {
        this.settings = settings;
        this.files = new ModelFileCache(models, settings.cacheDir().orElseGet(() -> home.resolve("cache").resolve("face")));
    }

    void start(@Observes StartupEvent started) {
        RetriedStart.begin("face-models-loader", "the face models are not loaded yet", this::load, p -> problem = p, () -> closed);
    }

    private void load() throws Exception {
        long started = System.nanoTime();
        if (front == null) {
            front = new BlazeFaceDetector("front", 0.15f, open(settings.frontModel()));
        }
        if (back == null) {
            back = new BlazeFaceDetector("back", 0, open(settings.backModel()));
        }
        if (embedder == null) {
            embedder = new FaceEmbedder(settings.embedderModel(), open(settings.embedderModel()));
        }
        LOG.infof("face models loaded (%s, %s, %s; %d-d embeddings) on %s in %d ms", settings.frontModel(), settings.backModel(),
                settings.embedderModel(), embedder.dimensions(), provider, (System.nanoTime() - started) / 1_000_000);
    }

    private OrtSession open(String modelName) throws Exception {
        Model model = files.find(modelName).orElseThrow(() -> new IllegalStateException("model-service has no model '"
                + modelName + "'"));
        if (model.getStatus() != ModelStatus.READY) {
            throw new IllegalStateException("model '" + modelName + "' is " + model.getStatus());
        }
        Path graph = files.file(model, ModelFileCache.entry(model, "model.onnx")
                .orElseThrow(() -> new IllegalStateException("model '" + modelName + "' has no model.onnx")));
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (settings.intraOpThreads() > 0) {
                options.setIntraOpNumThreads(settings.intraOpThreads());
            }
            options.setInterOpNumThreads(1);
            // idle ORT threads would spin between requests, taking cores the rest of the mesh needs
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            addCudaWhenWanted(options);
            return OrtEnvironment.getEnvironment().createSession(graph.toString(), options);
        }
    }

    private void addCudaWhenWanted(OrtSession.SessionOptions options) {
        String wanted = settings.provider().trim().toLowerCase(Locale.ROOT);
        if (wanted.equals("cpu")) {
            return;
        }
        try {
            options.addCUDA(settings.cudaDevice());
            provider = "CUDA";
        } catch (OrtException | UnsatisfiedLinkError e) {
            if (wanted.equals("cuda") && !"CPU (fallback)".equals(provider)) {
                LOG.warnf("CUDA cannot be used here (%s): running on CPU", e.getMessage());
            }
            provider = wanted.equals("cuda") ? "CPU (fallback)" : "CPU";
        }
    }

    /** Null when every model is loaded; else why not. */
    public String problem() {
        return problem;
    }

    public String provider() {
        return provider;
    }

    /** The detectors a name stands for: front, back, or auto (both); blank: the configured default. */
    public List<BlazeFaceDetector> detectors(String name) {
        String which = name == null || name.isBlank() ? settings.defaultDetector() : name.trim().toLowerCase(Locale.ROOT);
        List<BlazeFaceDetector> chosen = switch (which) {
            case "front" -> java.util.Collections.singletonList(front);
            case "back" -> java.util.Collections.singletonList(back);
            case "auto" -> java.util.Arrays.asList(back, front);
            default -> throw new Refusal(Refusal.Reason.INVALID, "detector must be auto (both), front (near faces, 128×128) or"
                    + " back (small faces, 256×256); was '" + name + "'");
        };
        if (chosen.contains(null)) {
            throw notReady();
        }
        return chosen;
    }

    public FaceEmbedder embedder() {
        FaceEmbedder loaded = embedder;
        if (loaded == null) {
            throw notReady();
        }
        return loaded;
    }

    private Refusal notReady() {
        return new Refusal(Refusal.Reason.NOT_READY, "face models are not loaded yet: " + problem);
    }

    @PreDestroy
    void close() throws OrtException {
        closed = true;
        for (AutoCloseable model : new AutoCloseable[] { front, back, embedder }) {
            try {
                if (model != null) {
                    model.close();
                }
            } catch (Exception e) {
                LOG.debug("closing a face model", e);
            }
        }
    }
}
