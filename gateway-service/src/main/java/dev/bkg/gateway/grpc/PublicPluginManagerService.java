package dev.bkg.gateway.grpc;

import dev.bkg.proto.pluginmanager.v1.MutinyPluginManagerGrpc;
import io.quarkus.grpc.GrpcService;

/**
 * The gateway's public gRPC API starts with the plugin manager's contract. Nothing is forwarded
 * yet, because every public call must first be authenticated (auth issue #3): until then each RPC
 * answers the standard UNIMPLEMENTED status.
 */
@GrpcService
public class PublicPluginManagerService extends MutinyPluginManagerGrpc.PluginManagerImplBase {
}
