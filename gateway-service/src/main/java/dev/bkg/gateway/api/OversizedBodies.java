package dev.bkg.gateway.api;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.quarkus.runtime.configuration.MemorySize;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

/**
 * A body announced larger than {@code quarkus.http.limits.max-body-size} gets a problem+json 413
 * like every other error, before Quarkus's own (plain) check further down the router would answer.
 * A chunked body that grows past the limit is still cut by Quarkus while it is read.
 */
@ApplicationScoped
public class OversizedBodies {

    private final long limit;

    OversizedBodies(@ConfigProperty(name = "quarkus.http.limits.max-body-size", defaultValue = "10M") MemorySize limit) {
        this.limit = limit.asLongValue();
    }

    void register(@Observes Router router) {
        router.route().order(Integer.MIN_VALUE + 100).handler(ctx -> {
            String length = ctx.request().getHeader("Content-Length");
            if (length != null && length.chars().allMatch(Character::isDigit) && length.length() < 19
                    && Long.parseLong(length) > limit) {
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
