package dev.bkg.gateway;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * The semantic index through the gateway's REST API → gRPC → brainml (inference-service in role
 * index, its own process) → PostgreSQL + Lucene: index, query with a filter, train, and the same
 * answers after brainml is killed and started again (rebuilt from the database).
 */
@QuarkusTest
@WithTestResource(Backends.class)
@TestProfile(AuthResourceTest.ShortCache.class)
class BrainmlTest {

    @Backends.Inject
    Backends backends;

    @Test
    void indexQueryTrainAndSurviveARestart() {
        String admin = AuthResourceTest.admin();
        String key = AuthResourceTest.createKey(admin, Map.of("name", "brainml-user", "scopes", List.of("inference")))
                .then().statusCode(201).extract().path("key");
        given().header("x-api-key", key).contentType("application/json").body(Map.of("name", "kb"))
                .when().post("/api/brainml/collections").then().statusCode(201)
                .body("name", equalTo("kb")).body("embeddingModel", equalTo("all-minilm-l6-v2")).body("dimensions", equalTo(384));
        given().header("x-api-key", key).contentType("application/json").body(Map.of("documents", List.of(
                Map.of("id", "rain", "text", "Heavy rain and thunderstorms are expected tonight.", "label", "weather",
                        "metadata", Map.of("team", "news")),
                Map.of("id", "sun", "text", "A sunny and warm weekend lies ahead.", "label", "weather",
                        "metadata", Map.of("team", "news")),
                Map.of("id", "goal", "text", "The striker scored twice in the final minutes.", "label", "sport",
                        "metadata", Map.of("team", "sport")),
                Map.of("id", "race", "text", "She won the marathon in record time.", "label", "sport",
                        "metadata", Map.of("team", "sport")))))
                .when().post("/api/brainml/collections/kb/documents").then().statusCode(200).body("indexed", equalTo(4));
        given().header("x-api-key", key).contentType("application/json")
                .body(Map.of("text", "Heavy rain and thunderstorms are expected tonight.", "topK", 2))
                .when().post("/api/brainml/collections/kb/query").then().statusCode(200)
                .body("hits[0].id", equalTo("rain")).body("hits[0].metadata.team", equalTo("news"));
        given().header("x-api-key", key).contentType("application/json")
                .body(Map.of("text", "Heavy rain and thunderstorms are expected tonight.", "filter", Map.of("team", "sport")))
                .when().post("/api/brainml/collections/kb/query").then().statusCode(200)
                .body("hits.id", org.hamcrest.Matchers.not(hasItem("rain"))).body("hits.metadata.team", org.hamcrest.Matchers
                        .everyItem(equalTo("sport")));
        given().header("x-api-key", key).when().post("/api/brainml/collections/kb/train").then().statusCode(200)
                .body("indexState", equalTo("READY")).body("classes.label", hasItem("sport"));

        backends.brainml().kill();
        backends.brainml().start(); // ready once the collections are rebuilt from PostgreSQL

        given().header("x-api-key", key).contentType("application/json").body(Map.of("text", "The team won the championship game."))
                .when().post("/api/brainml/collections/kb/query").then().statusCode(200)
                .body("predictedLabel", equalTo("sport"));
        given().header("x-api-key", key).when().get("/api/brainml/collections/kb").then().statusCode(200)
                .body("documents", equalTo("4")).body("indexState", equalTo("READY"));
        given().header("x-api-key", key).when().get("/api/brainml/collections").then().statusCode(200)
                .body("collections.name", hasItem("kb"));

        // bad input as problems
        given().header("x-api-key", key).contentType("application/json").body(Map.of("text", "x", "nonsense", 1))
                .when().post("/api/brainml/collections/kb/query").then().statusCode(400)
                .contentType("application/problem+json").body("detail", containsString("nonsense"));
        given().header("x-api-key", key).contentType("application/json").body(Map.of("text", "x"))
                .when().post("/api/brainml/collections/nope/query").then().statusCode(404);
        given().header("x-api-key", key).contentType("application/json").body(Map.of("name", "kb"))
                .when().post("/api/brainml/collections").then().statusCode(409);
        given().contentType("application/json").body(Map.of("text", "x"))
                .when().post("/api/brainml/collections/kb/query").then().statusCode(401);
        given().header("x-api-key", key).when().delete("/api/brainml/collections/kb").then().statusCode(200)
                .body("droppedDocuments", equalTo("4"));
    }
}
