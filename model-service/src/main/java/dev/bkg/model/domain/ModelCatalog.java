package dev.bkg.model.domain;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

import jakarta.enterprise.context.ApplicationScoped;

import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.vertx.VertxContextSupport;
import io.smallrye.mutiny.Uni;

/**
 * The catalog in PostgreSQL, for callers on worker threads (gRPC methods marked blocking, download
 * jobs): each call runs its own transaction on a Vert.x context and waits for it.
 */
@ApplicationScoped
public class ModelCatalog {

    public List<ModelRecord> all() {
        return await(() -> ModelRecord.<ModelRecord>listAll());
    }

    public Optional<ModelRecord> find(String id) {
        return storable(id) ? Optional.ofNullable(await(() -> ModelRecord.<ModelRecord>findById(id))) : Optional.empty();
    }

    public Optional<ModelRecord> findByName(String name) {
        return storable(name) ? Optional.ofNullable(await(() -> ModelRecord.<ModelRecord>find("name", name).firstResult()))
                : Optional.empty();
    }

    /** PostgreSQL text cannot hold NUL: no stored id or name has one, and the query would fail on it. */
    private static boolean storable(String text) {
        return text != null && text.indexOf('\0') < 0;
    }

    public ModelRecord insert(ModelRecord record) {
        record.createdAt = Instant.now();
        record.updatedAt = record.createdAt;
        return await(() -> Panache.withTransaction(() -> record.persist()).replaceWith(record));
    }

    /** Changes a model in one transaction; empty when it is gone. */
    public Optional<ModelRecord> update(String id, Consumer<ModelRecord> change) {
        if (!storable(id)) {
            return Optional.empty();
        }
        return Optional.ofNullable(await(() -> Panache.withTransaction(() -> ModelRecord.<ModelRecord>findById(id)
                .onItem().ifNotNull().invoke(record -> {
                    change.accept(record);
                    record.updatedAt = Instant.now();
                }))));
    }

    public boolean delete(String id) {
        return storable(id) && await(() -> Panache.withTransaction(() -> ModelRecord.deleteById(id)));
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
