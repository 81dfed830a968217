package dev.bkg.inference.grpc;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import dev.bkg.inference.domain.InferenceSettings;
import dev.bkg.inference.domain.SemanticIndex;
import io.quarkus.runtime.StartupEvent;

/** Role index (brainml) rebuilds its collections' search indexes from the database at start; ready after. */
@Readiness
@ApplicationScoped
public class IndexReadiness implements HealthCheck {

    private final SemanticIndex index;
    private final boolean indexes;

    IndexReadiness(SemanticIndex index, InferenceSettings settings) {
        this.index = index;
        this.indexes = settings.role().equals("index");
    }

    void onStart(@Observes StartupEvent started) {
        if (indexes) {
            Thread loader = new Thread(index::loadAll, "semantic-index-load");
            loader.setDaemon(true);
            loader.start();
        }
    }

    @Override
    public HealthCheckResponse call() {
        String problem = indexes ? index.notReady() : null;
        return HealthCheckResponse.named("semantic index").status(problem == null)
                .withData("problem", problem == null ? "" : problem).build();
    }
}
