package dev.bkg.telemetryreporter;

import java.util.List;

import dev.bkg.proto.telemetry.v1.Sample;
import io.smallrye.mutiny.Uni;

/** Where reported samples go: telemetry-service over gRPC ({@link GrpcSampleSender}), or its own store in itself. */
public interface SampleSender {

    Uni<Void> send(List<Sample> samples);
}
