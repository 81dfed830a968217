package dev.bkg.inference.grpc;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import dev.bkg.inference.domain.Embeddings;
import dev.bkg.inference.domain.InferenceSettings;
import io.quarkus.runtime.StartupEvent;

/**
 * The roles that embed (llm serves embeddings, index embeds its documents) load the default
 * embedding model at start and are ready once it is loaded; until then the check says why.
 */
@Readiness
@ApplicationScoped
public class EmbeddingReadiness implements HealthCheck {

    private final Embeddings embeddings;
    private final boolean embeds;

    EmbeddingReadiness(Embeddings embeddings, InferenceSettings settings) {
        this.embeddings = embeddings;
        this.embeds = !settings.role().equals("runner");
    }

    void onStart(@Observes StartupEvent started) {
        if (embeds) {
            embeddings.preloadDefault();
        }
    }

    @Override
    public HealthCheckResponse call() {
        if (!embeds) {
            return HealthCheckResponse.up("embedding model");
        }
        String problem = embeddings.defaultProblem();
        return HealthCheckResponse.named("embedding model").status(problem == null)
                .withData("model", embeddings.defaultModel()).withData("problem", problem == null ? "" : problem).build();
    }
}
