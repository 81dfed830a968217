package dev.bkg.gateway.security;

import java.lang.reflect.Method;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;

import org.jboss.resteasy.reactive.server.ServerRequestFilter;
import org.jboss.resteasy.reactive.server.ServerResponseFilter;

import dev.bkg.gateway.api.ProblemException;
import io.smallrye.mutiny.Uni;
import io.vertx.ext.web.RoutingContext;

/**
 * Guards every REST route under /api, /v1 and /v2 (the Open Inference Protocol): a credential ({@code Authorization: Bearer <key or
 * session token>} or {@code x-api-key}) checked by {@link Authenticator} with the route's
 * {@link RequiresScope}, and the caller's rate limit (429 with Retry-After and X-RateLimit-*).
 * {@link PublicRoute}s need no credential and are limited per client address.
 */
public class AuthGuard {

    private static final String DECISION = "bkg.rate-limit";

    private final Authenticator authenticator;
    private final RateLimiter limiter;

    AuthGuard(Authenticator authenticator, RateLimiter limiter) {
        this.authenticator = authenticator;
        this.limiter = limiter;
    }

    @ServerRequestFilter
    public Uni<Response> guard(ContainerRequestContext request, ResourceInfo route, RoutingContext http) {
        String path = request.getUriInfo().getPath();
        if (!(path.startsWith("/api/") || path.startsWith("/v1/") || path.startsWith("/v2/") || path.equals("/v2"))) {
            return Uni.createFrom().nullItem();
        }
        Method method = route.getResourceMethod();
        if (method != null && method.isAnnotationPresent(PublicRoute.class)) {
            return Uni.createFrom().item(limit(request, limiter.forAddress(clientAddress(http))));
        }
        String what = request.getMethod() + " " + path;
        return authenticator.authenticate(Authenticator.credentialFrom(request::getHeaderString), requiredScope(route), what)
                .map(principal -> {
                    http.put(CallerPrincipal.KEY, principal);
                    return limit(request, limiter.forCaller(principal));
                })
                .onFailure(ProblemException.class).recoverWithItem(e -> ((ProblemException) e).toResponse());
    }

    /** Null lets the request through; a 429 stops it. The decision is kept for the response headers. */
    private static Response limit(ContainerRequestContext request, RateLimiter.Decision decision) {
        request.setProperty(DECISION, decision);
        if (decision.allowed()) {
            return null;
        }
        ProblemException tooMany = new ProblemException(429, "Too Many Requests",
                "rate limit of " + decision.limit() + " requests a minute reached")
                .header("Retry-After", decision.resetSeconds());
        Response response = tooMany.toResponse();
        addHeaders(response.getHeaders(), decision);
        return response;
    }

    @ServerResponseFilter
    public void rateLimitHeaders(ContainerRequestContext request, ContainerResponseContext response) {
        if (request.getProperty(DECISION) instanceof RateLimiter.Decision decision
                && !response.getHeaders().containsKey("X-RateLimit-Limit")) {
            addHeaders(response.getHeaders(), decision);
        }
    }

    private static void addHeaders(MultivaluedMap<String, Object> headers, RateLimiter.Decision d) {
        headers.putSingle("X-RateLimit-Limit", d.limit());
        headers.putSingle("X-RateLimit-Remaining", d.remaining());
        headers.putSingle("X-RateLimit-Reset", d.resetSeconds());
    }

    private static String requiredScope(ResourceInfo route) {
        RequiresScope scope = route.getResourceMethod() == null ? null
                : route.getResourceMethod().getAnnotation(RequiresScope.class);
        if (scope == null && route.getResourceClass() != null) {
            scope = route.getResourceClass().getAnnotation(RequiresScope.class);
        }
        return scope == null ? null : scope.value();
    }

    static String clientAddress(RoutingContext http) {
        return http.request().remoteAddress() == null ? "unknown" : http.request().remoteAddress().hostAddress();
    }
}
