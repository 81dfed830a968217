package dev.bkg.gateway.api;

import java.time.Instant;
import java.util.List;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import dev.bkg.gateway.grpc.AuthClient;
import dev.bkg.gateway.security.CallerPrincipal;
import dev.bkg.gateway.security.CredentialCache;
import dev.bkg.gateway.security.RequiresScope;
import dev.bkg.proto.auth.v1.ChangePasswordRequest;
import dev.bkg.proto.auth.v1.CreateUserRequest;
import dev.bkg.proto.auth.v1.User;
import io.smallrye.mutiny.Uni;
import io.vertx.ext.web.RoutingContext;

/** Users: admins manage them ({@code /api/auth/users}); anyone signed in changes their own password. */
@Path("/api/auth")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class UsersResource {

    private final AuthClient auth;
    private final CredentialCache credentials;

    UsersResource(AuthClient auth, CredentialCache credentials) {
        this.auth = auth;
        this.credentials = credentials;
    }

    public record UserView(String username, boolean admin, List<String> roles, Instant created) {
        static UserView of(User u) {
            return new UserView(u.getUsername(), u.getAdmin(), u.getRolesList(), Instant.ofEpochMilli(u.getCreatedEpochMs()));
        }
    }

    public record CreateUserBody(String username, String password, Boolean admin, List<String> roles) {
    }

    @GET
    @Path("/users")
    @RequiresScope("admin")
    public Uni<List<UserView>> list() {
        return auth.listUsers().map(r -> r.getUsersList().stream().map(UserView::of).toList());
    }

    @POST
    @Path("/users")
    @RequiresScope("admin")
    public Uni<Response> create(CreateUserBody body) {
        if (body == null) {
            throw ProblemException.badRequest("a JSON body {username, password, admin?, roles?} is required");
        }
        CreateUserRequest request = CreateUserRequest.newBuilder()
                .setUsername(body.username() == null ? "" : body.username())
                .setPassword(body.password() == null ? "" : body.password())
                .setAdmin(Boolean.TRUE.equals(body.admin()))
                .addAllRoles(body.roles() == null ? List.of() : body.roles()).build();
        return auth.createUser(request).map(r -> Response.status(201).entity(UserView.of(r.getUser())).build());
    }

    public record DeletedUser(String username, int revokedKeys, int endedSessions) {
    }

    /** Deleting a user revokes their keys and ends their sessions (the gateway's cache forgets them too). */
    @DELETE
    @Path("/users/{username}")
    @RequiresScope("admin")
    public Uni<DeletedUser> delete(@PathParam("username") String username, RoutingContext http) {
        if (username.equals(CallerPrincipal.of(http).username())) {
            throw new ProblemException(409, "Conflict", "an admin cannot delete their own account");
        }
        return auth.deleteUser(username).map(r -> {
            credentials.evictAll();
            return new DeletedUser(username, r.getRevokedKeys(), r.getEndedSessions());
        });
    }

    public record PasswordBody(String currentPassword, String newPassword) {
    }

    public record PasswordChanged(String username, int endedSessions) {
    }

    /** The caller's own password; the current one is required. The user's sessions end (log in again). */
    @POST
    @Path("/password")
    public Uni<PasswordChanged> changeOwnPassword(PasswordBody body, RoutingContext http) {
        CallerPrincipal caller = CallerPrincipal.of(http);
        if (body == null || body.currentPassword() == null || body.currentPassword().isEmpty()) {
            throw ProblemException.badRequest("currentPassword and newPassword are required");
        }
        return changePassword(ChangePasswordRequest.newBuilder().setUsername(caller.username())
                .setCurrentPassword(body.currentPassword()).setNewPassword(nullToEmpty(body.newPassword())).build());
    }

    /** An admin sets another user's password without knowing the current one. */
    @POST
    @Path("/users/{username}/password")
    @RequiresScope("admin")
    public Uni<PasswordChanged> setPassword(@PathParam("username") String username, PasswordBody body) {
        return changePassword(ChangePasswordRequest.newBuilder().setUsername(username).setAdminOverride(true)
                .setNewPassword(body == null ? "" : nullToEmpty(body.newPassword())).build());
    }

    private Uni<PasswordChanged> changePassword(ChangePasswordRequest request) {
        return auth.changePassword(request).map(r -> {
            credentials.evictAll();
            return new PasswordChanged(request.getUsername(), r.getEndedSessions());
        });
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }
}
