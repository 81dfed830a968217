package dev.bkg.face.domain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.jboss.logging.Logger;

/**
 * The enrolled faces' embeddings in memory for 1:N search. Below {@code hnswFrom} faces a query
 * scans them all (exact; ~1 ms at 10k on one core); from there on an HNSW graph (Lucene's, in
 * memory) answers, built in the background from a snapshot while the exact scan keeps serving, the
 * writes made meanwhile replayed into it before it takes over. Either way the similarities
 * reported are exact cosines from the stored vectors. It holds what the database holds: filled
 * from it at start, and every write reaches it after its transaction commits.
 */
public final class FaceIndex implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(FaceIndex.class);
    private static final String ID = "id";
    private static final String VECTOR = "vector";

    /** A face found by a search: its id, subject and cosine similarity. */
    public record Hit(String faceId, long subjectId, float similarity) {
    }

    /** Set by the first face added (the embedder's output size). */
    private int dimensions;
    private final int hnswFrom;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private float[] vectors = new float[0];
    private String[] ids = new String[0];
    private long[] subjects = new long[0];
    private int size;
    private final Map<String, Integer> slots = new HashMap<>();

    /** A write to replay into the graph being built: an added face, or a removed one (no vector). */
    private record Change(String faceId, float[] vector) {
    }

    /** Writes made while the graph is built are replayed in rounds outside the lock; the last few under it. */
    private static final int LAST_ROUND = 256;
    /** An HNSW search looks at this many faces at least: a wider beam, far better recall for little time. */
    private static final int GRAPH_BEAM = 256;

    /** The graph once built (null before); while it is being built, the writes to replay into it. */
    private Graph graph;
    private List<Change> journal;
    private volatile boolean building;

    public FaceIndex(int hnswFrom) {
        this.hnswFrom = hnswFrom;
    }

    public int size() {
        lock.readLock().lock();
        try {
            return size;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Whether searches go through the HNSW graph now. */
    public boolean usesGraph() {
        lock.readLock().lock();
        try {
            return graph != null;
        } finally {
            lock.readLock().unlock();
        }
    }

    public void add(String faceId, long subjectId, float[] vector) {
        boolean startGraph;
        lock.writeLock().lock();
        try {
            if (dimensions == 0) {
                dimensions = vector.length;
            }
            if (vector.length != dimensions) {
                throw new IllegalArgumentException("a " + vector.length + "-d vector in a " + dimensions + "-d index");
            }
            if (slots.containsKey(faceId)) {
                return;
            }
            if (size == ids.length) {
                int capacity = Math.max(64, ids.length * 2);
                vectors = Arrays.copyOf(vectors, capacity * dimensions);
                ids = Arrays.copyOf(ids, capacity);
                subjects = Arrays.copyOf(subjects, capacity);
            }
            System.arraycopy(vector, 0, vectors, size * dimensions, dimensions);
            ids[size] = faceId;
            subjects[size] = subjectId;
            slots.put(faceId, size);
            size++;
            if (graph != null) {
                graph.add(faceId, vector.clone());
            } else if (journal != null) {
                journal.add(new Change(faceId, vector.clone()));
            }
            startGraph = graph == null && !building && size >= hnswFrom;
            building |= startGraph;
        } finally {
            lock.writeLock().unlock();
        }
        if (startGraph) {
            Thread builder = new Thread(this::buildGraph, "face-index-hnsw");
            builder.setDaemon(true);
            builder.start();
        }
    }

    public void remove(String faceId) {
        lock.writeLock().lock();
        try {
            Integer slot = slots.remove(faceId);
            if (slot == null) {
                return;
            }
            int last = size - 1;
            if (slot != last) { // the last face moves into the hole
                System.arraycopy(vectors, last * dimensions, vectors, slot * dimensions, dimensions);
                ids[slot] = ids[last];
                subjects[slot] = subjects[last];
                slots.put(ids[slot], slot);
            }
            ids[last] = null;
            size--;
            if (graph != null) {
                graph.remove(faceId);
            } else if (journal != null) {
                journal.add(new Change(faceId, null));
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Removes every face of a subject. */
    public void removeSubject(long subjectId) {
        List<String> gone = new ArrayList<>();
        lock.readLock().lock();
        try {
            for (int i = 0; i < size; i++) {
                if (subjects[i] == subjectId) {
                    gone.add(ids[i]);
                }
            }
        } finally {
            lock.readLock().unlock();
        }
        gone.forEach(this::remove);
    }

    /**
     * The {@code subjectsWanted} subjects most like {@code query} (normalised), each with its best
     * face's similarity, best first. The search looks at a few faces per wanted subject, so a subject
     * with many near-identical faces cannot crowd the others out.
     */
    public List<Hit> bestSubjects(float[] query, int subjectsWanted) {
        int facesWanted = subjectsWanted * 5 + 16;
        lock.readLock().lock();
        try {
            if (size == 0 || query.length != dimensions) {
                return List.of();
            }
            List<Hit> faces = graph != null ? graph.search(query, Math.max(facesWanted, GRAPH_BEAM)) : scan(query, facesWanted);
            Map<Long, Hit> bySubject = new LinkedHashMap<>();
            faces.stream().sorted((a, b) -> Float.compare(b.similarity(), a.similarity()))
                    .forEach(hit -> bySubject.putIfAbsent(hit.subjectId(), hit));
            return bySubject.values().stream().limit(subjectsWanted).toList();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Exact: every stored vector's dot product (the cosine, all being normalised), the best kept in a heap. */
    private List<Hit> scan(float[] query, int wanted) {
        PriorityQueue<Hit> best = new PriorityQueue<>((a, b) -> Float.compare(a.similarity(), b.similarity()));
        for (int i = 0; i < size; i++) {
            float similarity = dot(query, vectors, i * dimensions);
            if (best.size() < wanted) {
                best.add(new Hit(ids[i], subjects[i], similarity));
            } else if (similarity > best.peek().similarity()) {
                best.poll();
                best.add(new Hit(ids[i], subjects[i], similarity));
            }
        }
        return new ArrayList<>(best);
    }

    private Hit exact(String faceId, float[] query) {
        Integer slot = slots.get(faceId);
        return slot == null ? null : new Hit(faceId, subjects[slot], dot(query, vectors, slot * dimensions));
    }

    static float dot(float[] query, float[] all, int offset) {
        // four running sums: independent additions the CPU can overlap
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        int n = query.length;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += query[i] * all[offset + i];
            s1 += query[i + 1] * all[offset + i + 1];
            s2 += query[i + 2] * all[offset + i + 2];
            s3 += query[i + 3] * all[offset + i + 3];
        }
        for (; i < n; i++) {
            s0 += query[i] * all[offset + i];
        }
        return s0 + s1 + s2 + s3;
    }

    private void buildGraph() {
        long started = System.nanoTime();
        String[] snapshotIds;
        float[] snapshotVectors;
        int count;
        lock.writeLock().lock();
        try {
            count = size;
            snapshotIds = Arrays.copyOf(ids, count);
            snapshotVectors = Arrays.copyOf(vectors, count * dimensions);
            journal = new ArrayList<>();
        } finally {
            lock.writeLock().unlock();
        }
        Graph built = new Graph();
        try {
            for (int i = 0; i < count; i++) {
                built.add(snapshotIds[i], Arrays.copyOfRange(snapshotVectors, i * dimensions, (i + 1) * dimensions));
            }
            // the writes made meanwhile, in rounds without the lock (a start adds most of the gallery
            // after the build began), until few are left to replay under it
            while (true) {
                List<Change> round;
                lock.writeLock().lock();
                try {
                    if (journal.size() <= LAST_ROUND) {
                        journal.forEach(built::apply);
                        graph = built;
                        journal = null;
                        building = false;
                        break;
                    }
                    round = journal;
                    journal = new ArrayList<>();
                } finally {
                    lock.writeLock().unlock();
                }
                round.forEach(built::apply);
            }
        } catch (RuntimeException e) {
            LOG.error("the face index's HNSW graph could not be built; searches stay exact", e);
            lock.writeLock().lock();
            try {
                journal = null;
                building = false;
            } finally {
                lock.writeLock().unlock();
            }
            built.close();
            return;
        }
        LOG.infof("face index: HNSW graph over %d faces built in %d ms; searches use it from now on", size(),
                (System.nanoTime() - started) / 1_000_000);
    }

    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (graph != null) {
                graph.close();
                graph = null;
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Lucene's HNSW over the vectors (dot product), in memory; writes visible to the next search. */
    private final class Graph {

        final IndexWriter writer;
        final SearcherManager searchers;

        Graph() {
            try {
                writer = new IndexWriter(new ByteBuffersDirectory(), new IndexWriterConfig().setRAMBufferSizeMB(256));
                searchers = new SearcherManager(writer, null);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        void add(String faceId, float[] vector) {
            Document document = new Document();
            document.add(new StringField(ID, faceId, Field.Store.YES));
            document.add(new KnnFloatVectorField(VECTOR, vector, VectorSimilarityFunction.DOT_PRODUCT));
            try {
                writer.addDocument(document);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        void apply(Change change) {
            if (change.vector() == null) {
                remove(change.faceId());
            } else {
                add(change.faceId(), change.vector());
            }
        }

        void remove(String faceId) {
            try {
                writer.deleteDocuments(new Term(ID, faceId));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** Approximate nearest faces, their similarities recomputed exactly from the stored vectors. */
        List<Hit> search(float[] query, int wanted) {
            try {
                searchers.maybeRefreshBlocking();
                IndexSearcher searcher = searchers.acquire();
                try {
                    ScoreDoc[] found = searcher.search(new KnnFloatVectorQuery(VECTOR, query, wanted), wanted).scoreDocs;
                    StoredFields stored = searcher.storedFields();
                    List<Hit> hits = new ArrayList<>(found.length);
                    for (ScoreDoc doc : found) {
                        Hit hit = exact(stored.document(doc.doc).get(ID), query);
                        if (hit != null) {
                            hits.add(hit);
                        }
                    }
                    return hits;
                } finally {
                    searchers.release(searcher);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        void close() {
            try {
                searchers.close();
                writer.close();
            } catch (IOException e) {
                LOG.debug("closing the face graph", e);
            }
        }
    }
}
