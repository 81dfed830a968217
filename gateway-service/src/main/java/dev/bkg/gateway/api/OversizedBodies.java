package dev.bkg.gateway.api;

import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.quarkus.runtime.configuration.MemorySize;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

/**
 * A body announced larger than {@code bkg.gateway.max-body-size} gets a problem+json 413 like every
 * other error, before Quarkus's own (plain) check further down the router would answer. The bulk
 * routes — many texts at once — take up to {@code bkg.gateway.bulk-max-body-size}, so the service
 * behind them answers with its own, named limits. A chunked body is cut by Quarkus at
 * {@code quarkus.http.limits.max-body-size} while it is read.
 */
@ApplicationScoped
public class OversizedBodies {

    /** POST routes that carry many texts (embeddings, brainml documents), photos (the face routes) or tensors (infer). */
    static final Pattern BULK = Pattern.compile("/v1/embeddings|/api/brainml/collections/[^/]+/documents"
            + "|/api/face/.+|/api/v1/(detection|recognition|verification)/.+|/v2/models/[^/]+/infer");

    private final long limit;
    private final long bulkLimit;

    OversizedBodies(@ConfigProperty(name = "bkg.gateway.max-body-size", defaultValue = "1M") MemorySize limit,
            @ConfigProperty(name = "bkg.gateway.bulk-max-body-size", defaultValue = "16M") MemorySize bulkLimit) {
        this.limit = limit.asLongValue();
        this.bulkLimit = bulkLimit.asLongValue();
    }

    void register(@Observes Router router) {
        router.route().order(Integer.MIN_VALUE + 100).handler(ctx -> {
            String length = ctx.request().getHeader("Content-Length");
            long announced = length != null && length.length() < 19 && length.chars().allMatch(Character::isDigit)
                    ? Long.parseLong(length) : -1;
            // the route is looked at only for a body over the common limit: most requests never match a pattern
            long limit = announced > this.limit && ctx.request().method() == HttpMethod.POST
                    && BULK.matcher(ctx.normalizedPath()).matches() ? bulkLimit : this.limit;
            if (announced > limit) {
                ctx.response().setStatusCode(413).putHeader("Content-Type", Problem.MEDIA_TYPE)
                        .putHeader("Connection", "close")
                        .end(new JsonObject().put("type", "about:blank").put("title", "Payload Too Large").put("status", 413)
                                .put("detail", "the body is larger than the " + limit + " bytes this gateway accepts")
                                .encode())
                        // the unread body would otherwise keep the connection (and a waiting client) hanging
                        .onComplete(done -> ctx.request().connection().close());
                return;
            }
            ctx.next();
        });
    }
}
