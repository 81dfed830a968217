package dev.bkg.gateway.api;

import java.io.IOException;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.quarkus.runtime.configuration.MemorySize;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * Requests too large for the gateway get a problem+json answer like every other error, not the
 * server's empty one: a URI longer than {@code bkg.gateway.max-uri-length} (8 KiB) a 414, headers
 * larger than {@code bkg.gateway.max-header-size} (16 KiB) a 431 (the HTTP server's own limits,
 * above these, answer bare only past 64 KiB); a path with a control character (%00, %0A, ...) a 400.
 * A body announced larger than
 * {@code bkg.gateway.max-body-size} gets a 413, before Quarkus's own (plain) check further down the
 * router would answer. The bulk
 * routes — many texts at once — take up to {@code bkg.gateway.bulk-max-body-size}, so the service
 * behind them answers with its own, named limits. A chunked body is cut by Quarkus at
 * {@code quarkus.http.limits.max-body-size} while it is read.
 */
@ApplicationScoped
public class RequestLimits {

    /** POST routes that carry many texts (embeddings, brainml documents), photos (the face routes) or tensors (infer). */
    static final Pattern BULK = Pattern.compile("/v1/embeddings|/api/brainml/collections/[^/]+/documents"
            + "|/api/face/.+|/api/v1/(detection|recognition|verification)/.+|/v2/models/[^/]+/infer");

    /** %00-%1F and %7F: a control character, percent-encoded in the path. */
    private static final Pattern ENCODED_CONTROL = Pattern.compile("%(?:[01][0-9a-fA-F]|7[fF])");

    private final long limit;
    private final long bulkLimit;
    private final int maxUriLength;
    private final long maxHeaderSize;

    RequestLimits(@ConfigProperty(name = "bkg.gateway.max-body-size", defaultValue = "1M") MemorySize limit,
            @ConfigProperty(name = "bkg.gateway.bulk-max-body-size", defaultValue = "16M") MemorySize bulkLimit,
            @ConfigProperty(name = "bkg.gateway.max-uri-length", defaultValue = "8192") int maxUriLength,
            @ConfigProperty(name = "bkg.gateway.max-header-size", defaultValue = "16K") MemorySize maxHeaderSize) {
        this.limit = limit.asLongValue();
        this.bulkLimit = bulkLimit.asLongValue();
        this.maxUriLength = maxUriLength;
        this.maxHeaderSize = maxHeaderSize.asLongValue();
    }

    void register(@Observes Router router) {
        router.route().order(Integer.MIN_VALUE + 100).handler(ctx -> {
            if (ctx.request().uri().length() > maxUriLength) {
                refuse(ctx, 414, "URI Too Long", "the URI is longer than the " + maxUriLength + " characters this gateway accepts");
                return;
            }
            if (ENCODED_CONTROL.matcher(ctx.request().path()).find() || hasControlCharacter(ctx.request().path())) {
                // no id or name has one, and a database would choke on a NUL: refused before any service sees it
                refuse(ctx, 400, "Bad Request", "the path contains a control character");
                return;
            }
            long headers = 0;
            for (var header : ctx.request().headers()) {
                headers += header.getKey().length() + header.getValue().length() + 4;
            }
            if (headers > maxHeaderSize) {
                refuse(ctx, 431, "Request Header Fields Too Large",
                        "the headers are larger than the " + maxHeaderSize + " bytes this gateway accepts");
                return;
            }
            String length = ctx.request().getHeader("Content-Length");
            long announced = length != null && length.length() < 19 && length.chars().allMatch(Character::isDigit)
                    ? Long.parseLong(length) : -1;
            // the route is looked at only for a body over the common limit: most requests never match a pattern
            long limit = announced > this.limit && ctx.request().method() == HttpMethod.POST
                    && BULK.matcher(ctx.normalizedPath()).matches() ? bulkLimit : this.limit;
            if (announced > limit) {
                refuse(ctx, 413, "Payload Too Large", "the body is larger than the " + limit + " bytes this gateway accepts");
                return;
            }
            ctx.next();
        });
        // a body that cannot be read (a multipart cut short, ...) is the client's fault, not a 500
        router.route().order(Integer.MIN_VALUE + 100).failureHandler(ctx -> {
            if (ctx.failure() instanceof IOException unreadable && !ctx.response().headWritten()) {
                refuse(ctx, 400, "Bad Request", "the body could not be read: " + unreadable.getMessage());
            } else {
                ctx.next();
            }
        });
    }

    private static boolean hasControlCharacter(String path) {
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                return true;
            }
        }
        return false;
    }

    private static void refuse(RoutingContext ctx, int status, String title, String detail) {
        ctx.response().setStatusCode(status).putHeader("Content-Type", Problem.MEDIA_TYPE)
                .putHeader("Connection", "close")
                .end(new JsonObject().put("type", "about:blank").put("title", title).put("status", status)
                        .put("detail", detail).encode())
                // an unread body would otherwise keep the connection (and a waiting client) hanging
                .onComplete(done -> ctx.request().connection().close());
    }
}
