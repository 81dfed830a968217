package dev.bkg.face.grpc;

import org.jboss.logging.Logger;

import dev.bkg.face.domain.Refusal;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** Failures of the domain as the gRPC statuses the contract promises. */
final class Statuses {

    private static final Logger LOG = Logger.getLogger(Statuses.class);

    private Statuses() {
    }

    static StatusRuntimeException of(Throwable failure) {
        if (failure instanceof StatusRuntimeException status) {
            return status;
        }
        if (failure instanceof Refusal refusal) {
            Status status = switch (refusal.reason) {
                case INVALID -> Status.INVALID_ARGUMENT;
                case NOT_FOUND -> Status.NOT_FOUND;
                case CONFLICT -> Status.ALREADY_EXISTS;
                case NO_FACE -> Status.FAILED_PRECONDITION;
                case TOO_LARGE -> Status.OUT_OF_RANGE;
                case OVERLOADED -> Status.RESOURCE_EXHAUSTED;
                case NOT_READY -> Status.UNAVAILABLE;
            };
            return status.withDescription(refusal.getMessage()).asRuntimeException();
        }
        LOG.error("face request failed", failure);
        return Status.INTERNAL.withDescription("face request failed: " + failure.getClass().getSimpleName()
                + (failure.getMessage() == null ? "" : ": " + failure.getMessage())).asRuntimeException();
    }
}
