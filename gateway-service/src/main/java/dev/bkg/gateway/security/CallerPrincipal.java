package dev.bkg.gateway.security;

import java.util.List;

import dev.bkg.proto.auth.v1.Principal;
import io.vertx.ext.web.RoutingContext;

/** Who is calling, as auth-service vouched for it: the subject, the owner, the scopes, the rate limit. */
public record CallerPrincipal(String subject, String kind, String keyId, String username, boolean admin,
        List<String> scopes, int rateLimitPerMinute, String credential) {

    /** Where {@link AuthGuard} leaves it for the route, in the request's routing context. */
    public static final String KEY = "bkg.caller";

    /** The authenticated caller of this request (routes that are not public only). */
    public static CallerPrincipal of(RoutingContext http) {
        CallerPrincipal caller = http.get(KEY);
        if (caller == null) {
            throw new IllegalStateException("no authenticated caller: is the route public?");
        }
        return caller;
    }

    static CallerPrincipal of(Principal p, String credential) {
        return new CallerPrincipal(p.getSubject(), p.getKind().name(), p.getKeyId(), p.getUser().getUsername(),
                p.getUser().getAdmin(), List.copyOf(p.getScopesList()), p.getRateLimitPerMinute(), credential);
    }

    public boolean hasScope(String scope) {
        return scopes.contains(scope) || scopes.contains("admin");
    }

    public boolean isSession() {
        return "SESSION".equals(kind);
    }

    /** Never print the credential. */
    @Override
    public String toString() {
        return "CallerPrincipal[" + subject + "]";
    }
}
