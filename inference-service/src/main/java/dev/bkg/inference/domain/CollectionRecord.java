package dev.bkg.inference.domain;

import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;

/** A brainml collection: its documents are embedded with one model, so they share one dimension. */
@Entity
@Table(name = "collections")
public class CollectionRecord extends PanacheEntityBase {

    @Id
    @Column(length = 64)
    public String name;

    /** The embedding model's name in model-service's catalog. */
    @Column(name = "embedding_model", nullable = false, length = 200)
    public String embeddingModel;

    @Column(nullable = false)
    public int dimensions;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    /** When Train last built the index and fitted the classifier; null: never. */
    @Column(name = "last_trained_at")
    public Instant lastTrainedAt;

    /**
     * Counts the changes to the collection's documents (each write adds one, in its transaction). A
     * search index on disk tagged with the same version holds the same documents. Null in rows older
     * than the column: version 0.
     */
    @Column(name = "index_version")
    public Long indexVersion;

    public long version() {
        return indexVersion == null ? 0 : indexVersion;
    }
}
