package dev.bkg.gateway.api;

import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;

import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;

/** Every failure leaves the gateway as problem+json: ours, JAX-RS's own (404, 405, 415, ...), bad JSON, the unexpected. */
public class ProblemMapper {

    private static final Logger LOG = Logger.getLogger(ProblemMapper.class);

    @ServerExceptionMapper
    public Response problem(ProblemException e) {
        return e.toResponse();
    }

    @ServerExceptionMapper
    public Response webApplication(WebApplicationException e) {
        Response.StatusType status = e.getResponse().getStatusInfo();
        return new ProblemException(status.getStatusCode(), status.getReasonPhrase(), e.getMessage()).toResponse();
    }

    @ServerExceptionMapper
    public Response badJson(JacksonException e) {
        return ProblemException.badRequest("the body is not the JSON this route takes: " + e.getOriginalMessage())
                .toResponse();
    }

    /** Wrong JSON types for a typed body: more specific than JacksonException, so Quarkus's own (non-problem) mapper would win. */
    @ServerExceptionMapper
    public Response wrongJsonType(MismatchedInputException e) {
        String field = e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .reduce((a, b) -> b.startsWith("[") ? a + b : a + "." + b).orElse("");
        return ProblemException.badRequest(field.isEmpty() ? "the body is not the JSON object this route takes"
                : "the body's field " + field + " has the wrong type").toResponse();
    }

    @ServerExceptionMapper
    public Response unexpected(RuntimeException e) {
        LOG.error("unexpected failure", e);
        return new ProblemException(500, "Internal Server Error", "unexpected failure; see the gateway log").toResponse();
    }
}
