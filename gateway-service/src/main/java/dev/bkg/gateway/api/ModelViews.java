package dev.bkg.gateway.api;

import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.bkg.proto.model.v1.DownloadProgress;
import dev.bkg.proto.model.v1.Model;
import dev.bkg.proto.model.v1.ModelKind;
import dev.bkg.proto.model.v1.ModelStatus;
import dev.bkg.proto.model.v1.ValidationResult;

/** The JSON shapes of /api/models: kinds and states as lowercase words, times as ISO-8601. */
public final class ModelViews {

    private ModelViews() {
    }

    public record File(String name, long sizeBytes, String sha256) {
    }

    public record Tensor(String name, String elementType, List<Long> shape) {
    }

    /** What ONNX Runtime found in the graph; {@code status} is the model's status afterwards. */
    public record Validation(boolean ok, String status, String message, String graphFile, List<Tensor> inputs,
            List<Tensor> outputs, long durationMs, Instant validatedAt) {
        public static Validation of(ValidationResult v, String status) {
            return new Validation(v.getOk(), status, v.getMessage(), v.getGraphFile(),
                    v.getInputsList().stream().map(t -> new Tensor(t.getName(), t.getElementType(), t.getShapeList())).toList(),
                    v.getOutputsList().stream().map(t -> new Tensor(t.getName(), t.getElementType(), t.getShapeList())).toList(),
                    v.getDurationMs(), Instant.ofEpochMilli(v.getValidatedAtEpochMs()));
        }
    }

    public record ModelView(String id, String name, String kind, String format, List<File> files, long totalSizeBytes,
            String source, String status, String statusMessage, Map<String, String> properties, String jobId,
            Validation validation, Instant created, Instant updated) {
        public static ModelView of(Model m) {
            return new ModelView(m.getId(), m.getName(), ModelViews.kind(m.getKind()), m.getFormat(),
                    m.getFilesList().stream().map(f -> new File(f.getName(), f.getSizeBytes(), f.getSha256())).toList(),
                    m.getTotalSizeBytes(), m.getSource(), m.getStatus().name(),
                    m.getStatusMessage().isEmpty() ? null : m.getStatusMessage(), m.getPropertiesMap(),
                    m.getJobId().isEmpty() ? null : m.getJobId(),
                    m.hasValidation() ? Validation.of(m.getValidation(), m.getStatus().name()) : null,
                    Instant.ofEpochMilli(m.getCreatedEpochMs()),
                    Instant.ofEpochMilli(m.getUpdatedEpochMs()));
        }
    }

    public record Progress(String jobId, String modelId, String state, long bytesDone, Long bytesTotal,
            double rateBytesPerSecond, Long etaMs, String currentFile, int filesDone, int filesTotal, String message,
            Instant at) {
        public static Progress of(DownloadProgress p) {
            return new Progress(p.getJobId(), p.getModelId(), p.getState().name(), p.getBytesDone(),
                    p.getBytesTotal() < 0 ? null : p.getBytesTotal(), p.getRateBytesPerS(),
                    p.getEtaMs() < 0 ? null : p.getEtaMs(), p.getCurrentFile().isEmpty() ? null : p.getCurrentFile(),
                    p.getFilesDone(), p.getFilesTotal(), p.getMessage().isEmpty() ? null : p.getMessage(),
                    Instant.ofEpochMilli(p.getTimestampEpochMs()));
        }
    }

    /** "face-detector" for FACE_DETECTOR. */
    public static String kind(ModelKind kind) {
        return kind.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The kind a client named, or a 400 listing the kinds. */
    public static ModelKind kind(String text) {
        if (text != null) {
            for (ModelKind kind : ModelKind.values()) {
                if (kind != ModelKind.UNRECOGNIZED && kind != ModelKind.MODEL_KIND_UNSPECIFIED
                        && kind(kind).equals(text.trim().toLowerCase(Locale.ROOT))) {
                    return kind;
                }
            }
        }
        throw ProblemException.badRequest("kind must be one of embedding, llm, face-detector, face-embedder, generic");
    }

    public static ModelStatus status(String text) {
        try {
            return ModelStatus.valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw ProblemException.badRequest("status must be one of downloading, ready, invalid, failed, deleting");
        }
    }
}
