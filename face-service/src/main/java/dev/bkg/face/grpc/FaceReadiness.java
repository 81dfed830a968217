package dev.bkg.face.grpc;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import dev.bkg.face.domain.FaceModels;
import dev.bkg.face.domain.Gallery;

/** Ready once the three face models are loaded and the gallery has been read from the database. */
@Readiness
@ApplicationScoped
public class FaceReadiness implements HealthCheck {

    private final FaceModels models;
    private final Gallery gallery;

    FaceReadiness(FaceModels models, Gallery gallery) {
        this.models = models;
        this.gallery = gallery;
    }

    @Override
    public HealthCheckResponse call() {
        String problem = models.problem() != null ? models.problem() : gallery.problem();
        return HealthCheckResponse.named("face-models").status(problem == null)
                .withData("provider", models.provider())
                .withData("faces", gallery.faceCount())
                .withData("search", gallery.searchUsesGraph() ? "hnsw" : "exact")
                .withData("problem", problem == null ? "" : problem).build();
    }
}
