package dev.bkg.gateway.api;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jakarta.ws.rs.core.Response;

/** Thrown anywhere in the gateway to answer a problem; {@link ProblemMapper} writes it. */
public class ProblemException extends RuntimeException {

    private final int status;
    private final String title;
    private final Map<String, Object> headers = new LinkedHashMap<>();
    private List<Problem.FieldError> errors = List.of();

    public ProblemException(int status, String title, String detail) {
        super(detail);
        this.status = status;
        this.title = title;
    }

    public ProblemException header(String name, Object value) {
        headers.put(name, value);
        return this;
    }

    public ProblemException errors(List<Problem.FieldError> fieldErrors) {
        this.errors = List.copyOf(fieldErrors);
        return this;
    }

    public Response toResponse() {
        return Problem.response(status, title, getMessage(), headers, errors);
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }

    public static ProblemException badRequest(String detail) {
        return new ProblemException(400, "Bad Request", detail);
    }

    public static ProblemException unauthorized(String detail) {
        return new ProblemException(401, "Unauthorized", detail).header("WWW-Authenticate", "Bearer");
    }

    public static ProblemException forbidden(String detail) {
        return new ProblemException(403, "Forbidden", detail);
    }

    public static ProblemException unavailable(String detail, int retryAfterSeconds) {
        return new ProblemException(503, "Service Unavailable", detail).header("Retry-After", retryAfterSeconds);
    }
}
