package dev.bkg.model.domain;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready once the catalog and the disk were reconciled and the built-in models are installed. */
@Readiness
@ApplicationScoped
public class CatalogReadiness implements HealthCheck {

    private final Models models;

    CatalogReadiness(Models models) {
        this.models = models;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("model catalog").status(models.booted())
                .withData("state", models.booted() ? "reconciled, built-in models installed" : "starting").build();
    }
}
