package dev.bkg.inference.domain;

/** Why a request cannot be served, in terms the API layers map to their own statuses. */
public final class Refusal extends RuntimeException {

    public enum Reason {
        INVALID, // 400 / INVALID_ARGUMENT
        NOT_FOUND, // 404 / NOT_FOUND
        CONFLICT, // 409 / ALREADY_EXISTS
        TOO_LARGE, // 413 / OUT_OF_RANGE
        OVERLOADED, // 429 / RESOURCE_EXHAUSTED
        NOT_READY, // 503 / UNAVAILABLE
        PRECONDITION // 409 / FAILED_PRECONDITION: the request needs something installed first (a chat model)
    }

    public final Reason reason;

    public Refusal(Reason reason, String message) {
        super(message, null, false, false);
        this.reason = reason;
    }
}
