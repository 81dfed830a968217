package dev.bkg.gateway.security;

import java.util.function.UnaryOperator;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import dev.bkg.gateway.api.ProblemException;
import io.smallrye.mutiny.Uni;

/**
 * Who is calling and whether they may: the one path every entry (REST routes, WebSocket
 * handshakes, public gRPC calls) takes from a credential to a {@link CallerPrincipal} with the
 * needed scope. Failures are {@link ProblemException}s (401, 403, 503) each entry turns into its
 * own protocol's answer. Audit lines name the caller and the route, never the credential.
 */
@ApplicationScoped
public class Authenticator {

    private static final Logger AUDIT = Logger.getLogger("dev.bkg.gateway.audit");

    private final CredentialCache credentials;

    Authenticator(CredentialCache credentials) {
        this.credentials = credentials;
    }

    /** {@code scope} null: any authenticated caller; {@code what} names the call for the audit log. */
    public Uni<CallerPrincipal> authenticate(String credential, String scope, String what) {
        if (credential == null) {
            return Uni.createFrom().failure(ProblemException
                    .unauthorized("send a credential: Authorization: Bearer <API key or session token>, or x-api-key"));
        }
        return credentials.validate(credential).map(validation -> {
            if (!validation.getValid()) {
                String reason = validation.getReason();
                AUDIT.infof("denied %s: %s credential", what, reason);
                throw ProblemException.unauthorized("expired".equals(reason) || "revoked".equals(reason)
                        ? "the credential is " + reason : "the credential is not valid");
            }
            CallerPrincipal principal = CallerPrincipal.of(validation.getPrincipal(), credential);
            if (scope != null && !principal.hasScope(scope)) {
                AUDIT.infof("denied %s to %s: needs scope %s", what, principal.subject(), scope);
                throw ProblemException.forbidden("this needs the scope '" + scope + "'");
            }
            return principal;
        });
    }

    /**
     * The credential in {@code Authorization: Bearer <credential>} or {@code x-api-key}, read through
     * {@code header} (a header name to its value, null when absent); null when there is none.
     */
    public static String credentialFrom(UnaryOperator<String> header) {
        String authorization = header.apply("Authorization");
        if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            String token = authorization.substring(7).trim();
            return token.isEmpty() ? null : token;
        }
        String apiKey = header.apply("x-api-key");
        return apiKey == null || apiKey.isBlank() ? null : apiKey.trim();
    }
}
