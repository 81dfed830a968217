package dev.bkg.telemetry.grpc;

import dev.bkg.proto.telemetry.v1.MutinyTelemetryServiceGrpc;
import io.quarkus.grpc.GrpcService;

/**
 * Serves the bkg.telemetry.v1.TelemetryService contract on the service's port. No RPC is built
 * yet: each answers the standard UNIMPLEMENTED status until the telemetry issue (#5) builds it.
 */
@GrpcService
public class TelemetryGrpcService extends MutinyTelemetryServiceGrpc.TelemetryServiceImplBase {
}
