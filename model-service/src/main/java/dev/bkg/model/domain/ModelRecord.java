package dev.bkg.model.domain;

import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;

/**
 * One model of the catalog. Its files, validation result and properties are JSON text (they are
 * read and written whole); {@code sources} keeps what a download was asked for, so that a job cut
 * off by a service restart resumes where it stopped.
 */
@Entity
@Table(name = "models")
public class ModelRecord extends PanacheEntityBase {

    @Id
    @Column(length = 40)
    public String id;

    @Column(nullable = false, unique = true, length = 200)
    public String name;

    /** A bkg.model.v1.ModelKind name. */
    @Column(nullable = false, length = 20)
    public String kind;

    @Column(nullable = false, length = 20)
    public String format;

    /** JSON: [{name, sizeBytes, sha256}]. */
    @Column(nullable = false, columnDefinition = "text")
    public String files = "[]";

    @Column(name = "total_size_bytes", nullable = false)
    public long totalSizeBytes;

    @Column(nullable = false, length = 2000)
    public String source;

    /** A bkg.model.v1.ModelStatus name. */
    @Column(nullable = false, length = 20)
    public String status;

    @Column(name = "status_message", nullable = false, length = 2000)
    public String statusMessage = "";

    /** JSON of the last ValidationResult; null until validated. */
    @Column(columnDefinition = "text")
    public String validation;

    /** JSON: {key: value}. */
    @Column(nullable = false, columnDefinition = "text")
    public String properties = "{}";

    /** JSON of the download request (files with URLs and checksums, the size cap); null for built-ins. */
    @Column(columnDefinition = "text")
    public String sources;

    @Column(name = "job_id", length = 40)
    public String jobId;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;
}
