package dev.bkg.gateway.grpc;

import dev.bkg.gateway.api.ProblemException;
import dev.bkg.peerhealth.PeerReconnect;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.smallrye.mutiny.Uni;

/**
 * gRPC statuses from a backend service turned into the problems the REST API answers, and problems
 * turned back into statuses for the public gRPC API.
 */
public final class GrpcProblems {

    public static final int RETRY_AFTER_SECONDS = 5;

    private GrpcProblems() {
    }

    /**
     * A call on {@code stub} to {@code service} as every gateway client makes it: a failure wakes a
     * backed-off channel (PeerReconnect) and reaches the REST caller as a problem.
     */
    public static <T> Uni<T> asProblems(Uni<T> call, Object stub, String service) {
        return call.onFailure().invoke(failure -> PeerReconnect.afterFailure(stub, failure))
                .onFailure(StatusRuntimeException.class)
                .transform(e -> toProblem(((StatusRuntimeException) e).getStatus(), service));
    }

    private static final java.util.regex.Pattern TRANSPORT = java.util.regex.Pattern.compile(
            "(?i)rst_stream|end-of-stream|\\beos\\b|connection|closed|reset|goaway|stream (was )?(cancelled|reset)");

    /** INTERNAL because the connection broke (a local cause, or the transport's own words), not the peer's answer. */
    static boolean brokenTransport(Status status) {
        return status.getCause() != null || status.getDescription() == null
                || TRANSPORT.matcher(status.getDescription()).find();
    }

    public static ProblemException toProblem(Status status, String service) {
        ProblemException problem = problemOf(status, service);
        problem.initCause(status.asRuntimeException()); // the backend's own code, for the public gRPC API
        return problem;
    }

    private static ProblemException problemOf(Status status, String service) {
        String detail = status.getDescription() == null ? status.getCode().name() : status.getDescription();
        return switch (status.getCode()) {
            case INVALID_ARGUMENT -> ProblemException.badRequest(detail);
            // a request over a size limit the service names (inputs, characters, tokens)
            case OUT_OF_RANGE -> new ProblemException(413, "Payload Too Large", detail);
            case UNAUTHENTICATED -> ProblemException.unauthorized(detail);
            case PERMISSION_DENIED -> ProblemException.forbidden(detail);
            case NOT_FOUND -> new ProblemException(404, "Not Found", detail);
            case ALREADY_EXISTS, FAILED_PRECONDITION, ABORTED -> new ProblemException(409, "Conflict", detail);
            // a capability a plugin declares but does not serve (yet)
            case UNIMPLEMENTED -> new ProblemException(501, "Not Implemented", detail);
            case RESOURCE_EXHAUSTED -> new ProblemException(429, "Too Many Requests", detail)
                    .header("Retry-After", RETRY_AFTER_SECONDS);
            // a status the service sent has no local cause; a transport failure (the service is down) has one
            case UNAVAILABLE -> ProblemException.unavailable(status.getCause() == null && status.getDescription() != null
                    ? detail : service + " is not reachable; retry shortly", RETRY_AFTER_SECONDS);
            case DEADLINE_EXCEEDED, CANCELLED -> ProblemException
                    .unavailable(service + " did not answer in time; retry shortly", RETRY_AFTER_SECONDS);
            // a peer killed mid-call breaks its HTTP/2 stream, which the client reports as INTERNAL
            case INTERNAL -> brokenTransport(status) ? ProblemException
                    .unavailable(service + " went away mid-call; retry shortly", RETRY_AFTER_SECONDS)
                    : new ProblemException(502, "Bad Gateway", service + " failed: INTERNAL: " + detail);
            // UNKNOWN carries a plugin's own failure through the bus: its message, as a bad gateway
            default -> new ProblemException(502, "Bad Gateway", status.getCode() == Status.Code.UNKNOWN ? detail
                    : service + " failed: " + status.getCode());
        };
    }

    /**
     * A problem as the public gRPC API answers it: the backend's own code when the problem came from
     * one (ALREADY_EXISTS stays ALREADY_EXISTS), UNAVAILABLE whenever it should be retried, else the
     * code for the HTTP status.
     */
    public static Status toStatus(ProblemException problem) {
        Status.Code code;
        if (problem.status() == 503) {
            code = Status.Code.UNAVAILABLE;
        } else if (problem.getCause() instanceof StatusRuntimeException backend) {
            code = backend.getStatus().getCode();
        } else {
            code = switch (problem.status()) {
                case 400, 422 -> Status.Code.INVALID_ARGUMENT;
                case 401 -> Status.Code.UNAUTHENTICATED;
                case 403 -> Status.Code.PERMISSION_DENIED;
                case 404 -> Status.Code.NOT_FOUND;
                case 409 -> Status.Code.FAILED_PRECONDITION;
                case 413 -> Status.Code.OUT_OF_RANGE;
                case 429 -> Status.Code.RESOURCE_EXHAUSTED;
                case 501 -> Status.Code.UNIMPLEMENTED;
                case 504 -> Status.Code.DEADLINE_EXCEEDED;
                default -> problem.status() < 500 ? Status.Code.INVALID_ARGUMENT : Status.Code.INTERNAL;
            };
        }
        return Status.fromCode(code).withDescription(problem.getMessage());
    }
}
