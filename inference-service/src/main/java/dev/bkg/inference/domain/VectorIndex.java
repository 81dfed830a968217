package dev.bkg.inference.domain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.stream.Stream;

import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.SegmentInfos;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.Bits;

/**
 * One collection's search index: Lucene's HNSW graph over L2-normalised vectors (dot product,
 * so a hit's score is its cosine), with each document's text, label and metadata stored beside it
 * and its metadata indexed for exact-match filters. Writes are visible to the next query. It lives
 * in its own folder on disk (memory-mapped), so a restart opens it instead of building the graph
 * again; {@link #commit} makes the writes so far durable, tagged with what they correspond to.
 */
final class VectorIndex implements AutoCloseable {

    static final String VECTOR = "vector";
    static final String ID = "id";
    private static final String TEXT = "text";
    private static final String LABEL = "label";
    private static final String METADATA = "metadata";
    private static final String FILTER_PREFIX = "m.";

    /** A stored document found by a query, its score a cosine similarity. */
    record Found(String id, float score, String text, String label, String metadataJson) {
    }

    private final Path folder;
    private final Directory directory;
    private final IndexWriter writer;
    private final SearcherManager searchers;

    private VectorIndex(Path folder, IndexWriterConfig.OpenMode mode) {
        this.folder = folder;
        try {
            Files.createDirectories(folder);
            directory = FSDirectory.open(folder);
            // uncommitted writes are dropped at close: what is on disk is always what the last commit tagged
            writer = new IndexWriter(directory, new IndexWriterConfig().setRAMBufferSizeMB(64).setOpenMode(mode)
                    .setCommitOnClose(false));
            searchers = new SearcherManager(writer, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A new, empty index in {@code folder} (anything there is replaced). */
    static VectorIndex create(Path folder) {
        return new VectorIndex(folder, IndexWriterConfig.OpenMode.CREATE);
    }

    /** The index committed in {@code folder}. */
    static VectorIndex open(Path folder) {
        return new VectorIndex(folder, IndexWriterConfig.OpenMode.APPEND);
    }

    /** The tags of the last commit in {@code folder}; empty when it holds no index. */
    static Map<String, String> committedTags(Path folder) {
        try (Directory dir = FSDirectory.open(folder)) {
            return DirectoryReader.indexExists(dir) ? SegmentInfos.readLatestCommit(dir).getUserData() : Map.of();
        } catch (IOException e) {
            return Map.of(); // unreadable: treated as absent, so it is built again
        }
    }

    /** Makes every write so far durable, tagged (e.g. with the database version it matches). */
    void commit(Map<String, String> tags) {
        try {
            writer.setLiveCommitData(tags.entrySet());
            writer.commit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Each live document's label (null when it has none) and vector; the array is reused between calls. */
    void forEachVector(BiConsumer<String, float[]> action) {
        try {
            IndexSearcher searcher = searchers.acquire();
            try {
                for (LeafReaderContext leaf : searcher.getIndexReader().leaves()) {
                    LeafReader reader = leaf.reader();
                    FloatVectorValues vectors = reader.getFloatVectorValues(VECTOR);
                    if (vectors == null) {
                        continue;
                    }
                    Bits live = reader.getLiveDocs();
                    StoredFields stored = reader.storedFields();
                    for (int doc = vectors.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = vectors.nextDoc()) {
                        if (live == null || live.get(doc)) {
                            action.accept(stored.document(doc, Set.of(LABEL)).get(LABEL), vectors.vectorValue());
                        }
                    }
                }
            } finally {
                searchers.release(searcher);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Path folder() {
        return folder;
    }

    void put(String id, float[] vector, String text, String label, Map<String, String> metadata, String metadataJson) {
        Document document = new Document();
        document.add(new StringField(ID, id, Field.Store.YES));
        document.add(new KnnFloatVectorField(VECTOR, vector, VectorSimilarityFunction.DOT_PRODUCT));
        document.add(new StoredField(TEXT, text));
        document.add(new StoredField(METADATA, metadataJson));
        if (label != null && !label.isEmpty()) {
            document.add(new StoredField(LABEL, label));
        }
        metadata.forEach((key, value) -> document.add(new StringField(FILTER_PREFIX + key, value, Field.Store.NO)));
        try {
            writer.updateDocument(new Term(ID, id), document);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void delete(Collection<String> ids) {
        try {
            writer.deleteDocuments(ids.stream().map(id -> new Term(ID, id)).toArray(Term[]::new));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Makes the writes so far visible to queries. */
    void refresh() {
        try {
            searchers.maybeRefreshBlocking();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The top k by cosine (HNSW; exact when the filter leaves few documents), at least {@code minScore}. */
    List<Found> search(float[] query, int k, Map<String, String> filter, float minScore) {
        Query restrict = null;
        if (!filter.isEmpty()) {
            BooleanQuery.Builder all = new BooleanQuery.Builder();
            filter.forEach((key, value) -> all.add(new TermQuery(new Term(FILTER_PREFIX + key, value)), BooleanClause.Occur.FILTER));
            restrict = all.build();
        }
        try {
            IndexSearcher searcher = searchers.acquire();
            try {
                ScoreDoc[] top = searcher.search(new KnnFloatVectorQuery(VECTOR, query, k, restrict), k).scoreDocs;
                StoredFields stored = searcher.storedFields();
                List<Found> found = new ArrayList<>(top.length);
                for (ScoreDoc hit : top) {
                    float cosine = 2 * hit.score - 1; // Lucene's dot-product score is (1 + dot) / 2
                    if (cosine < minScore) {
                        continue;
                    }
                    Document d = stored.document(hit.doc);
                    found.add(new Found(d.get(ID), cosine, d.get(TEXT), d.get(LABEL), d.get(METADATA)));
                }
                return found;
            } finally {
                searchers.release(searcher);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Merges the index into one segment: one HNSW graph, the deleted documents gone. */
    void optimize() {
        try {
            writer.forceMerge(1);
            writer.commit();
            refresh();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Drops what deleted and replaced documents still occupy; answers the bytes freed. */
    long compact() {
        long before = bytes();
        try {
            writer.forceMergeDeletes(true);
            writer.commit();
            writer.deleteUnusedFiles();
            refresh();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Math.max(0, before - bytes());
    }

    /** Documents deleted or replaced but not yet merged away. */
    int deleted() {
        return read(searcher -> searcher.getIndexReader().numDeletedDocs());
    }

    int size() {
        return read(searcher -> searcher.getIndexReader().numDocs());
    }

    /** The index's size: every file of its folder (memory-mapped while it serves). */
    long bytes() {
        try {
            long total = 0;
            for (String file : directory.listAll()) {
                try {
                    total += directory.fileLength(file);
                } catch (java.nio.file.NoSuchFileException e) {
                    // merged away while we counted
                }
            }
            return total;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private int read(java.util.function.ToIntFunction<IndexSearcher> what) {
        try {
            IndexSearcher searcher = searchers.acquire();
            try {
                return what.applyAsInt(searcher);
            } finally {
                searchers.release(searcher);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            searchers.close();
            writer.close();
            directory.close();
        } catch (IOException e) {
            // closing: what was committed stays on disk, the rest is given up on purpose
        }
    }

    /** Closes the index and removes its folder. */
    void delete() {
        close();
        deleteFolder(folder);
    }

    static void deleteFolder(Path folder) {
        if (!Files.exists(folder)) {
            return;
        }
        try (Stream<Path> files = Files.walk(folder)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + folder, e);
        }
    }
}
