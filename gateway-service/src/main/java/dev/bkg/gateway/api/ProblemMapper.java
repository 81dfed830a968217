package dev.bkg.gateway.api;

import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;

import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import com.fasterxml.jackson.core.JacksonException;

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

    @ServerExceptionMapper
    public Response unexpected(RuntimeException e) {
        LOG.error("unexpected failure", e);
        return new ProblemException(500, "Internal Server Error", "unexpected failure; see the gateway log").toResponse();
    }
}
