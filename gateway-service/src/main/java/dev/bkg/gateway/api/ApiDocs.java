package dev.bkg.gateway.api;

import java.util.List;
import java.util.Map;

import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.Components;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.Operation;
import org.eclipse.microprofile.openapi.models.PathItem;
import org.eclipse.microprofile.openapi.models.media.Schema;
import org.eclipse.microprofile.openapi.models.responses.APIResponses;
import org.eclipse.microprofile.openapi.models.security.SecurityScheme;

/**
 * Completes the gateway's OpenAPI document ({@code /q/openapi}) in one place rather than on every
 * route: the two ways to authenticate (a bearer session token or API key, or {@code x-api-key}) as
 * the default of every operation — the public ones say {@code security: []} — and the problem
 * answers every route can give, each an RFC 7807 {@code application/problem+json} body.
 */
public class ApiDocs implements OASFilter {

    static final String PROBLEM = "Problem";
    private static final Map<String, String> EVERY_ROUTE = Map.of(
            "400", "Bad Request: a parameter or the body is invalid (errors names the fields)",
            "404", "Not Found: no such thing",
            "429", "Too Many Requests: the caller's rate limit (Retry-After)",
            "503", "Service Unavailable: the service behind this route is not running (Retry-After)");
    private static final Map<String, String> AUTHENTICATED = Map.of(
            "401", "Unauthorized: no valid credential",
            "403", "Forbidden: the credential lacks the route's scope");
    private static final Map<String, String> WITH_BODY = Map.of(
            "413", "Payload Too Large",
            "415", "Unsupported Media Type");

    @Override
    public void filterOpenAPI(OpenAPI openAPI) {
        if (openAPI.getComponents() == null) {
            openAPI.setComponents(OASFactory.createComponents());
        }
        Components components = openAPI.getComponents();
        components.addSchema(PROBLEM, problemSchema());
        components.addSecurityScheme("bearer", OASFactory.createSecurityScheme().type(SecurityScheme.Type.HTTP)
                .scheme("bearer").description("a session token (POST /api/auth/login) or an API key"));
        components.addSecurityScheme("apiKey", OASFactory.createSecurityScheme().type(SecurityScheme.Type.APIKEY)
                .in(SecurityScheme.In.HEADER).name("x-api-key").description("an API key"));
        openAPI.setSecurity(List.of(OASFactory.createSecurityRequirement().addScheme("bearer"),
                OASFactory.createSecurityRequirement().addScheme("apiKey")));
        if (openAPI.getPaths() == null) {
            return;
        }
        for (PathItem path : openAPI.getPaths().getPathItems().values()) {
            path.getOperations().forEach((method, operation) -> addProblems(method, operation));
        }
    }

    private static void addProblems(PathItem.HttpMethod method, Operation operation) {
        if (operation.getResponses() == null) {
            operation.setResponses(OASFactory.createAPIResponses());
        }
        APIResponses responses = operation.getResponses();
        boolean isPublic = operation.getSecurity() != null && operation.getSecurity().isEmpty();
        EVERY_ROUTE.forEach((status, description) -> addProblem(responses, status, description));
        if (!isPublic) {
            AUTHENTICATED.forEach((status, description) -> addProblem(responses, status, description));
        }
        if (operation.getRequestBody() != null) {
            WITH_BODY.forEach((status, description) -> addProblem(responses, status, description));
        }
    }

    /** Adds the answer, or its problem body where the generated one has none (SmallRye's own "400"). */
    private static void addProblem(APIResponses responses, String status, String description) {
        var problem = OASFactory.createContent().addMediaType(Problem.MEDIA_TYPE, OASFactory.createMediaType()
                .schema(OASFactory.createSchema().ref(PROBLEM)));
        var existing = responses.getAPIResponse(status);
        if (existing == null) {
            responses.addAPIResponse(status, OASFactory.createAPIResponse().description(description).content(problem));
        } else if (existing.getContent() == null || existing.getContent().getMediaTypes().isEmpty()) {
            existing.description(description).content(problem);
        }
    }

    private static Schema problemSchema() {
        Schema string = OASFactory.createSchema().addType(Schema.SchemaType.STRING);
        return OASFactory.createSchema().addType(Schema.SchemaType.OBJECT)
                .description("an RFC 7807 problem")
                .addProperty("type", string).addProperty("title", string)
                .addProperty("status", OASFactory.createSchema().addType(Schema.SchemaType.INTEGER))
                .addProperty("detail", string).addProperty("instance", string)
                .addProperty("errors", OASFactory.createSchema().addType(Schema.SchemaType.ARRAY)
                        .items(OASFactory.createSchema().addType(Schema.SchemaType.OBJECT)
                                .addProperty("field", string).addProperty("message", string)))
                .required(List.of("title", "status"));
    }
}
