package dev.bkg.gateway.grpc;

import java.util.UUID;

import dev.bkg.gateway.security.GrpcCallers;
import dev.bkg.proto.pluginmanager.v1.GetConfigHistoryRequest;
import dev.bkg.proto.pluginmanager.v1.GetConfigHistoryResponse;
import dev.bkg.proto.pluginmanager.v1.GetConfigRequest;
import dev.bkg.proto.pluginmanager.v1.GetConfigResponse;
import dev.bkg.proto.pluginmanager.v1.GetLogsRequest;
import dev.bkg.proto.pluginmanager.v1.GetLogsResponse;
import dev.bkg.proto.pluginmanager.v1.GetPluginRequest;
import dev.bkg.proto.pluginmanager.v1.GetPluginResponse;
import dev.bkg.proto.pluginmanager.v1.GetStatusRequest;
import dev.bkg.proto.pluginmanager.v1.GetStatusResponse;
import dev.bkg.proto.pluginmanager.v1.InvokeCapabilityRequest;
import dev.bkg.proto.pluginmanager.v1.InvokeCapabilityResponse;
import dev.bkg.proto.pluginmanager.v1.ListCapabilitiesRequest;
import dev.bkg.proto.pluginmanager.v1.ListCapabilitiesResponse;
import dev.bkg.proto.pluginmanager.v1.ListPluginsRequest;
import dev.bkg.proto.pluginmanager.v1.ListPluginsResponse;
import dev.bkg.proto.pluginmanager.v1.LogLine;
import dev.bkg.proto.pluginmanager.v1.MutinyPluginManagerGrpc;
import dev.bkg.proto.pluginmanager.v1.RestartPluginRequest;
import dev.bkg.proto.pluginmanager.v1.RestartPluginResponse;
import dev.bkg.proto.pluginmanager.v1.SetConfigRequest;
import dev.bkg.proto.pluginmanager.v1.SetConfigResponse;
import dev.bkg.proto.pluginmanager.v1.StartPluginRequest;
import dev.bkg.proto.pluginmanager.v1.StartPluginResponse;
import dev.bkg.proto.pluginmanager.v1.StatusEvent;
import dev.bkg.proto.pluginmanager.v1.StopPluginRequest;
import dev.bkg.proto.pluginmanager.v1.StopPluginResponse;
import dev.bkg.proto.pluginmanager.v1.StreamLogsRequest;
import dev.bkg.proto.pluginmanager.v1.StreamStatusRequest;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

/**
 * The plugin manager's contract on the gateway's public gRPC port: every call authenticated
 * ({@link GrpcCallers}), reads need plugins:read and changes plugins:write (as on REST), then
 * forwarded with the plugin manager's own statuses. Who set a config and who invoked a capability
 * is the authenticated caller, whatever the request says.
 */
@GrpcService
public class PublicPluginManagerService extends MutinyPluginManagerGrpc.PluginManagerImplBase {

    private static final String READ = "plugins:read";
    private static final String WRITE = "plugins:write";

    private final GrpcCallers callers;
    private final PluginManagerClient manager;

    PublicPluginManagerService(GrpcCallers callers, PluginManagerClient manager) {
        this.callers = callers;
        this.manager = manager;
    }


    @Override
    public Uni<ListPluginsResponse> listPlugins(ListPluginsRequest request) {
        return callers.call(READ, "ListPlugins", c -> manager.forward(s -> s.listPlugins(request)));
    }

    @Override
    public Uni<GetPluginResponse> getPlugin(GetPluginRequest request) {
        return callers.call(READ, "GetPlugin", c -> manager.forward(s -> s.getPlugin(request)));
    }

    @Override
    public Uni<StartPluginResponse> startPlugin(StartPluginRequest request) {
        return callers.call(WRITE, "StartPlugin", c -> manager.forward(s -> s.startPlugin(request)));
    }

    @Override
    public Uni<StopPluginResponse> stopPlugin(StopPluginRequest request) {
        return callers.call(WRITE, "StopPlugin", c -> manager.forward(s -> s.stopPlugin(request)));
    }

    @Override
    public Uni<RestartPluginResponse> restartPlugin(RestartPluginRequest request) {
        return callers.call(WRITE, "RestartPlugin", c -> manager.forward(s -> s.restartPlugin(request)));
    }

    @Override
    public Uni<GetStatusResponse> getStatus(GetStatusRequest request) {
        return callers.call(READ, "GetStatus", c -> manager.forward(s -> s.getStatus(request)));
    }

    @Override
    public Uni<GetConfigResponse> getConfig(GetConfigRequest request) {
        return callers.call(READ, "GetConfig", c -> manager.forward(s -> s.getConfig(request)));
    }

    @Override
    public Uni<SetConfigResponse> setConfig(SetConfigRequest request) {
        return callers.call(WRITE, "SetConfig", c -> manager.forward(s -> s.setConfig(
                request.toBuilder().setUpdatedBy(c.subject()).build())));
    }

    @Override
    public Uni<GetConfigHistoryResponse> getConfigHistory(GetConfigHistoryRequest request) {
        return callers.call(READ, "GetConfigHistory", c -> manager.forward(s -> s.getConfigHistory(request)));
    }

    @Override
    public Uni<ListCapabilitiesResponse> listCapabilities(ListCapabilitiesRequest request) {
        return callers.call(READ, "ListCapabilities", c -> manager.forward(s -> s.listCapabilities(request)));
    }

    @Override
    public Uni<InvokeCapabilityResponse> invokeCapability(InvokeCapabilityRequest request) {
        return callers.call(WRITE, "InvokeCapability", c -> manager.forward(s -> s.invokeCapability(request.toBuilder()
                .setPrincipal(c.subject())
                .setRequestId(request.getRequestId().isBlank() ? UUID.randomUUID().toString() : request.getRequestId())
                .build())));
    }

    @Override
    public Uni<GetLogsResponse> getLogs(GetLogsRequest request) {
        return callers.call(READ, "GetLogs", c -> manager.forward(s -> s.getLogs(request)));
    }

    /** Forwarded per call (gRPC clients are programs, few and long-lived; the sockets share a stream instead). */
    @Override
    public Multi<LogLine> streamLogs(StreamLogsRequest request) {
        return callers.stream(READ, "StreamLogs", c -> manager.stream(s -> s.streamLogs(request)));
    }

    @Override
    public Multi<StatusEvent> streamStatus(StreamStatusRequest request) {
        return callers.stream(READ, "StreamStatus", c -> manager.stream(s -> s.streamStatus(request)));
    }
}
