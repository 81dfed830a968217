package dev.bkg.model.grpc;

import dev.bkg.proto.model.v1.MutinyModelServiceGrpc;
import io.quarkus.grpc.GrpcService;

/**
 * Serves the bkg.model.v1.ModelService contract on the service's port. No RPC is built yet: each
 * answers the standard UNIMPLEMENTED status until the model-service issue (#6) builds it.
 */
@GrpcService
public class ModelGrpcService extends MutinyModelServiceGrpc.ModelServiceImplBase {
}
