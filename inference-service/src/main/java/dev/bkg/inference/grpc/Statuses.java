package dev.bkg.inference.grpc;

import java.util.concurrent.CompletionException;

import org.jboss.logging.Logger;

import dev.bkg.inference.domain.Refusal;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** Failures of the domain as the gRPC statuses the contracts promise. */
final class Statuses {

    private static final Logger LOG = Logger.getLogger(Statuses.class);

    private Statuses() {
    }

    static StatusRuntimeException of(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof StatusRuntimeException status) {
            return status;
        }
        if (cause instanceof Refusal refusal) {
            Status status = switch (refusal.reason) {
                case INVALID -> Status.INVALID_ARGUMENT;
                case NOT_FOUND -> Status.NOT_FOUND;
                case CONFLICT -> Status.ALREADY_EXISTS;
                case TOO_LARGE -> Status.OUT_OF_RANGE;
                case OVERLOADED -> Status.RESOURCE_EXHAUSTED;
                case NOT_READY -> Status.UNAVAILABLE;
                case PRECONDITION -> Status.FAILED_PRECONDITION;
            };
            return status.withDescription(refusal.getMessage()).asRuntimeException();
        }
        LOG.error("inference failed", cause);
        return Status.INTERNAL.withDescription("inference failed: " + cause.getClass().getSimpleName()
                + (cause.getMessage() == null ? "" : ": " + cause.getMessage())).asRuntimeException();
    }
}
