package dev.bkg.auth.domain;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;

/** A person who can log in. Only a bcrypt hash of the password is stored. */
@Entity
@Table(name = "users")
public class User extends PanacheEntityBase {

    @Id
    @Column(length = 64)
    public String username;

    @Column(name = "password_hash", nullable = false, length = 100)
    public String passwordHash;

    @Column(nullable = false)
    public boolean admin;

    /** Comma-separated role names; for non-admins they are the scopes the user may use. */
    @Column(nullable = false, length = 500)
    public String roles = "";

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    public List<String> roleList() {
        return roles == null || roles.isEmpty() ? List.of() : Arrays.asList(roles.split(","));
    }
}
