package dev.bkg.gateway;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;

/**
 * /api/plugins and the bus at /api/capabilities through the real gateway → gRPC → plugin manager →
 * a real plugin process (repoagent, Python) and back, with the scopes enforced on the way.
 */
@QuarkusTest
@WithTestResource(Backends.class)
@TestProfile(AuthResourceTest.ShortCache.class)
class PluginsResourceTest {

    static final String ANALYZABLE = Backends.REPO_ROOT.resolve("plugins/repoagent").toString();

    @Test
    void listsEverySeedPluginWithItsStatusAndCapabilities() {
        String admin = AuthResourceTest.admin();
        given().auth().oauth2(admin).when().get("/api/plugins").then().statusCode(200)
                .body("plugins.id", hasItems("apikeys", "llmserver", "candle", "brainml", "rustyface", "repoagent"))
                .body("plugins.find { it.id == 'repoagent' }.capabilities", hasItems("repo.analyze", "repo.patch"))
                .body("plugins.find { it.id == 'repoagent' }.transport", is("http"))
                .body("plugins.find { it.id == 'repoagent' }.configSchema.properties.allowedRoots.type", is("string"))
                .body("plugins.find { it.id == 'repoagent' }.status.state", notNullValue());
        given().auth().oauth2(admin).when().get("/api/plugins/nope").then().statusCode(404)
                .contentType("application/problem+json").body("detail", containsString("nope"));
    }

    @Test
    void startInvokeAndStopARealPluginThroughTheGateway() {
        String admin = AuthResourceTest.admin();
        given().auth().oauth2(admin).when().post("/api/plugins/repoagent/start?wait=true").then().statusCode(200)
                .body("state", is("RUNNING")).body("pid", greaterThan(0));
        given().auth().oauth2(admin).contentType(ContentType.JSON).body(Map.of("path", ANALYZABLE))
                .when().post("/api/capabilities/repo.analyze").then().statusCode(200)
                .header("X-Bkg-Plugin", "repoagent").header("X-Request-Id", notNullValue())
                .body("files", greaterThan(0));
        // the plugin's own refusal (a path outside its allowed roots) passes through with its status and message
        given().auth().oauth2(admin).contentType(ContentType.JSON).body(Map.of("path", "/etc"))
                .when().post("/api/capabilities/repo.analyze").then().statusCode(403)
                .contentType("application/problem+json").body("detail", containsString("repoagent"));
        given().auth().oauth2(admin).contentType(ContentType.JSON).body(Map.of())
                .when().post("/api/capabilities/no.such.thing").then().statusCode(404)
                .contentType("application/problem+json");
        given().auth().oauth2(admin).when().get("/api/plugins/repoagent/logs?limit=50").then().statusCode(200)
                .body("lines.text", hasItem(containsString("listening on")));

        given().auth().oauth2(admin).when().post("/api/plugins/repoagent/stop?wait=true").then().statusCode(200)
                .body("state", is("STOPPED"));
        given().auth().oauth2(admin).contentType(ContentType.JSON).body(Map.of("path", ANALYZABLE))
                .when().post("/api/capabilities/repo.analyze").then().statusCode(503)
                .header("Retry-After", notNullValue()).body("detail", containsString("repoagent"));
    }

    @Test
    void configIsValidatedFieldByFieldAndVersioned() {
        String admin = AuthResourceTest.admin();
        given().auth().oauth2(admin).contentType(ContentType.JSON).body(Map.of("maxBodyBytes", 5, "colour", "red"))
                .when().post("/api/plugins/repoagent/config").then().statusCode(400)
                .contentType("application/problem+json")
                .body("errors.field", hasItem("/maxBodyBytes"))
                .body("errors", not(empty()));
        int before = given().auth().oauth2(admin).when().get("/api/plugins/repoagent/config").then().statusCode(200)
                .extract().path("version");
        given().auth().oauth2(admin).contentType(ContentType.JSON).body(Map.of("maxBodyBytes", 65536))
                .when().post("/api/plugins/repoagent/config").then().statusCode(200);
        given().auth().oauth2(admin).when().get("/api/plugins/repoagent/config").then().statusCode(200)
                .body("version", equalTo(before + 1)).body("config.maxBodyBytes", is(65536))
                .body("updatedBy", containsString("admin"));
        given().auth().oauth2(admin).when().get("/api/plugins/repoagent/config/history").then().statusCode(200)
                .body("size()", greaterThan(0));
    }

    @Test
    void readersMayLookButNotControl() {
        String admin = AuthResourceTest.admin();
        String reader = AuthResourceTest.createKey(admin, Map.of("name", "plugin-reader", "scopes", List.of("plugins:read")))
                .then().statusCode(201).extract().path("key");
        String outsider = AuthResourceTest.createKey(admin, Map.of("name", "outsider", "scopes", List.of("inference")))
                .then().statusCode(201).extract().path("key");
        given().auth().oauth2(reader).when().get("/api/plugins/repoagent/status").then().statusCode(200);
        given().auth().oauth2(reader).when().post("/api/plugins/repoagent/start").then().statusCode(403)
                .contentType("application/problem+json").body("detail", containsString("plugins:write"));
        given().auth().oauth2(outsider).when().get("/api/plugins").then().statusCode(403);
        given().when().get("/api/plugins").then().statusCode(401);
    }
}
