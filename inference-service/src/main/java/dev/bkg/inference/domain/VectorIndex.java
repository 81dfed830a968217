package dev.bkg.inference.domain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

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
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.store.ByteBuffersDirectory;

/**
 * One collection's search index: Lucene's HNSW graph over L2-normalised vectors (dot product,
 * so a hit's score is its cosine), in memory, with each document's text, label and metadata stored
 * beside it and its metadata indexed for exact-match filters. Writes are visible to the next query.
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

    private final ByteBuffersDirectory directory = new ByteBuffersDirectory();
    private final IndexWriter writer;
    private final SearcherManager searchers;

    VectorIndex() {
        try {
            writer = new IndexWriter(directory, new IndexWriterConfig().setRAMBufferSizeMB(64));
            searchers = new SearcherManager(writer, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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

    /** The index's size in memory: every file of its directory. */
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
            // in memory: nothing left to lose
        }
    }
}
