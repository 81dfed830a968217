package dev.bkg.inference.domain;

import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.Id;
import jakarta.persistence.Index;
import jakarta.persistence.Table;
import jakarta.persistence.UniqueConstraint;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;

/**
 * One document of a collection with its vector: the database is the truth, the in-memory search
 * index is rebuilt from it at start. The vector is float32 little-endian bytes, the metadata JSON.
 */
@Entity
@Table(name = "documents", uniqueConstraints = @UniqueConstraint(columnNames = {"collection", "doc_id"}),
        indexes = @Index(columnList = "collection, id"))
public class DocumentRecord extends PanacheEntityBase {

    @Id
    @GeneratedValue
    public Long id;

    @Column(nullable = false, length = 64)
    public String collection;

    @Column(name = "doc_id", nullable = false, length = 256)
    public String docId;

    @Column(nullable = false, columnDefinition = "text")
    public String text;

    /** JSON object of string values. */
    @Column(nullable = false, columnDefinition = "text")
    public String metadata = "{}";

    @Column(length = 200)
    public String label;

    @Column(nullable = false)
    public byte[] vector;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;
}
