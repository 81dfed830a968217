package dev.bkg.gateway.api;

import java.util.List;
import java.util.Map;

import jakarta.ws.rs.core.Response;

import com.fasterxml.jackson.annotation.JsonInclude;

/** An RFC 7807 problem body ({@code application/problem+json}): every error the gateway answers. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(String type, String title, int status, String detail, String instance, List<FieldError> errors) {

    /** One invalid field (a JSON pointer into the request body) and why: the RFC 7807 extension member "errors". */
    public record FieldError(String field, String message) {
    }

    public static final String MEDIA_TYPE = "application/problem+json";

    public static Response response(int status, String title, String detail, Map<String, Object> headers,
            List<FieldError> errors) {
        Response.ResponseBuilder builder = Response.status(status).type(MEDIA_TYPE)
                .entity(new Problem("about:blank", title, status, detail, null, errors == null || errors.isEmpty() ? null : errors));
        headers.forEach(builder::header);
        return builder.build();
    }
}
