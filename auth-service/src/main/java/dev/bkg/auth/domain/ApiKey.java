package dev.bkg.auth.domain;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;

/** An API key "bkg_<id>_<secret>": only the SHA-256 of the secret is stored. */
@Entity
@Table(name = "api_keys")
public class ApiKey extends PanacheEntityBase {

    public static final String PREFIX = "bkg_";

    @Id
    @Column(length = 32)
    public String id;

    @Column(nullable = false, length = 100)
    public String name;

    /** "bkg_<id>_" plus the secret's first four characters: enough to recognise a key, useless to use it. */
    @Column(nullable = false, length = 64)
    public String prefix;

    @Column(name = "secret_hash", nullable = false, length = 64)
    public String secretHash;

    /** Comma-separated scope names. */
    @Column(nullable = false, length = 500)
    public String scopes;

    @Column(nullable = false, length = 64)
    public String owner;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "expires_at")
    public Instant expiresAt;

    @Column(name = "last_used_at")
    public Instant lastUsedAt;

    @Column(name = "revoked_at")
    public Instant revokedAt;

    @Column(name = "rate_limit_per_minute", nullable = false)
    public int rateLimitPerMinute;

    public List<String> scopeList() {
        return scopes.isEmpty() ? List.of() : Arrays.asList(scopes.split(","));
    }

    /** The parts of a presented key, or null when it does not have the key's shape. */
    public static String[] parse(String credential) {
        if (credential == null || !credential.startsWith(PREFIX)) {
            return null;
        }
        String rest = credential.substring(PREFIX.length());
        int underscore = rest.indexOf('_');
        if (underscore < 1 || underscore == rest.length() - 1 || underscore > 32) {
            return null;
        }
        return new String[] { rest.substring(0, underscore), rest.substring(underscore + 1) };
    }
}
