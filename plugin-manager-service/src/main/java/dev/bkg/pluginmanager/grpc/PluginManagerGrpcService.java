package dev.bkg.pluginmanager.grpc;

import dev.bkg.proto.pluginmanager.v1.MutinyPluginManagerGrpc;
import io.quarkus.grpc.GrpcService;

/**
 * Serves the bkg.pluginmanager.v1.PluginManager contract on the service's port. No RPC is built
 * yet: each answers the standard UNIMPLEMENTED status until the plugin-manager issue (#4) builds it.
 */
@GrpcService
public class PluginManagerGrpcService extends MutinyPluginManagerGrpc.PluginManagerImplBase {
}
