package dev.bkg.gateway.security;

import java.time.Duration;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import dev.bkg.gateway.grpc.AuthClient;
import dev.bkg.proto.auth.v1.ValidateResponse;
import io.smallrye.mutiny.Uni;

/**
 * Validations, cached for a short TTL ({@code bkg.gateway.auth-cache-ttl}, default 5 s) so that a
 * busy key costs auth-service one call per TTL. Consequences, by design: a revoked key keeps
 * working for at most the TTL; while auth-service is down, cached credentials keep working until
 * their entry expires and others get 503. Entries are keyed by the credential itself, held only
 * in this process's memory.
 */
@ApplicationScoped
public class CredentialCache {

    private final AuthClient auth;
    private final Cache<String, ValidateResponse> cache;

    CredentialCache(AuthClient auth,
            @ConfigProperty(name = "bkg.gateway.auth-cache-ttl", defaultValue = "PT5S") Duration ttl,
            @ConfigProperty(name = "bkg.gateway.auth-cache-size", defaultValue = "100000") long size) {
        this.auth = auth;
        this.cache = Caffeine.newBuilder().expireAfterWrite(ttl).maximumSize(size).build();
    }

    public Uni<ValidateResponse> validate(String credential) {
        ValidateResponse cached = cache.getIfPresent(credential);
        if (cached != null) {
            return Uni.createFrom().item(cached);
        }
        return auth.validate(credential).invoke(reply -> cache.put(credential, reply));
    }

    /** Forgets a credential at once (logout). */
    public void evict(String credential) {
        cache.invalidate(credential);
    }

    /** Forgets every credential (a user deleted or a password changed ends many at once). */
    public void evictAll() {
        cache.invalidateAll();
    }
}
