package dev.bkg.gateway.security;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A route under /api, /v1 or /v2 that needs no credential (login, the /v2 health checks); it is
 * rate-limited per client address. Such a route also carries an empty {@code @SecurityRequirements},
 * so that /q/openapi shows it public (ApiFuzzTest checks the two agree).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface PublicRoute {
}
