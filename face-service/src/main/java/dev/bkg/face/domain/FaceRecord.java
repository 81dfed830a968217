package dev.bkg.face.domain;

import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Index;
import jakarta.persistence.Table;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;

/**
 * An enrolled face: its embedding (float32 little-endian), where it was in its source image, the
 * source's SHA-256, and the source image itself only when bkg.face.store-images is on. The database
 * is the truth; the in-memory search index is rebuilt from it at start.
 */
@Entity
@Table(name = "faces", indexes = @Index(columnList = "subject_id"))
public class FaceRecord extends PanacheEntityBase {

    @Id
    @Column(length = 32)
    public String id;

    @Column(name = "subject_id", nullable = false)
    public Long subjectId;

    @Column(nullable = false)
    public byte[] embedding;

    @Column(name = "box_x", nullable = false)
    public float boxX;

    @Column(name = "box_y", nullable = false)
    public float boxY;

    @Column(name = "box_width", nullable = false)
    public float boxWidth;

    @Column(name = "box_height", nullable = false)
    public float boxHeight;

    @Column(name = "source_sha256", nullable = false, length = 64)
    public String sourceSha256;

    /** The source image's bytes; null unless configured to keep them. */
    public byte[] image;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;
}
