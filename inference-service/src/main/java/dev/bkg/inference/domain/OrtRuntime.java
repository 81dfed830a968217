package dev.bkg.inference.domain;

import java.nio.file.Path;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.bkg.proto.inference.v1.ExecutionProvider;

/**
 * The one ONNX Runtime environment of this process and the execution provider chosen at start:
 * CUDA when configured (or auto) and its libraries load, else CPU — said once in the log, and
 * visible in status and telemetry through {@link #provider()}.
 */
@ApplicationScoped
public class OrtRuntime {

    private static final Logger LOG = Logger.getLogger(OrtRuntime.class);

    private final OrtEnvironment environment = OrtEnvironment.getEnvironment();
    private final InferenceSettings settings;
    private final ExecutionProvider provider;

    OrtRuntime(InferenceSettings settings) {
        this.settings = settings;
        this.provider = choose();
    }

    private ExecutionProvider choose() {
        String wanted = settings.provider().trim().toLowerCase(java.util.Locale.ROOT);
        switch (wanted) {
            case "cpu" -> {
                LOG.info("execution provider: CPU (configured)");
                return ExecutionProvider.CPU;
            }
            case "auto", "cuda" -> {
                try (OrtSession.SessionOptions probe = new OrtSession.SessionOptions()) {
                    probe.addCUDA(settings.cudaDevice());
                    LOG.infof("execution provider: CUDA on device %d", settings.cudaDevice());
                    return ExecutionProvider.CUDA;
                } catch (OrtException | UnsatisfiedLinkError e) {
                    String line = "execution provider: CPU — CUDA cannot be used here (" + e.getMessage()
                            + "); build with -Pcuda and install CUDA 12 + cuDNN 9 for the GPU";
                    if (wanted.equals("cuda")) {
                        LOG.warn(line);
                    } else {
                        LOG.info(line);
                    }
                    return ExecutionProvider.CPU;
                }
            }
            default -> throw new IllegalArgumentException("bkg.inference.provider must be auto, cpu or cuda; was " + wanted);
        }
    }

    public ExecutionProvider provider() {
        return provider;
    }

    public OrtEnvironment environment() {
        return environment;
    }

    /** Embedding batches run at once: as configured, else one per core on CPU and one on CUDA. */
    public int embeddingWorkers() {
        int configured = settings.embedding().workers();
        if (configured > 0) {
            return configured;
        }
        return provider == ExecutionProvider.CUDA ? 1 : Runtime.getRuntime().availableProcessors();
    }

    /** ONNX Runtime's threads for one run: as configured, else the cores shared out among the workers. */
    int intraOpThreads() {
        if (settings.intraOpThreads() > 0) {
            return settings.intraOpThreads();
        }
        return Math.max(1, Runtime.getRuntime().availableProcessors() / embeddingWorkers());
    }

    /** A session on the chosen provider with the configured threads; its options are released at once. */
    public OrtSession open(Path graph) throws OrtException {
        return open(graph, intraOpThreads());
    }

    /** A session whose runs use the given number of threads (a chat model's runs are one at a time: every core). */
    public OrtSession open(Path graph, int threads) throws OrtException {
        return open(graph, threads, provider);
    }

    /** A session on the given provider: CPU always, CUDA only when this process can use it (else CPU). */
    public OrtSession open(Path graph, int threads, ExecutionProvider wanted) throws OrtException {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            options.setIntraOpNumThreads(threads);
            // runs side by side on ever-changing shapes would grow ORT's arena in power-of-two steps
            // and keep it; malloc gives the memory back (no slower here: bench/EmbeddingsBench)
            options.setCPUArenaAllocator(false);
            options.setInterOpNumThreads(1);
            // idle ORT threads would spin between batches, taking the cores the gateway and the
            // rest of the mesh need on a small box; they sleep instead
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            if (provider == ExecutionProvider.CUDA && wanted != ExecutionProvider.CPU) {
                options.addCUDA(settings.cudaDevice());
            }
            return environment.createSession(graph.toString(), options);
        }
    }
}
