package dev.bkg.model.domain;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.jboss.logging.Logger;

import dev.bkg.proto.model.v1.ModelKind;
import dev.bkg.proto.model.v1.ModelStatus;
import io.quarkus.runtime.StartupEvent;

/**
 * The models of this service: starting downloads into the catalog, deleting, and at start the
 * reconciliation of catalog and disk (a READY model whose files are missing becomes FAILED with
 * the reason, folders nobody owns are reported, downloads cut off by a restart resume).
 */
@ApplicationScoped
public class Models {

    private static final Logger LOG = Logger.getLogger(Models.class);
    static final int MAX_FILES = 64;
    static final int MAX_NAME = 200;

    private final ModelCatalog catalog;
    private final ModelDirectory directory;
    private final Downloads downloads;
    private final ModelSettings settings;
    private final BuiltinModels builtins;
    private final ModelValidator validator;
    private final java.util.concurrent.CountDownLatch booted = new java.util.concurrent.CountDownLatch(1);

    Models(ModelCatalog catalog, ModelDirectory directory, Downloads downloads, ModelSettings settings,
            BuiltinModels builtins, ModelValidator validator) {
        this.catalog = catalog;
        this.directory = directory;
        this.downloads = downloads;
        this.settings = settings;
        this.builtins = builtins;
        this.validator = validator;
    }

    /** Off the event loop: the catalog may take a moment (or the database may still be coming). */
    void boot(@Observes StartupEvent event) {
        CompletableFuture.runAsync(() -> {
            for (int attempt = 1;; attempt++) {
                try {
                    reconcile();
                    builtins.ensure();
                    booted.countDown();
                    return;
                } catch (RuntimeException e) {
                    LOG.warnf("reconciling the catalog with %s failed (attempt %d, retrying): %s", directory.root(), attempt,
                            e.getMessage());
                    sleep(Math.min(10_000, 500L * attempt));
                }
            }
        });
    }

    /** True once the catalog was reconciled and the built-ins installed (readiness). */
    public boolean booted() {
        return booted.getCount() == 0;
    }

    void reconcile() {
        Set<String> known = new HashSet<>();
        for (ModelRecord model : catalog.all()) {
            known.add(model.id);
            if (ModelStatus.READY.name().equals(model.status) || ModelStatus.INVALID.name().equals(model.status)) {
                List<String> missing = new ArrayList<>();
                for (ModelDirectory.StoredFile file : ModelDirectory.files(model.files)) {
                    var path = directory.file(model.id, file.name());
                    try {
                        if (!Files.isRegularFile(path) || Files.size(path) != file.sizeBytes()) {
                            missing.add(file.name());
                        }
                    } catch (IOException e) {
                        missing.add(file.name());
                    }
                }
                if (!missing.isEmpty()) {
                    LOG.warnf("model %s (%s): files missing or changed on disk: %s", model.id, model.name, missing);
                    catalog.update(model.id, r -> {
                        r.status = ModelStatus.FAILED.name();
                        r.statusMessage = "files missing or changed on disk: " + String.join(", ", missing);
                    });
                }
            } else if (ModelStatus.DOWNLOADING.name().equals(model.status) && model.sources != null) {
                LOG.infof("resuming the download of model %s (%s)", model.id, model.name);
                downloads.start(model);
            }
        }
        Set<String> resuming = new HashSet<>();
        catalog.all().stream().filter(m -> ModelStatus.DOWNLOADING.name().equals(m.status)).forEach(m -> resuming.add(m.id));
        for (String staged : directory.stagedDownloads()) {
            if (!resuming.contains(staged)) {
                LOG.infof("removing the staged files of %s: no download of it can resume", staged);
                directory.removeStaging(staged);
            }
        }
        try {
            for (String folder : directory.folders()) {
                if (!known.contains(folder)) {
                    LOG.warnf("%s holds a folder no catalogued model owns: %s (left as is)", directory.root(), folder);
                }
            }
        } catch (IOException e) {
            LOG.warnf("cannot list %s: %s", directory.root(), e.getMessage());
        }
    }

    public record DownloadRequest(String name, ModelKind kind, String format, List<DownloadJob.Source> files,
            long maxBytes, String source) {
    }

    public record Started(DownloadJob job, boolean joined) {
    }

    /**
     * Starts the download of a new model, or joins the running one of the same name; a FAILED model
     * of that name is downloaded again. IllegalArgumentException: a bad request; IllegalStateException:
     * a model of that name is already there.
     */
    public synchronized Started download(DownloadRequest request) {
        String name = request.name() == null ? "" : request.name().trim();
        if (name.isEmpty() || name.length() > MAX_NAME || name.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException("name must have 1 to " + MAX_NAME + " characters, no control characters");
        }
        if (request.files().isEmpty() || request.files().size() > MAX_FILES) {
            throw new IllegalArgumentException("a download needs 1 to " + MAX_FILES + " files");
        }
        Set<String> names = new HashSet<>();
        for (DownloadJob.Source file : request.files()) {
            ModelFiles.checkName(file.name());
            if (!names.add(file.name())) {
                throw new IllegalArgumentException("file " + file.name() + " is listed twice");
            }
            if (file.sha256() != null && !file.sha256().isEmpty() && !file.sha256().matches("[0-9a-fA-F]{64}")) {
                throw new IllegalArgumentException("sha256 of " + file.name() + " must be 64 hex digits");
            }
            java.net.URI uri;
            try {
                uri = java.net.URI.create(file.url());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the URL of " + file.name() + " is not a valid URL");
            }
            downloads.guard().check(uri); // refuses private addresses at once (SSRF)
        }
        long cap = settings.download().maxBytes();
        long maxBytes = request.maxBytes() > 0 ? Math.min(request.maxBytes(), cap) : cap;
        String plan = Downloads.planJson(request.files(), maxBytes);
        var existing = catalog.findByName(name);
        if (existing.isPresent()) {
            ModelRecord model = existing.get();
            var running = downloads.running(model.id);
            if (running.isPresent()) {
                return new Started(running.get(), true);
            }
            if (!ModelStatus.FAILED.name().equals(model.status)) {
                throw new IllegalStateException("model '" + name + "' already exists (" + model.id + ", " + model.status + ")");
            }
            catalog.update(model.id, r -> {
                r.sources = plan;
                r.source = request.source();
                r.kind = request.kind().name();
            });
            return new Started(downloads.start(catalog.find(model.id).orElseThrow()), false);
        }
        ModelRecord model = new ModelRecord();
        model.id = "m_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        model.name = name;
        model.kind = request.kind().name();
        model.format = request.format() == null || request.format().isEmpty() ? "onnx"
                : request.format().toLowerCase(Locale.ROOT);
        model.source = request.source();
        model.status = ModelStatus.DOWNLOADING.name();
        model.sources = plan;
        catalog.insert(model);
        return new Started(downloads.start(model), false);
    }

    /** Deletes a model and its files. IllegalStateException while its download runs, unless forced. */
    public long delete(String id, boolean force) throws IOException {
        ModelRecord model = catalog.find(id).orElseThrow(() -> new NoSuchElementException("no model '" + id + "'"));
        var running = downloads.running(id);
        if (running.isPresent() && !running.get().finished()) {
            if (!force) {
                throw new IllegalStateException("model " + id + " is downloading; cancel it or delete with force");
            }
            downloads.cancel(running.get());
            long deadline = System.currentTimeMillis() + 10_000;
            while (!running.get().finished() && System.currentTimeMillis() < deadline) {
                sleep(50);
            }
        }
        catalog.update(id, r -> r.status = ModelStatus.DELETING.name());
        long freed = directory.delete(model.id);
        catalog.delete(id);
        LOG.infof("deleted model %s (%s), %d bytes freed at %s", id, model.name, freed, Instant.now());
        return freed;
    }

    /** Validates a model in ONNX Runtime and stores the result: READY when it fits its kind, else INVALID. */
    public ModelValidator.Result validate(String id, boolean runInference) throws IOException {
        ModelRecord model = catalog.find(id).orElseThrow(() -> new NoSuchElementException("no model '" + id + "'"));
        if (!ModelStatus.READY.name().equals(model.status) && !ModelStatus.INVALID.name().equals(model.status)) {
            throw new IllegalStateException("model " + id + " is " + model.status + "; only a complete model can be validated");
        }
        List<String> names = ModelDirectory.files(model.files).stream().map(ModelDirectory.StoredFile::name).toList();
        ModelValidator.Result result = validator.validate(directory.model(id), names, ModelKind.valueOf(model.kind),
                runInference);
        String json = Downloads.JSON.writeValueAsString(result);
        catalog.update(id, r -> {
            r.validation = json;
            r.status = result.ok() ? ModelStatus.READY.name() : ModelStatus.INVALID.name();
            r.statusMessage = result.ok() ? "" : result.message();
        });
        return result;
    }

    /**
     * Converts a TF.js graph model (its model.json and weight shards, inline or the files of a
     * catalogued model) into a new ONNX model, stored and validated. IllegalArgumentException names
     * what cannot be converted.
     */
    public ModelRecord importTfjs(String name, ModelKind kind, Map<String, byte[]> inline, String sourceModelId)
            throws IOException {
        String trimmed = newName(name);
        Map<String, byte[]> files = new java.util.HashMap<>(inline);
        String source = "import:inline";
        if (sourceModelId != null && !sourceModelId.isEmpty()) {
            ModelRecord from = catalog.find(sourceModelId)
                    .orElseThrow(() -> new NoSuchElementException("no model '" + sourceModelId + "'"));
            long total = 0;
            for (ModelDirectory.StoredFile file : ModelDirectory.files(from.files)) {
                total += file.sizeBytes();
                if (total > MAX_IMPORT_BYTES) {
                    throw new IllegalArgumentException("the files to import exceed " + MAX_IMPORT_BYTES + " bytes");
                }
                files.put(file.name().substring(file.name().lastIndexOf('/') + 1),
                        Files.readAllBytes(directory.file(from.id, file.name())));
            }
            source = "import:" + from.id;
        }
        byte[] modelJson = files.get("model.json");
        if (modelJson == null) {
            modelJson = files.entrySet().stream().filter(e -> e.getKey().endsWith(".json")).map(Map.Entry::getValue)
                    .findFirst().orElseThrow(() -> new IllegalArgumentException("no model.json among the files"));
        }
        if (modelJson.length > MAX_MODEL_JSON_BYTES) {
            throw new IllegalArgumentException("model.json has " + modelJson.length + " bytes; at most " + MAX_MODEL_JSON_BYTES
                    + " are read (the weights belong in the .bin shards)");
        }
        com.fasterxml.jackson.databind.JsonNode json;
        try {
            json = MODEL_JSON.readTree(modelJson);
        } catch (com.fasterxml.jackson.core.exc.StreamConstraintsException e) {
            throw new IllegalArgumentException("model.json is nested deeper than " + MAX_MODEL_JSON_DEPTH + " levels");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("model.json is not valid JSON: " + e.getOriginalMessage());
        }
        var converted = dev.bkg.model.importer.TfjsConverter.convert(json, files);
        String id = "m_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        ModelDirectory.StoredFile stored = directory.stage(id, "model.onnx", new java.io.ByteArrayInputStream(converted.onnx()));
        directory.commit(id, directory.staging(id));
        ModelValidator.Result validation = validator.validate(directory.model(id), List.of("model.onnx"), kind, true);
        ModelRecord model = new ModelRecord();
        model.id = id;
        model.name = trimmed;
        model.kind = kind.name();
        model.format = "onnx";
        model.source = source;
        model.files = ModelDirectory.filesJson(List.of(stored));
        model.totalSizeBytes = stored.sizeBytes();
        model.status = validation.ok() ? ModelStatus.READY.name() : ModelStatus.INVALID.name();
        model.statusMessage = validation.ok() ? "" : validation.message();
        model.validation = Downloads.JSON.writeValueAsString(validation);
        model.properties = Downloads.JSON.writeValueAsString(Map.of("converted_from", "tfjs",
                "tfjs_ops", String.join(",", converted.ops())));
        catalog.insert(model);
        LOG.infof("imported TF.js model %s as %s (%d bytes, ops %s)", trimmed, id, stored.sizeBytes(), converted.ops());
        return model;
    }

    /** A name for a new model: 1 to 200 characters, no control characters, not taken. */
    private String newName(String name) {
        String trimmed = name == null ? "" : name.trim();
        if (trimmed.isEmpty() || trimmed.length() > MAX_NAME || trimmed.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException("name must have 1 to " + MAX_NAME + " characters, no control characters");
        }
        if (catalog.findByName(trimmed).isPresent()) {
            throw new IllegalStateException("model '" + trimmed + "' already exists");
        }
        return trimmed;
    }

    public record Quantized(ModelRecord model, long sizeBefore, long sizeAfter, int weights, Set<String> ops, long durationMs) {
    }

    /**
     * A new model (source "quantize:<id>") whose graph has int8 weights ({@link dev.bkg.model.importer.Int8Quantizer}),
     * the source's other files (tokenizer, config) copied beside it, same kind, validated with one inference.
     */
    public Quantized quantize(String idOrName, String name) throws IOException {
        ModelRecord from = catalog.find(idOrName).or(() -> catalog.findByName(idOrName))
                .orElseThrow(() -> new NoSuchElementException("no model '" + idOrName + "'"));
        if (!ModelStatus.READY.name().equals(from.status) || !"onnx".equals(from.format)) {
            throw new IllegalStateException("model " + from.name + " is " + from.status + " (" + from.format
                    + "); only a READY ONNX model can be quantised");
        }
        String trimmed = newName(name == null || name.isBlank() ? from.name + "-int8" : name);
        List<ModelDirectory.StoredFile> sourceFiles = ModelDirectory.files(from.files);
        String graph = ModelValidator.graphFile(sourceFiles.stream().map(ModelDirectory.StoredFile::name).toList());
        if (graph == null) {
            throw new IllegalArgumentException("model " + from.name + " has no .onnx graph");
        }
        long sizeBefore = Files.size(directory.file(from.id, graph));
        if (sizeBefore > MAX_IMPORT_BYTES) {
            throw new IllegalArgumentException("the graph has " + sizeBefore + " bytes; at most " + MAX_IMPORT_BYTES + " are quantised");
        }
        long started = System.nanoTime();
        var result = dev.bkg.model.importer.Int8Quantizer.quantize(Files.readAllBytes(directory.file(from.id, graph)));
        long durationMs = (System.nanoTime() - started) / 1_000_000;
        String id = "m_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        List<ModelDirectory.StoredFile> stored = new ArrayList<>();
        try {
            stored.add(directory.stage(id, graph, new java.io.ByteArrayInputStream(result.onnx())));
            for (ModelDirectory.StoredFile file : sourceFiles) {
                if (!file.name().equals(graph)) {
                    try (var in = Files.newInputStream(directory.file(from.id, file.name()))) {
                        stored.add(directory.stage(id, file.name(), in));
                    }
                }
            }
            directory.commit(id, directory.staging(id));
        } catch (IOException | RuntimeException e) {
            directory.removeStaging(id);
            throw e;
        }
        ModelValidator.Result validation = validator.validate(directory.model(id),
                stored.stream().map(ModelDirectory.StoredFile::name).toList(), ModelKind.valueOf(from.kind), true);
        Map<String, String> properties = new java.util.HashMap<>(Downloads.JSON.readValue(from.properties,
                new com.fasterxml.jackson.core.type.TypeReference<Map<String, String>>() {
                }));
        properties.put("quantized_from", from.id);
        properties.put("quantization", "dynamic int8, weights symmetric per channel (" + String.join(", ", result.ops()) + ")");
        ModelRecord model = new ModelRecord();
        model.id = id;
        model.name = trimmed;
        model.kind = from.kind;
        model.format = "onnx";
        model.source = "quantize:" + from.id;
        model.files = ModelDirectory.filesJson(stored);
        model.totalSizeBytes = stored.stream().mapToLong(ModelDirectory.StoredFile::sizeBytes).sum();
        model.status = validation.ok() ? ModelStatus.READY.name() : ModelStatus.INVALID.name();
        model.statusMessage = validation.ok() ? "" : validation.message();
        model.validation = Downloads.JSON.writeValueAsString(validation);
        model.properties = Downloads.JSON.writeValueAsString(properties);
        catalog.insert(model);
        LOG.infof("quantised %s into %s (%s): graph %d -> %d bytes, %d weights in %d ms", from.name, trimmed, id, sizeBefore,
                result.onnx().length, result.quantizedWeights(), durationMs);
        return new Quantized(model, sizeBefore, result.onnx().length, result.quantizedWeights(), result.ops(), durationMs);
    }

    static final long MAX_IMPORT_BYTES = 2L * 1024 * 1024 * 1024 - 64;
    /** A TF.js model.json is the graph only (MobileFace's: 33 KB); this bounds a JSON bomb. */
    static final int MAX_MODEL_JSON_BYTES = 8 * 1024 * 1024;
    static final int MAX_MODEL_JSON_DEPTH = 64;
    private static final com.fasterxml.jackson.databind.ObjectMapper MODEL_JSON = new com.fasterxml.jackson.databind.ObjectMapper(
            com.fasterxml.jackson.core.JsonFactory.builder().streamReadConstraints(com.fasterxml.jackson.core.StreamReadConstraints
                    .builder().maxNestingDepth(MAX_MODEL_JSON_DEPTH).build()).build());

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
