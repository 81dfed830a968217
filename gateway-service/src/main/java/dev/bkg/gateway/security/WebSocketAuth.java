package dev.bkg.gateway.security;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;

import dev.bkg.gateway.api.ProblemException;
import io.quarkus.websockets.next.HttpUpgradeCheck;
import io.quarkus.websockets.next.UserData;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;

/**
 * Authenticates every WebSocket at its handshake, before the upgrade: a refused one gets a plain
 * HTTP 401/403/429/503. Browsers cannot set headers on a WebSocket, so besides
 * {@code Authorization}/{@code x-api-key} the credential may come as a subprotocol
 * {@code bkg.bearer.<credential>} (offered beside {@code bkg.v1}, which the server picks) or,
 * for clients that can do neither, as the query parameter {@code access_token}. The credential is
 * never logged; the subprotocol way keeps it out of URLs and proxy logs too.
 */
@ApplicationScoped
public class WebSocketAuth implements HttpUpgradeCheck {

    public static final UserData.TypedKey<CallerPrincipal> CALLER = new UserData.TypedKey<>("bkg.caller");
    public static final String SUBPROTOCOL = "bkg.v1";
    static final String BEARER_SUBPROTOCOL = "bkg.bearer.";

    /** A socket path pattern and the scope it needs. */
    private record ScopeRule(Pattern path, String scope) {
    }

    /** The scope each socket family needs: the first pattern that matches wins; no match needs admin. */
    private static final List<ScopeRule> SCOPES = List.of(
            new ScopeRule(Pattern.compile("/ws/plugins/[^/]+/telemetry"), "telemetry:read"),
            new ScopeRule(Pattern.compile("/ws/plugins/.*"), "plugins:read"),
            new ScopeRule(Pattern.compile("/ws/models/.*"), "models:read"),
            new ScopeRule(Pattern.compile("/ws/telemetry.*"), "telemetry:read"));

    private final Authenticator authenticator;
    private final RateLimiter limiter;

    WebSocketAuth(Authenticator authenticator, RateLimiter limiter) {
        this.authenticator = authenticator;
        this.limiter = limiter;
    }

    @Override
    public Uni<CheckResult> perform(HttpUpgradeContext context) {
        HttpServerRequest request = context.httpRequest();
        String path = request.path();
        String scope = SCOPES.stream().filter(rule -> rule.path().matcher(path).matches()).map(ScopeRule::scope)
                .findFirst().orElse("admin");
        return authenticator.authenticate(credentialOf(request), scope, "WebSocket " + path)
                .map(caller -> {
                    RateLimiter.Decision decision = limiter.forCaller(caller);
                    if (!decision.allowed()) {
                        return CheckResult.rejectUpgradeSync(429,
                                Map.of("Retry-After", List.of(String.valueOf(decision.resetSeconds()))));
                    }
                    context.userData().put(CALLER, caller);
                    return CheckResult.permitUpgradeSync();
                })
                .onFailure(ProblemException.class).recoverWithItem(e -> {
                    ProblemException problem = (ProblemException) e;
                    return CheckResult.rejectUpgradeSync(problem.status());
                });
    }

    static String credentialOf(HttpServerRequest request) {
        String fromHeaders = Authenticator.credentialFrom(request::getHeader);
        if (fromHeaders != null) {
            return fromHeaders;
        }
        String protocols = request.getHeader("Sec-WebSocket-Protocol");
        if (protocols != null) {
            for (String protocol : protocols.split(",")) {
                String p = protocol.trim();
                if (p.startsWith(BEARER_SUBPROTOCOL) && p.length() > BEARER_SUBPROTOCOL.length()) {
                    return p.substring(BEARER_SUBPROTOCOL.length());
                }
            }
        }
        String query = request.getParam("access_token");
        return query == null || query.isBlank() ? null : query;
    }
}
