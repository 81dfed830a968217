package dev.bkg.inference.domain;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import jakarta.enterprise.context.ApplicationScoped;

import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.panache.common.Sort;
import io.quarkus.vertx.VertxContextSupport;
import io.smallrye.mutiny.Uni;

/**
 * brainml's collections and documents in PostgreSQL, for callers on worker threads: each call
 * runs its own transaction on a Vert.x context and waits for it.
 */
@ApplicationScoped
public class IndexStore {

    public List<CollectionRecord> collections() {
        return await(() -> CollectionRecord.<CollectionRecord>listAll(Sort.by("name")));
    }

    public Optional<CollectionRecord> collection(String name) {
        return Optional.ofNullable(await(() -> CollectionRecord.<CollectionRecord>findById(name)));
    }

    public CollectionRecord create(CollectionRecord record) {
        record.createdAt = Instant.now();
        return await(() -> Panache.withTransaction(() -> record.persist()).replaceWith(record));
    }

    public void update(String name, java.util.function.Consumer<CollectionRecord> change) {
        await(() -> Panache.withTransaction(() -> CollectionRecord.<CollectionRecord>findById(name)
                .onItem().ifNotNull().invoke(change)));
    }

    public long count(String collection) {
        return await(() -> DocumentRecord.count("collection", collection));
    }

    /**
     * Writes documents, replacing those whose id exists; answers how many were replaced. One
     * transaction: all are written or none.
     */
    public int upsert(String collection, List<DocumentRecord> documents) {
        List<String> ids = documents.stream().map(d -> d.docId).toList();
        return await(() -> Panache.withTransaction(() -> DocumentRecord.<DocumentRecord>list(
                "collection = ?1 and docId in ?2", collection, ids).chain(existing -> {
                    Map<String, DocumentRecord> byId = existing.stream().collect(Collectors.toMap(d -> d.docId, Function.identity()));
                    Instant now = Instant.now();
                    for (DocumentRecord document : documents) {
                        DocumentRecord stored = byId.get(document.docId);
                        if (stored == null) {
                            document.collection = collection;
                            document.updatedAt = now;
                            byId.put(document.docId, document);
                        } else {
                            stored.text = document.text;
                            stored.metadata = document.metadata;
                            stored.label = document.label;
                            stored.vector = document.vector;
                            stored.updatedAt = now;
                        }
                    }
                    List<DocumentRecord> fresh = documents.stream().filter(d -> d.id == null && byId.get(d.docId) == d).toList();
                    // the replaced ones are managed entities: the transaction writes their changes
                    Uni<Void> written = fresh.isEmpty() ? Uni.createFrom().voidItem() : DocumentRecord.persist(fresh);
                    return written.call(() -> changed(collection)).replaceWith(existing.size());
                })));
    }

    /** One more change to the collection's documents (see {@link CollectionRecord#indexVersion}). */
    private static Uni<Integer> changed(String collection) {
        return CollectionRecord.update("indexVersion = coalesce(indexVersion, 0) + 1 where name = ?1", collection);
    }

    public long delete(String collection, Collection<String> ids) {
        return await(() -> Panache.withTransaction(() -> DocumentRecord.delete("collection = ?1 and docId in ?2", collection,
                List.copyOf(ids)).call(() -> changed(collection))));
    }

    /** Documents in id order after {@code afterId}, a page at a time (for rebuilding and re-embedding). */
    public List<DocumentRecord> page(String collection, long afterId, int size) {
        return await(() -> DocumentRecord.<DocumentRecord>find("collection = ?1 and id > ?2", Sort.by("id"), collection, afterId)
                .page(0, size).list());
    }

    /** New vectors for some of a collection's documents (by row id), in one transaction. */
    public void replaceVectors(String collection, Map<Long, byte[]> vectors) {
        await(() -> Panache.withTransaction(() -> DocumentRecord.<DocumentRecord>list("id in ?1", List.copyOf(vectors.keySet()))
                .invoke(rows -> rows.forEach(row -> row.vector = vectors.get(row.id)))
                .call(() -> changed(collection))));
    }

    public long drop(String collection) {
        return await(() -> Panache.withTransaction(() -> DocumentRecord.delete("collection", collection)
                .call(() -> CollectionRecord.deleteById(collection))));
    }

    private static <T> T await(Supplier<Uni<T>> work) {
        try {
            return VertxContextSupport.subscribeAndAwait(() -> Panache.withSession(work::get));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }
}
