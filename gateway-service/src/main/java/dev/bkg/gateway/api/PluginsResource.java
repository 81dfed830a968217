package dev.bkg.gateway.api;

import java.util.List;
import java.util.UUID;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import com.fasterxml.jackson.databind.JsonNode;

import dev.bkg.gateway.grpc.PluginManagerClient;
import dev.bkg.gateway.security.CallerPrincipal;
import dev.bkg.gateway.security.RequiresScope;
import dev.bkg.proto.pluginmanager.v1.GetConfigHistoryRequest;
import dev.bkg.proto.pluginmanager.v1.GetConfigRequest;
import dev.bkg.proto.pluginmanager.v1.GetLogsRequest;
import dev.bkg.proto.pluginmanager.v1.GetPluginRequest;
import dev.bkg.proto.pluginmanager.v1.GetStatusRequest;
import dev.bkg.proto.pluginmanager.v1.InvokeCapabilityRequest;
import dev.bkg.proto.pluginmanager.v1.ListCapabilitiesRequest;
import dev.bkg.proto.pluginmanager.v1.ListPluginsRequest;
import dev.bkg.proto.pluginmanager.v1.RestartPluginRequest;
import dev.bkg.proto.pluginmanager.v1.SetConfigRequest;
import dev.bkg.proto.pluginmanager.v1.StartPluginRequest;
import dev.bkg.proto.pluginmanager.v1.StopPluginRequest;
import io.smallrye.mutiny.Uni;
import io.vertx.ext.web.RoutingContext;

/** The seed's plugin API, {@code /api/plugins}, and the capability bus, {@code /api/capabilities}. */
@Path("/api")
@Produces(MediaType.APPLICATION_JSON)
public class PluginsResource {

    static final int MAX_LOG_LIMIT = 5000;

    private final PluginManagerClient manager;

    PluginsResource(PluginManagerClient manager) {
        this.manager = manager;
    }

    public record PluginList(List<PluginViews.Plugin> plugins, List<String> registryErrors) {
    }

    @GET
    @Path("/plugins")
    @RequiresScope("plugins:read")
    public Uni<PluginList> list() {
        return manager.call(s -> s.listPlugins(ListPluginsRequest.getDefaultInstance())).map(r -> new PluginList(
                r.getPluginsList().stream().map(PluginViews.Plugin::of).toList(), r.getRegistryErrorsList()));
    }

    @GET
    @Path("/plugins/{id}")
    @RequiresScope("plugins:read")
    public Uni<PluginViews.Plugin> get(@PathParam("id") String id) {
        return manager.call(s -> s.getPlugin(GetPluginRequest.newBuilder().setPluginId(id).build()))
                .map(r -> PluginViews.Plugin.of(r.getPlugin()));
    }

    @GET
    @Path("/plugins/{id}/status")
    @RequiresScope("plugins:read")
    public Uni<PluginViews.Status> status(@PathParam("id") String id) {
        return manager.call(s -> s.getStatus(GetStatusRequest.newBuilder().setPluginId(id).build()))
                .map(r -> PluginViews.Status.of(r.getStatus()));
    }

    /** Idempotent: starting a running plugin answers 200 with its state. {@code wait=false} answers at once. */
    @POST
    @Path("/plugins/{id}/start")
    @RequiresScope("plugins:write")
    public Uni<PluginViews.Status> start(@PathParam("id") String id, @QueryParam("wait") @DefaultValue("true") boolean wait) {
        return manager.call(s -> s.startPlugin(StartPluginRequest.newBuilder().setPluginId(id).setWait(wait).build()))
                .map(r -> PluginViews.Status.of(r.getStatus()));
    }

    @POST
    @Path("/plugins/{id}/stop")
    @RequiresScope("plugins:write")
    public Uni<PluginViews.Status> stop(@PathParam("id") String id, @QueryParam("wait") @DefaultValue("true") boolean wait,
            @QueryParam("force") boolean force) {
        return manager.call(s -> s.stopPlugin(StopPluginRequest.newBuilder().setPluginId(id).setWait(wait).setForce(force).build()))
                .map(r -> PluginViews.Status.of(r.getStatus()));
    }

    @POST
    @Path("/plugins/{id}/restart")
    @RequiresScope("plugins:write")
    public Uni<PluginViews.Status> restart(@PathParam("id") String id, @QueryParam("wait") @DefaultValue("true") boolean wait) {
        return manager.call(s -> s.restartPlugin(RestartPluginRequest.newBuilder().setPluginId(id).setWait(wait).build()))
                .map(r -> PluginViews.Status.of(r.getStatus()));
    }

    public record LogPage(List<PluginViews.Line> lines, String next, long dropped) {
    }

    /** A page of log lines, oldest first; {@code next} is the {@code page} of the following one. */
    @GET
    @Path("/plugins/{id}/logs")
    @RequiresScope("plugins:read")
    public Uni<LogPage> logs(@PathParam("id") String id, @QueryParam("since") String since,
            @QueryParam("limit") @DefaultValue("500") int limit, @QueryParam("page") String page) {
        if (limit < 1 || limit > MAX_LOG_LIMIT) {
            throw ProblemException.badRequest("limit must be from 1 to " + MAX_LOG_LIMIT);
        }
        long sinceMs = parseSince(since);
        return manager.call(s -> s.getLogs(GetLogsRequest.newBuilder().setPluginId(id).setSinceEpochMs(sinceMs)
                .setLimit(limit).setPageToken(page == null ? "" : page).build()))
                .map(r -> new LogPage(r.getLinesList().stream().map(PluginViews.Line::of).toList(),
                        r.getNextPageToken().isEmpty() ? null : r.getNextPageToken(), r.getDropped()));
    }

    @GET
    @Path("/plugins/{id}/config")
    @RequiresScope("plugins:read")
    public Uni<PluginViews.Config> config(@PathParam("id") String id) {
        return manager.call(s -> s.getConfig(GetConfigRequest.newBuilder().setPluginId(id).build()))
                .map(r -> PluginViews.Config.of(r.getConfig()));
    }

    public record ConfigSet(PluginViews.Config config, String applied) {
    }

    /**
     * Sets the config (the body is the config object). Invalid → 400 with one entry per field in
     * "errors"; {@code ?expectedVersion=} guards against overwriting someone else's change (409).
     */
    @POST
    @Path("/plugins/{id}/config")
    @Consumes(MediaType.APPLICATION_JSON)
    @RequiresScope("plugins:write")
    public Uni<ConfigSet> setConfig(@PathParam("id") String id, JsonNode body,
            @QueryParam("expectedVersion") @DefaultValue("0") int expectedVersion, RoutingContext http) {
        if (body == null || !body.isObject()) {
            throw ProblemException.badRequest("the body must be the plugin's config, a JSON object");
        }
        return manager.call(s -> s.setConfig(SetConfigRequest.newBuilder().setPluginId(id).setConfigJson(body.toString())
                .setExpectedVersion(expectedVersion).setUpdatedBy(CallerPrincipal.of(http).subject()).build()))
                .map(r -> {
                    if (!r.getAccepted()) {
                        throw ProblemException.badRequest("the config does not match the schema of plugin '" + id + "'")
                                .errors(r.getErrorsList().stream()
                                        .map(e -> new Problem.FieldError(e.getField(), e.getMessage())).toList());
                    }
                    return new ConfigSet(PluginViews.Config.of(r.getConfig()), r.getApplied().name());
                });
    }

    @GET
    @Path("/plugins/{id}/config/history")
    @RequiresScope("plugins:read")
    public Uni<List<PluginViews.Config>> configHistory(@PathParam("id") String id,
            @QueryParam("limit") @DefaultValue("20") int limit) {
        return manager.call(s -> s.getConfigHistory(GetConfigHistoryRequest.newBuilder().setPluginId(id).setLimit(limit).build()))
                .map(r -> r.getVersionsList().stream().map(PluginViews.Config::of).toList());
    }

    public record Capability(String capability, String pluginId, boolean available, String pluginState) {
    }

    @GET
    @Path("/plugins/{id}/capabilities")
    @RequiresScope("plugins:read")
    public Uni<List<Capability>> capabilities(@PathParam("id") String id) {
        return manager.call(s -> s.listCapabilities(ListCapabilitiesRequest.newBuilder().setPluginId(id).build()))
                .map(r -> r.getCapabilitiesList().stream().map(c -> new Capability(c.getCapability(), c.getPluginId(),
                        c.getAvailable(), c.getPluginState().name())).toList());
    }

    /**
     * The bus: the JSON body goes to the running plugin that provides the capability; its JSON reply
     * comes back as is. Unknown capability 404, provider stopped 503 (naming it), plugin failure 502.
     */
    @POST
    @Path("/capabilities/{capability}")
    @Consumes(MediaType.APPLICATION_JSON)
    @RequiresScope("plugins:write")
    public Uni<Response> invoke(@PathParam("capability") String capability, JsonNode body,
            @QueryParam("plugin") String plugin, RoutingContext http) {
        String requestId = UUID.randomUUID().toString();
        return manager.call(s -> s.invokeCapability(InvokeCapabilityRequest.newBuilder().setCapability(capability)
                .setPayloadJson(body == null ? "{}" : body.toString()).setRequestId(requestId)
                .setPrincipal(CallerPrincipal.of(http).subject()).setPluginId(plugin == null ? "" : plugin).build()))
                .map(r -> Response.ok(r.getPayloadJson(), MediaType.APPLICATION_JSON)
                        .header("X-Bkg-Plugin", r.getPluginId()).header("X-Request-Id", requestId)
                        .header("X-Bkg-Duration-Ms", r.getDurationMs()).build());
    }

    private static long parseSince(String since) {
        if (since == null || since.isBlank()) {
            return 0;
        }
        try {
            return since.chars().allMatch(Character::isDigit) ? Long.parseLong(since)
                    : java.time.Instant.parse(since).toEpochMilli();
        } catch (RuntimeException e) {
            throw ProblemException.badRequest("since must be epoch milliseconds or an ISO-8601 instant");
        }
    }

}
