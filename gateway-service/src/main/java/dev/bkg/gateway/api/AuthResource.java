package dev.bkg.gateway.api;

import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirements;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import dev.bkg.gateway.grpc.AuthClient;
import dev.bkg.gateway.security.CallerPrincipal;
import dev.bkg.gateway.security.CredentialCache;
import dev.bkg.gateway.security.PublicRoute;
import dev.bkg.gateway.security.RequiresScope;
import dev.bkg.proto.auth.v1.CreateKeyRequest;
import dev.bkg.proto.auth.v1.KeyInfo;
import io.smallrye.mutiny.Uni;
import io.vertx.ext.web.RoutingContext;

/** Login, the caller's identity, and API keys: {@code /api/auth}. */
@Path("/api/auth")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class AuthResource {

    private final AuthClient auth;
    private final CredentialCache credentials;

    AuthResource(AuthClient auth, CredentialCache credentials) {
        this.auth = auth;
        this.credentials = credentials;
    }

    public record LoginBody(String username, String password) {
    }

    public record LoginReply(String token, Instant expiresAt, String username, boolean admin, List<String> scopes) {
    }

    @POST
    @Path("/login")
    @PublicRoute
    @SecurityRequirements
    public Uni<LoginReply> login(LoginBody body, RoutingContext http) {
        if (body == null || blank(body.username()) || body.password() == null || body.password().isEmpty()) {
            throw ProblemException.badRequest("username and password are required");
        }
        String address = http.request().remoteAddress() == null ? "" : http.request().remoteAddress().hostAddress();
        return auth.login(body.username(), body.password(), address).map(reply -> new LoginReply(reply.getToken(),
                Instant.ofEpochMilli(reply.getExpiresAtEpochMs()), reply.getUser().getUsername(),
                reply.getUser().getAdmin(), reply.getScopesList()));
    }

    @POST
    @Path("/logout")
    @Consumes(MediaType.WILDCARD)
    public Uni<Response> logout(RoutingContext http) {
        CallerPrincipal caller = CallerPrincipal.of(http);
        if (!caller.isSession()) {
            throw ProblemException.badRequest("logout ends a session; an API key is revoked with DELETE /api/auth/keys/{id}");
        }
        credentials.evict(caller.credential());
        return auth.logout(caller.credential()).replaceWith(Response.noContent().build());
    }

    public record Me(String subject, String kind, String username, boolean admin, List<String> scopes,
            String keyId) {
    }

    @GET
    @Path("/me")
    public Me me(RoutingContext http) {
        CallerPrincipal c = CallerPrincipal.of(http);
        return new Me(c.subject(), c.kind(), c.username(), c.admin(), c.scopes(), c.keyId().isEmpty() ? null : c.keyId());
    }

    public record CreateKeyBody(String name, List<String> scopes, String expiresAt, Integer rateLimitPerMinute) {
    }

    public record KeyView(String id, String name, String prefix, List<String> scopes, String owner, Instant created,
            Instant expiresAt, Instant lastUsed, boolean revoked, Instant revokedAt, Integer rateLimitPerMinute) {

        static KeyView of(KeyInfo k) {
            return new KeyView(k.getId(), k.getName(), k.getPrefix(), k.getScopesList(), k.getOwner(),
                    Instant.ofEpochMilli(k.getCreatedEpochMs()), instant(k.getExpiresAtEpochMs()),
                    instant(k.getLastUsedEpochMs()), k.getRevoked(), instant(k.getRevokedAtEpochMs()),
                    k.getRateLimitPerMinute() == 0 ? null : k.getRateLimitPerMinute());
        }
    }

    /** The one reply that carries the full key. */
    public record CreatedKey(String id, String key, KeyView info) {
    }

    @POST
    @Path("/keys")
    @RequiresScope("keys:manage")
    public Uni<Response> createKey(CreateKeyBody body, RoutingContext http) {
        if (body == null) {
            throw ProblemException.badRequest("a JSON body {name, scopes, expiresAt?, rateLimitPerMinute?} is required");
        }
        CallerPrincipal caller = CallerPrincipal.of(http);
        CreateKeyRequest.Builder request = CreateKeyRequest.newBuilder()
                .setName(body.name() == null ? "" : body.name())
                .addAllScopes(body.scopes() == null ? List.of() : body.scopes())
                .setOwner(caller.username())
                .addAllGrantorScopes(caller.scopes());
        if (body.expiresAt() != null) {
            try {
                request.setExpiresAtEpochMs(Instant.parse(body.expiresAt()).toEpochMilli());
            } catch (DateTimeParseException e) {
                throw ProblemException.badRequest("expiresAt must be an ISO-8601 instant, e.g. 2027-01-01T00:00:00Z");
            }
        }
        if (body.rateLimitPerMinute() != null) {
            request.setRateLimitPerMinute(body.rateLimitPerMinute());
        }
        return auth.createKey(request.build()).map(created -> Response.status(201)
                .entity(new CreatedKey(created.getInfo().getId(), created.getKey(), KeyView.of(created.getInfo())))
                .build());
    }

    /** The caller's keys; an admin may ask for everyone's with {@code ?all=true}. */
    @GET
    @Path("/keys")
    @RequiresScope("keys:manage")
    public Uni<List<KeyView>> listKeys(@QueryParam("all") boolean all, RoutingContext http) {
        CallerPrincipal caller = CallerPrincipal.of(http);
        if (all && !caller.hasScope("admin")) {
            throw ProblemException.forbidden("only an admin may list every user's keys");
        }
        return auth.listKeys(all ? null : caller.username())
                .map(reply -> reply.getKeysList().stream().map(KeyView::of).toList());
    }

    /** Revokes one of the caller's keys (any key, for an admin). Unknown and foreign ids are both 404. */
    @DELETE
    @Path("/keys/{id}")
    @RequiresScope("keys:manage")
    public Uni<KeyView> revokeKey(@PathParam("id") String id, RoutingContext http) {
        CallerPrincipal caller = CallerPrincipal.of(http);
        Uni<Boolean> allowed = caller.hasScope("admin") ? Uni.createFrom().item(true)
                : auth.listKeys(caller.username()).map(r -> r.getKeysList().stream().anyMatch(k -> k.getId().equals(id)));
        return allowed.flatMap(ok -> {
            if (!ok) {
                return Uni.createFrom().failure(new ProblemException(404, "Not Found", "no such key"));
            }
            return auth.revokeKey(id).map(reply -> KeyView.of(reply.getKey()));
        });
    }

    private static Instant instant(long epochMs) {
        return epochMs == 0 ? null : Instant.ofEpochMilli(epochMs);
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
