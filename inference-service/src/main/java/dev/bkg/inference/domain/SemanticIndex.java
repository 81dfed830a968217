package dev.bkg.inference.domain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.bkg.proto.inference.v1.IndexState;

/**
 * brainml: named collections of documents embedded with one model each, kept in PostgreSQL and
 * searched through an in-memory Lucene HNSW index per collection that is rebuilt from the
 * database at start and by Train. Train also fits a nearest-centroid classifier over the
 * documents' labels, so a query predicts a label. Writes go to both at once (a query sees them);
 * until the next Train the collection is STALE: its classifier and graph predate the last writes.
 * Blocking: call from worker threads.
 */
@ApplicationScoped
public class SemanticIndex {

    private static final Logger LOG = Logger.getLogger(SemanticIndex.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
    private static final Pattern METADATA_KEY = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
    static final int MAX_TOP_K = 1000;
    static final int MAX_METADATA = 32;
    static final int MAX_VALUE = 256;
    private static final int PAGE = 2000;
    /** Softmax temperature over centroid cosines: 0.05 separates a 0.1 cosine gap clearly. */
    private static final double TEMPERATURE = 0.05;

    /** A document as written: id, text, metadata, optional label. */
    public record Doc(String id, String text, Map<String, String> metadata, String label) {
    }

    public record Hit(String id, float score, String text, Map<String, String> metadata, String label) {
    }

    public record QueryResult(List<Hit> hits, String predictedLabel, float confidence, long micros) {
    }

    public record Stats(String collection, long documents, int dimensions, IndexState state, long memoryBytes,
            Map<String, Long> classes, long deleted, String embeddingModel, long lastTrainedEpochMs, long createdEpochMs) {
    }

    /** A collection as it lives in memory. */
    private static final class Live {
        volatile CollectionRecord record;
        /** Null until a start has opened or rebuilt it. */
        volatile VectorIndex index;
        volatile Map<String, float[]> centroids = Map.of();
        volatile Map<String, Long> classes = Map.of();
        volatile IndexState state = IndexState.EMPTY;
        volatile long documents;
        /** Its index is being rebuilt from the database after a start: only stats answer. */
        volatile boolean loading;
    }

    private final IndexStore store;
    private final Embeddings embeddings;
    private final int maxInputs;
    private final Path indexRoot;
    private final Map<String, Live> live = new ConcurrentHashMap<>();
    private volatile String notReady = "the collections are not loaded yet";

    SemanticIndex(IndexStore store, Embeddings embeddings, InferenceSettings settings,
            @ConfigProperty(name = "bkg.home", defaultValue = ".bkg") Path home) {
        this.store = store;
        this.embeddings = embeddings;
        this.maxInputs = settings.embedding().maxInputs();
        this.indexRoot = settings.indexDir().orElseGet(() -> home.resolve("index")).toAbsolutePath();
    }

    /**
     * Reads the collections from the database (retrying until it answers) and serves from then on.
     * Each collection then opens its index from disk when the index's last commit matches the
     * database (same collection, same version), else rebuilds it from the database (a large one takes
     * minutes, longer than a plugin's start timeout); a collection still loading answers NOT_READY.
     */
    public void loadAll() {
        List<Live> loading = new ArrayList<>();
        for (int attempt = 1;; attempt++) {
            try {
                for (CollectionRecord record : store.collections()) {
                    Live collection = new Live();
                    collection.record = record;
                    collection.state = IndexState.BUILDING;
                    collection.loading = true;
                    Live replaced = live.put(record.name, collection);
                    if (replaced != null && replaced.index != null) {
                        replaced.index.close();
                    }
                    loading.add(collection);
                }
                break;
            } catch (RuntimeException e) {
                notReady = "reading the collections failed: " + e.getMessage();
                LOG.warnf("semantic index: %s (attempt %d); retrying", notReady, attempt);
                sleep(Math.min(10_000, 1000L * attempt));
            }
        }
        notReady = null;
        removeFoldersOfDroppedCollections();
        for (Live collection : loading) {
            synchronized (collection) {
                for (int attempt = 1; collection.loading; attempt++) {
                    try {
                        if (!openFromDisk(collection)) {
                            rebuild(collection);
                        }
                        collection.loading = false;
                    } catch (RuntimeException e) {
                        LOG.warnf("collection %s: rebuilding its index failed (attempt %d): %s; retrying",
                                collection.record.name, attempt, e.getMessage());
                        sleep(Math.min(10_000, 1000L * attempt));
                    }
                }
            }
        }
        LOG.infof("semantic index: %d collections loaded", loading.size());
    }

    /** The folder of a collection's index: a new one per build, "<name>@<n>" ('@' is not allowed in names). */
    private Path newFolder(String name) {
        return indexRoot.resolve(name + "@" + System.nanoTime());
    }

    /** Every index folder under the root; "<name>@<n>" belongs to collection <name>. */
    private List<Path> indexFolders() {
        try (Stream<Path> all = Files.list(indexRoot)) {
            return all.toList();
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String collectionOf(Path folder) {
        String name = folder.getFileName().toString();
        int at = name.lastIndexOf('@');
        return at < 0 ? name : name.substring(0, at);
    }

    private List<Path> foldersOf(String collection) {
        return indexFolders().stream().filter(folder -> collectionOf(folder).equals(collection)).toList();
    }

    private void removeFoldersOfDroppedCollections() {
        indexFolders().stream().filter(folder -> !live.containsKey(collectionOf(folder))).forEach(VectorIndex::deleteFolder);
    }

    /** What an index's commit says it holds: this collection (by creation time) at this database version. */
    private static Map<String, String> tags(CollectionRecord record) {
        return Map.of("collection", record.name, "created", String.valueOf(record.createdAt.toEpochMilli()),
                "version", String.valueOf(record.version()));
    }

    /**
     * Opens the collection's index from disk when its last commit matches the database, refitting the
     * label centroids from the stored vectors (seconds, where building the graph takes minutes);
     * false when no folder matches (then every folder of the collection is removed).
     */
    private boolean openFromDisk(Live collection) {
        CollectionRecord record = collection.record;
        long started = System.nanoTime();
        Map<String, String> expected = tags(record);
        Path match = null;
        for (Path folder : foldersOf(record.name)) {
            if (match == null && VectorIndex.committedTags(folder).equals(expected)) {
                match = folder;
            } else {
                VectorIndex.deleteFolder(folder);
            }
        }
        if (match == null) {
            return false;
        }
        VectorIndex index = VectorIndex.open(match);
        CentroidFit fit = new CentroidFit();
        index.forEachVector(fit::add);
        install(collection, index, fit, index.size());
        LOG.infof("collection %s: index opened from disk with %d documents in %d ms (%d classes)", record.name,
                collection.documents, (System.nanoTime() - started) / 1_000_000, fit.counts().size());
        return true;
    }

    /** Why queries cannot be served yet; null once they can. */
    public String notReady() {
        return notReady;
    }

    public List<CollectionRecord> collections() {
        ready();
        return live.values().stream().map(l -> l.record).sorted(java.util.Comparator.comparing(r -> r.name)).toList();
    }

    public long documentCount(String collection) {
        return find(collection).documents;
    }

    public CollectionRecord create(String name, String embeddingModel) {
        ready();
        if (name == null || !NAME.matcher(name).matches()) {
            throw new Refusal(Refusal.Reason.INVALID, "a collection name has 1 to 64 letters, digits, '_', '.' or '-' and starts"
                    + " with a letter or digit");
        }
        Embeddings.ModelInfo model = embeddings.describe(embeddingModel);
        synchronized (live) {
            if (live.containsKey(name)) {
                throw new Refusal(Refusal.Reason.CONFLICT, "collection '" + name + "' already exists");
            }
            CollectionRecord record = new CollectionRecord();
            record.name = name;
            record.embeddingModel = model.name();
            record.dimensions = model.dimensions();
            Live collection = new Live();
            collection.record = store.create(record);
            collection.index = VectorIndex.create(newFolder(name));
            collection.index.commit(tags(collection.record));
            live.put(name, collection);
            return collection.record;
        }
    }

    public record Indexed(int indexed, int replaced, long millis) {
    }

    public Indexed index(String name, List<Doc> documents, boolean createMissing) {
        ready();
        long started = System.nanoTime();
        if (documents.isEmpty()) {
            throw new Refusal(Refusal.Reason.INVALID, "no documents");
        }
        if (documents.size() > maxInputs) {
            throw new Refusal(Refusal.Reason.TOO_LARGE, documents.size() + " documents; at most " + maxInputs + " in one request");
        }
        Map<String, Doc> unique = new LinkedHashMap<>(); // the last of a repeated id wins
        for (int i = 0; i < documents.size(); i++) {
            Doc doc = documents.get(i);
            check(doc, i);
            unique.put(doc.id(), doc);
        }
        Live collection = live.get(name);
        if (collection == null) {
            if (!createMissing) {
                throw new Refusal(Refusal.Reason.NOT_FOUND, "no collection '" + name + "'");
            }
            try {
                create(name, "");
            } catch (Refusal e) {
                if (e.reason != Refusal.Reason.CONFLICT) {
                    throw e;
                }
            }
            collection = get(name);
        }
        List<Doc> docs = List.copyOf(unique.values());
        List<float[]> vectors = embeddings.embed(collection.record.embeddingModel, docs.stream().map(Doc::text).toList(), true,
                true).join().vectors();
        List<DocumentRecord> rows = new ArrayList<>(docs.size());
        for (int i = 0; i < docs.size(); i++) {
            DocumentRecord row = new DocumentRecord();
            row.docId = docs.get(i).id();
            row.text = docs.get(i).text();
            row.metadata = json(docs.get(i).metadata());
            row.label = blankToNull(docs.get(i).label());
            row.vector = bytes(vectors.get(i));
            rows.add(row);
        }
        int replaced;
        synchronized (collection) {
            replaced = store.upsert(name, rows);
            for (int i = 0; i < docs.size(); i++) {
                Doc doc = docs.get(i);
                collection.index.put(doc.id(), vectors.get(i), doc.text(), blankToNull(doc.label()), doc.metadata(), rows.get(i).metadata);
            }
            collection.index.refresh();
            collection.record.indexVersion = collection.record.version() + 1; // as the upsert did in the database
            collection.index.commit(tags(collection.record));
            collection.documents += docs.size() - replaced;
            collection.state = IndexState.STALE;
        }
        return new Indexed(docs.size(), replaced, (System.nanoTime() - started) / 1_000_000);
    }

    private static void check(Doc doc, int i) {
        if (doc.id() == null || doc.id().isEmpty() || doc.id().length() > 256 || doc.id().chars().anyMatch(Character::isISOControl)) {
            throw new Refusal(Refusal.Reason.INVALID, "document " + i + ": an id has 1 to 256 characters, no control characters");
        }
        if (doc.text() == null || doc.text().isBlank()) {
            throw new Refusal(Refusal.Reason.INVALID, "document '" + doc.id() + "' has no text");
        }
        if (doc.metadata().size() > MAX_METADATA) {
            throw new Refusal(Refusal.Reason.TOO_LARGE, "document '" + doc.id() + "' has " + doc.metadata().size()
                    + " metadata entries; at most " + MAX_METADATA);
        }
        doc.metadata().forEach((key, value) -> {
            if (!METADATA_KEY.matcher(key).matches() || value == null || value.length() > MAX_VALUE) {
                throw new Refusal(Refusal.Reason.INVALID, "document '" + doc.id() + "': metadata keys are 1 to 64 letters, digits,"
                        + " '_', '.' or '-' and values at most " + MAX_VALUE + " characters");
            }
        });
        if (doc.label() != null && doc.label().length() > 200) {
            throw new Refusal(Refusal.Reason.INVALID, "document '" + doc.id() + "': a label has at most 200 characters");
        }
    }

    public long delete(String name, List<String> ids) {
        Live collection = get(name);
        synchronized (collection) {
            long deleted = store.delete(name, ids);
            collection.index.delete(ids);
            collection.index.refresh();
            collection.record.indexVersion = collection.record.version() + 1; // as the delete did in the database
            collection.index.commit(tags(collection.record));
            collection.documents -= deleted;
            if (deleted > 0) {
                collection.state = collection.documents == 0 ? IndexState.EMPTY : IndexState.STALE;
            }
            return deleted;
        }
    }

    public QueryResult query(String name, String text, int topK, Map<String, String> filter, float minScore) {
        long started = System.nanoTime();
        Live collection = get(name);
        if (text == null || text.isBlank()) {
            throw new Refusal(Refusal.Reason.INVALID, "no query text");
        }
        int k = topK <= 0 ? 10 : topK;
        if (k > MAX_TOP_K) {
            throw new Refusal(Refusal.Reason.INVALID, "top_k is at most " + MAX_TOP_K);
        }
        float[] vector = embeddings.embed(collection.record.embeddingModel, List.of(text), true, true).join().vectors().get(0);
        List<Hit> hits = collection.index.search(vector, k, filter, minScore).stream()
                .map(f -> new Hit(f.id(), f.score(), f.text(), metadata(f.metadataJson()), f.label() == null ? "" : f.label()))
                .toList();
        String predicted = "";
        float confidence = 0;
        Map<String, float[]> centroids = collection.centroids;
        if (!centroids.isEmpty()) {
            double best = Double.NEGATIVE_INFINITY;
            double sum = 0;
            Map<String, Double> cosines = new HashMap<>();
            for (Map.Entry<String, float[]> centroid : centroids.entrySet()) {
                double cosine = dot(vector, centroid.getValue());
                cosines.put(centroid.getKey(), cosine);
                if (cosine > best) {
                    best = cosine;
                    predicted = centroid.getKey();
                }
            }
            for (double cosine : cosines.values()) {
                sum += Math.exp((cosine - best) / TEMPERATURE);
            }
            confidence = (float) (1 / sum);
        }
        return new QueryResult(hits, predicted, confidence, (System.nanoTime() - started) / 1000);
    }

    /** Rebuilds the index from the database as one merged HNSW graph and refits the classifier. */
    public Stats train(String name) {
        Live collection = get(name);
        synchronized (collection) {
            collection.state = IndexState.BUILDING;
            try {
                rebuild(collection);
            } catch (RuntimeException e) {
                collection.state = IndexState.STALE;
                throw e;
            }
            store.update(name, r -> r.lastTrainedAt = Instant.now());
            collection.record.lastTrainedAt = Instant.now();
        }
        return stats(name);
    }

    /** Reads every document of the collection from the database into a fresh index; swaps it in. */
    private void rebuild(Live collection) {
        String name = collection.record.name;
        long started = System.nanoTime();
        VectorIndex fresh = VectorIndex.create(newFolder(name));
        CentroidFit fit = new CentroidFit();
        long documents = 0;
        try {
            long after = 0;
            List<DocumentRecord> page;
            do {
                page = store.page(name, after, PAGE);
                for (DocumentRecord row : page) {
                    float[] vector = floats(row.vector);
                    fresh.put(row.docId, vector, row.text, row.label, metadata(row.metadata), row.metadata);
                    fit.add(row.label, vector);
                    after = row.id;
                    documents++;
                }
            } while (page.size() == PAGE);
            fresh.optimize();
            fresh.commit(tags(collection.record));
        } catch (RuntimeException e) {
            fresh.delete();
            throw e;
        }
        VectorIndex old = collection.index;
        install(collection, fresh, fit, documents);
        if (old != null) {
            old.delete();
        }
        LOG.infof("collection %s: index built from %d documents in %d ms (%d classes)", name, documents,
                (System.nanoTime() - started) / 1_000_000, fit.counts().size());
    }

    private static void install(Live collection, VectorIndex index, CentroidFit fit, long documents) {
        collection.index = index;
        collection.centroids = fit.centroids();
        collection.classes = fit.counts();
        collection.documents = documents;
        collection.state = documents == 0 ? IndexState.EMPTY : IndexState.READY;
    }

    /** A nearest-centroid classifier fitted on the fly: the normalised mean vector of each label. */
    private static final class CentroidFit {
        private final Map<String, double[]> sums = new TreeMap<>();
        private final Map<String, Long> counts = new TreeMap<>();

        void add(String label, float[] vector) {
            if (label == null) {
                return;
            }
            double[] sum = sums.computeIfAbsent(label, l -> new double[vector.length]);
            for (int d = 0; d < vector.length; d++) {
                sum[d] += vector[d];
            }
            counts.merge(label, 1L, Long::sum);
        }

        Map<String, Long> counts() {
            return counts;
        }

        Map<String, float[]> centroids() {
            Map<String, float[]> centroids = new HashMap<>();
            sums.forEach((label, sum) -> {
                float[] centroid = new float[sum.length];
                for (int d = 0; d < sum.length; d++) {
                    centroid[d] = (float) sum[d];
                }
                EmbeddingModel.normalizeInPlace(centroid);
                centroids.put(label, centroid);
            });
            return centroids;
        }
    }

    public Stats stats(String name) {
        Live c = find(name); // also while loading: state BUILDING
        long trained = c.record.lastTrainedAt == null ? 0 : c.record.lastTrainedAt.toEpochMilli();
        long centroidBytes = c.centroids.values().stream().mapToLong(v -> 16L + 4L * v.length).sum();
        VectorIndex index = c.index;
        return new Stats(name, c.documents, c.record.dimensions, c.state, (index == null ? 0 : index.bytes()) + centroidBytes,
                c.classes, index == null ? 0 : index.deleted(), c.record.embeddingModel, trained, c.record.createdAt.toEpochMilli());
    }

    public long drop(String name) {
        Live collection = get(name);
        synchronized (collection) {
            long dropped = store.drop(name);
            live.remove(name);
            collection.index.delete();
            return dropped;
        }
    }

    public long compact(String name) {
        Live collection = get(name);
        synchronized (collection) {
            return collection.index.compact();
        }
    }

    /** Embeds every document again (with another model, if named) and rebuilds the index. */
    public Stats reindex(String name, String embeddingModel) {
        Live collection = get(name);
        synchronized (collection) {
            Embeddings.ModelInfo model = embeddings.describe(embeddingModel == null || embeddingModel.isBlank()
                    ? collection.record.embeddingModel : embeddingModel);
            long after = 0;
            List<DocumentRecord> page;
            do {
                page = store.page(name, after, 256);
                if (page.isEmpty()) {
                    break;
                }
                List<float[]> vectors = embeddings.embed(model.name(), page.stream().map(r -> r.text).toList(), true, true).join()
                        .vectors();
                Map<Long, byte[]> replaced = new HashMap<>();
                for (int i = 0; i < page.size(); i++) {
                    replaced.put(page.get(i).id, bytes(vectors.get(i)));
                }
                store.replaceVectors(name, replaced);
                collection.record.indexVersion = collection.record.version() + 1; // as replaceVectors did
                after = page.get(page.size() - 1).id;
            } while (page.size() == 256);
            store.update(name, r -> {
                r.embeddingModel = model.name();
                r.dimensions = model.dimensions();
            });
            collection.record.embeddingModel = model.name();
            collection.record.dimensions = model.dimensions();
        }
        return train(name);
    }

    /** A collection that can serve (Refusal NOT_READY while its index is rebuilt after a start). */
    private Live get(String name) {
        Live collection = find(name);
        if (collection.loading) {
            throw new Refusal(Refusal.Reason.NOT_READY, "collection '" + name + "' is rebuilding its index from the database"
                    + " after a start; retry shortly");
        }
        return collection;
    }

    private Live find(String name) {
        ready();
        Live collection = live.get(name == null ? "" : name);
        if (collection == null) {
            throw new Refusal(Refusal.Reason.NOT_FOUND, "no collection '" + name + "'");
        }
        return collection;
    }

    private void ready() {
        String problem = notReady;
        if (problem != null) {
            throw new Refusal(Refusal.Reason.NOT_READY, "the semantic index is not ready: " + problem);
        }
    }

    static byte[] bytes(float[] vector) {
        ByteBuffer buffer = ByteBuffer.allocate(vector.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buffer.asFloatBuffer().put(vector);
        return buffer.array();
    }

    static float[] floats(byte[] bytes) {
        float[] vector = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(vector);
        return vector;
    }

    private static double dot(float[] a, float[] b) {
        double sum = 0;
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }

    private static String json(Map<String, String> metadata) {
        try {
            return JSON.writeValueAsString(new TreeMap<>(metadata));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, String> metadata(String json) {
        try {
            return json == null ? Map.of() : JSON.readValue(json, new TypeReference<TreeMap<String, String>>() {
            });
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String blankToNull(String text) {
        return text == null || text.isBlank() ? null : text;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @PreDestroy
    void close() {
        live.values().stream().filter(l -> l.index != null).forEach(l -> l.index.close());
    }
}
