package dev.bkg.face.domain;

import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;

/** A person faces are enrolled under; faces point at the id, so a rename touches one row. */
@Entity
@Table(name = "subjects")
public class SubjectRecord extends PanacheEntityBase {

    @Id
    @GeneratedValue
    public Long id;

    @Column(nullable = false, unique = true, length = 255)
    public String name;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;
}
