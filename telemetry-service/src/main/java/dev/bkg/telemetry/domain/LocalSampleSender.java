package dev.bkg.telemetry.domain;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import dev.bkg.proto.telemetry.v1.Sample;
import dev.bkg.telemetryreporter.SampleSender;
import io.smallrye.mutiny.Uni;

/** telemetry-service reports its own figures straight into its store, not to itself over gRPC. */
@ApplicationScoped
public class LocalSampleSender implements SampleSender {

    private final SampleIntake intake;

    LocalSampleSender(SampleIntake intake) {
        this.intake = intake;
    }

    @Override
    public Uni<Void> send(List<Sample> samples) {
        return Uni.createFrom().item(() -> {
            intake.accept(samples);
            return null;
        });
    }
}
