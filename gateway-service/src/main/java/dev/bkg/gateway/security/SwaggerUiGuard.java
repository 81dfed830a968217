package dev.bkg.gateway.security;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import dev.bkg.gateway.api.Problem;
import dev.bkg.gateway.api.ProblemException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * Swagger UI ({@code /q/swagger-ui}) is for admins: its page needs an admin credential — the
 * {@code Authorization}/{@code x-api-key} headers or, from a browser, {@code ?access_token=} — while
 * its static files (the Swagger UI distribution) and the document it shows ({@code /q/openapi},
 * public like any API description) need none.
 */
@ApplicationScoped
public class SwaggerUiGuard {

    private final Authenticator authenticator;

    SwaggerUiGuard(Authenticator authenticator) {
        this.authenticator = authenticator;
    }

    void register(@Observes Router router) {
        for (String page : new String[] { "/q/swagger-ui", "/q/swagger-ui/", "/q/swagger-ui/index.html" }) {
            router.route(page).order(Integer.MIN_VALUE + 200).handler(this::guard);
        }
    }

    private void guard(RoutingContext ctx) {
        authenticator.authenticate(WebSocketAuth.credentialOf(ctx.request()), "admin", "Swagger UI").subscribe().with(
                admin -> ctx.next(),
                failure -> {
                    ProblemException problem = failure instanceof ProblemException p ? p
                            : ProblemException.unavailable("auth-service unavailable", 5);
                    ctx.response().setStatusCode(problem.status()).putHeader("Content-Type", Problem.MEDIA_TYPE)
                            .end(new JsonObject().put("type", "about:blank").put("title", problem.title())
                                    .put("status", problem.status()).put("detail", problem.getMessage()).encode());
                });
    }
}
