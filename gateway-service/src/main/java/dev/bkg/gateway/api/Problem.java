package dev.bkg.gateway.api;

import java.util.Map;

import jakarta.ws.rs.core.Response;

import com.fasterxml.jackson.annotation.JsonInclude;

/** An RFC 7807 problem body ({@code application/problem+json}): every error the gateway answers. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(String type, String title, int status, String detail, String instance) {

    public static final String MEDIA_TYPE = "application/problem+json";

    public static Response response(int status, String title, String detail, Map<String, Object> headers) {
        Response.ResponseBuilder builder = Response.status(status).type(MEDIA_TYPE)
                .entity(new Problem("about:blank", title, status, detail, null));
        headers.forEach(builder::header);
        return builder.build();
    }
}
