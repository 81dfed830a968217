package dev.bkg.gateway;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;

/** The gateway serves the built dashboard (module web) at / and lets the app route its own paths. */
@QuarkusTest
class DashboardRoutesTest {

    @Test
    void rootServesTheDashboardAndItsScripts() {
        String index = given().when().get("/").then().statusCode(200)
                .contentType(startsWith("text/html"))
                .header("Cache-Control", "no-cache")
                .body(containsString("<bkg-root>")).extract().asString();
        Matcher script = Pattern.compile("src=\"(main-[A-Z0-9]+\\.js)\"").matcher(index);
        if (!script.find()) {
            throw new AssertionError("index.html names no main script:\n" + index);
        }
        given().when().get("/" + script.group(1)).then().statusCode(200)
                .contentType(containsString("javascript"));
    }

    @Test
    void anAppPathReloadedInTheBrowserGetsTheApp() {
        given().accept("text/html").when().get("/plugins/brainml").then().statusCode(200)
                .contentType(startsWith("text/html"))
                .header("Cache-Control", "no-cache")
                .body(containsString("<bkg-root>"));
        given().when().get("/models").then().statusCode(200).body(containsString("<bkg-root>"));
    }

    @Test
    void apiPathsAndMissingFilesAreNotTheApp() {
        given().when().get("/api/no-such-thing").then().statusCode(404);
        given().when().get("/q/no-such-thing").then().statusCode(404);
        given().when().get("/no-such-file.js").then().statusCode(404);
        given().when().get("/api/plugins").then().statusCode(401)
                .contentType(startsWith("application/problem+json"))
                .body("status", equalTo(401));
    }
}
