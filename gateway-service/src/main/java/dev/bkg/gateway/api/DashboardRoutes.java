package dev.bkg.gateway.api;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * The dashboard (module web, served from META-INF/resources) is a single-page app: a GET for one of
 * its own paths ({@code /plugins/brainml}, {@code /models}) that is not a file answers index.html,
 * so a reload or a shared link opens the right page. The API, sockets, gRPC and Quarkus's own paths
 * keep their answers (an unknown /api path stays a 404 problem). index.html is never cached, so a new
 * build reaches browsers at once; its hashed scripts may be.
 */
@ApplicationScoped
public class DashboardRoutes {

    static final List<String> NOT_THE_APP = List.of("/api/", "/v1/", "/v2/", "/ws/", "/q/");

    void register(@Observes Router router) {
        router.route().order(Integer.MIN_VALUE + 200).handler(this::route);
    }

    private void route(RoutingContext ctx) {
        HttpMethod method = ctx.request().method();
        String path = ctx.normalizedPath();
        if (method != HttpMethod.GET && method != HttpMethod.HEAD) {
            ctx.next();
            return;
        }
        if (path.equals("/") || path.equals("/index.html")) {
            noCache(ctx);
            ctx.next();
        } else if (isAppPath(path)) {
            noCache(ctx);
            ctx.reroute("/");
        } else {
            ctx.next();
        }
    }

    /** A path the app routes itself: not an API prefix and not a file (its last segment has no dot). */
    static boolean isAppPath(String path) {
        if (NOT_THE_APP.stream().anyMatch(prefix -> path.startsWith(prefix) || path.equals(prefix.substring(0, prefix.length() - 1)))) {
            return false;
        }
        String last = path.substring(path.lastIndexOf('/') + 1);
        return !last.contains(".");
    }

    private static void noCache(RoutingContext ctx) {
        ctx.addHeadersEndHandler(v -> ctx.response().headers().set("Cache-Control", "no-cache"));
    }
}
