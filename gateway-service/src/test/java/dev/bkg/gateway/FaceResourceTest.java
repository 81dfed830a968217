package dev.bkg.gateway;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.bkg.testsupport.FacePhotos;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;

/**
 * Faces through the gateway → gRPC → face-service (its own process) → ONNX Runtime on Debian's
 * real photos: /api/face with multipart and base64 JSON, the CompreFace-shaped /api/v1 routes with
 * x-api-key, scopes, bad input as problems, and a gallery that survives face-service being killed.
 */
@QuarkusTest
@WithTestResource(FaceBackends.class)
@TestProfile(AuthResourceTest.ShortCache.class)
class FaceResourceTest {

    @Backends.Inject
    FaceBackends backends;

    static String faceKey() {
        return AuthResourceTest.createKey(AuthResourceTest.admin(), Map.of("name", "faces", "scopes", List.of("face")))
                .then().statusCode(201).extract().path("key");
    }

    static RequestSpecification as(String key) {
        return given().header("x-api-key", key);
    }

    static String base64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }

    @Test
    void detectsEnrolsRecognisesAndVerifiesOverRest() {
        String key = faceKey();
        JsonPath detected = as(key).multiPart("file", "man1.jpg", FacePhotos.man1(), "image/jpeg").queryParam("status", true)
                .when().post("/api/face/detect").then().statusCode(200)
                .body("image.width", equalTo(434)).body("detector", equalTo("auto")).body("faces", hasSize(1))
                .body("faces[0].landmarks", hasSize(6)).body("timings.decode", notNullValue())
                .body("timings.detect", notNullValue()).extract().jsonPath();
        float boxX = detected.getFloat("faces[0].box.x");
        as(key).contentType("application/json").body(Map.of("image", "data:image/png;base64," + base64(FacePhotos.coffee())))
                .when().post("/api/face/detect").then().statusCode(200).body("faces", hasSize(0)).body("timings", equalTo(null));

        as(key).contentType("application/json").body(Map.of("name", "yale woman")).when().post("/api/face/subjects")
                .then().statusCode(201).body("name", equalTo("yale woman")).body("face_count", equalTo(0));
        as(key).contentType("application/json").body(Map.of("name", "yale woman")).when().post("/api/face/subjects")
                .then().statusCode(409).contentType("application/problem+json").body("detail", containsString("exists already"));
        as(key).multiPart("file", "yale0.png", FacePhotos.yale(0), "image/png").when()
                .post("/api/face/subjects/{name}/faces", "yale woman").then().statusCode(201)
                .body("face_id", notNullValue()).body("subject.face_count", equalTo(1));
        // enrol the face of a box found by detect (the dashboard's way), box as query parameters
        as(key).contentType("application/json").body(Map.of("name", "man 1")).when().post("/api/face/subjects").then().statusCode(201);
        as(key).multiPart("file", "man1.jpg", FacePhotos.man1(), "image/jpeg")
                .queryParams(Map.of("box_x", boxX, "box_y", detected.getFloat("faces[0].box.y"),
                        "box_width", detected.getFloat("faces[0].box.width"), "box_height", detected.getFloat("faces[0].box.height")))
                .when().post("/api/face/subjects/{name}/faces", "man 1").then().statusCode(201)
                .body("face.box.x", equalTo(boxX));

        as(key).multiPart("file", "yale2.png", FacePhotos.yale(2), "image/png").queryParam("prediction_count", 2)
                .when().post("/api/face/recognize").then().statusCode(200)
                .body("faces", hasSize(1)).body("faces[0].matches[0].subject", equalTo("yale woman"))
                .body("threshold", equalTo(0.5f));
        as(key).contentType("application/json").body(Map.of("image", base64(FacePhotos.astronaut())))
                .when().post("/api/face/recognize").then().statusCode(200).body("faces[0].matches", hasSize(0));

        as(key).contentType("application/json").body(Map.of("source_image", base64(FacePhotos.yale(1)), "target_image",
                base64(FacePhotos.yale(3)))).when().post("/api/face/verify").then().statusCode(200)
                .body("same_person", equalTo(true));
        as(key).multiPart("source_image", "a.jpg", FacePhotos.man1(), "image/jpeg")
                .multiPart("target_image", "b.jpg", FacePhotos.man2(), "image/jpeg").when().post("/api/face/verify")
                .then().statusCode(200).body("same_person", equalTo(false));

        JsonPath embedded = as(key).multiPart("file", "man2.jpg", FacePhotos.man2(), "image/jpeg").when().post("/api/face/embed")
                .then().statusCode(200).body("model", equalTo("mobileface")).body("dimensions", equalTo(256))
                .extract().jsonPath();
        assertEquals(256, embedded.getList("embeddings[0].embedding").size());

        as(key).when().get("/api/face/subjects").then().statusCode(200).body("subjects.name", hasItem("yale woman"));
        String faceId = as(key).when().get("/api/face/subjects/{name}/faces", "man 1").then().statusCode(200)
                .body("faces", hasSize(1)).body("faces[0].image_stored", equalTo(false)).extract().path("faces[0].face_id");
        as(key).when().delete("/api/face/faces/{id}", faceId).then().statusCode(204);
        as(key).contentType("application/json").body(Map.of("name", "man one")).when().put("/api/face/subjects/{name}", "man 1")
                .then().statusCode(200).body("name", equalTo("man one")).body("face_count", equalTo(0));
        as(key).when().delete("/api/face/subjects/{name}", "man one").then().statusCode(200).body("deleted_faces", equalTo(0));
        as(key).when().delete("/api/face/subjects/{name}", "yale woman").then().statusCode(200).body("deleted_faces", equalTo(1));
    }

    @Test
    void compreFaceClientsGetItsRoutesAndShapes() {
        String key = faceKey();
        // adding a face to an unknown subject creates it, as CompreFace does
        as(key).multiPart("file", "man2.jpg", FacePhotos.man2(), "image/jpeg").queryParam("subject", "cf-man")
                .when().post("/api/v1/recognition/faces").then().statusCode(200)
                .body("subject", equalTo("cf-man")).body("image_id", notNullValue());
        as(key).contentType("application/json").body(Map.of("file", base64(FacePhotos.yale(0)))).queryParam("subject", "cf-woman")
                .when().post("/api/v1/recognition/faces").then().statusCode(200);
        as(key).when().get("/api/v1/recognition/subjects").then().statusCode(200)
                .body("subjects", hasItem("cf-man")).body("subjects", hasItem("cf-woman"));

        as(key).multiPart("file", "yale3.png", FacePhotos.yale(3), "image/png")
                .queryParams(Map.of("prediction_count", 2, "status", true, "limit", 0, "det_prob_threshold", 0.8))
                .when().post("/api/v1/recognition/recognize").then().statusCode(200)
                .body("result", hasSize(1)).body("result[0].subjects[0].subject", equalTo("cf-woman"))
                .body("result[0].box.probability", notNullValue()).body("result[0].box.x_max", notNullValue())
                .body("result[0].landmarks", hasSize(6)).body("result[0].execution_time.embed", notNullValue());

        as(key).multiPart("file", "man1.jpg", FacePhotos.man1(), "image/jpeg").when().post("/api/v1/detection/detect")
                .then().statusCode(200).body("result", hasSize(1)).body("result[0].box.x_min", notNullValue());
        as(key).multiPart("source_image", "a.png", FacePhotos.yale(0), "image/png")
                .multiPart("target_image", "b.png", FacePhotos.yale(2), "image/png").when().post("/api/v1/verification/verify")
                .then().statusCode(200).body("result[0].face_matches[0].similarity", notNullValue())
                .body("result[0].source_image_face.box.probability", notNullValue());

        // no face: CompreFace's 400
        as(key).multiPart("file", "coffee.png", FacePhotos.coffee(), "image/png").queryParam("subject", "cf-man")
                .when().post("/api/v1/recognition/faces").then().statusCode(400).contentType("application/problem+json")
                .body("detail", containsString("No face is found"));
        String imageId = as(key).queryParam("subject", "cf-man").when().get("/api/v1/recognition/faces").then().statusCode(200)
                .body("faces", hasSize(1)).extract().path("faces[0].image_id");
        as(key).contentType("application/json").body(Map.of("subject", "cf-man-2")).when()
                .put("/api/v1/recognition/subjects/{s}", "cf-man").then().statusCode(200).body("updated", equalTo(true));
        as(key).when().delete("/api/v1/recognition/faces/{id}", imageId).then().statusCode(200)
                .body("subject", equalTo("cf-man-2"));
        as(key).when().delete("/api/v1/recognition/subjects/{s}", "cf-man-2").then().statusCode(200);
        as(key).when().delete("/api/v1/recognition/subjects/{s}", "cf-woman").then().statusCode(200);
        as(key).when().get("/api/v1/recognition/subjects").then().statusCode(200).body("subjects", not(hasItem("cf-woman")));
    }

    @Test
    void badInputAndMissingScopesAreProblems() {
        String key = faceKey();
        given().multiPart("file", "man1.jpg", FacePhotos.man1(), "image/jpeg").when().post("/api/face/detect")
                .then().statusCode(401);
        String other = AuthResourceTest.createKey(AuthResourceTest.admin(), Map.of("name", "no-face", "scopes",
                List.of("inference"))).then().statusCode(201).extract().path("key");
        as(other).multiPart("file", "man1.jpg", FacePhotos.man1(), "image/jpeg").when().post("/api/v1/detection/detect")
                .then().statusCode(403);

        as(key).multiPart("file", "x.txt", "not an image".getBytes(), "text/plain").when().post("/api/face/detect")
                .then().statusCode(400).contentType("application/problem+json").body("detail", containsString("not an image"));
        byte[] jpeg = FacePhotos.man1();
        as(key).multiPart("file", "cut.jpg", Arrays.copyOf(jpeg, jpeg.length / 2), "image/jpeg").when().post("/api/face/detect")
                .then().statusCode(400).body("detail", containsString("truncated"));
        as(key).multiPart("file", "big.jpg", Arrays.copyOf(jpeg, 6 * 1024 * 1024), "image/jpeg").when().post("/api/face/detect")
                .then().statusCode(413).contentType("application/problem+json").body("detail", containsString("5242880"));
        as(key).contentType("application/json").body(Map.of("image", "%%% not base64")).when().post("/api/face/detect")
                .then().statusCode(400).body("detail", containsString("base64"));
        as(key).contentType("application/json").body(Map.of("imag", "x")).when().post("/api/face/detect")
                .then().statusCode(400).body("detail", containsString("\"image\" is needed"));
        as(key).when().post("/api/face/detect").then().statusCode(415);
        as(key).multiPart("file", "man1.jpg", jpeg, "image/jpeg").queryParam("det_prob_threshold", "high")
                .when().post("/api/face/detect").then().statusCode(400).body("detail", containsString("must be a number"));
        as(key).multiPart("other", "man1.jpg", jpeg, "image/jpeg").when().post("/api/face/detect")
                .then().statusCode(400).body("detail", containsString("\"file\""));
        as(key).multiPart("file", "man1.jpg", jpeg, "image/jpeg").when().post("/api/face/subjects/{n}/faces", "nobody")
                .then().statusCode(404).contentType("application/problem+json").body("detail", containsString("nobody"));
        as(key).when().delete("/api/face/subjects/{n}", "nobody").then().statusCode(404);
        as(key).contentType("application/json").body(Map.of("name", "")).when().post("/api/face/subjects")
                .then().statusCode(400);
    }

    @Test
    void theGalleryOutlivesAKilledFaceService() throws InterruptedException {
        String key = faceKey();
        as(key).contentType("application/json").body(Map.of("name", "kept")).when().post("/api/face/subjects").then().statusCode(201);
        try {
            as(key).multiPart("file", "yale0.png", FacePhotos.yale(0), "image/png").when()
                    .post("/api/face/subjects/{name}/faces", "kept").then().statusCode(201);
            backends.face().kill();
            as(key).multiPart("file", "yale1.png", FacePhotos.yale(1), "image/png").when().post("/api/face/recognize")
                    .then().statusCode(503).header("Retry-After", notNullValue()).contentType("application/problem+json");
            backends.face().start(); // ready once its gallery is read back from PostgreSQL
            // as a client does on 503: retry after a moment (the first call may find the gateway's channel still backing off)
            io.restassured.response.Response after = null;
            for (int attempt = 0; attempt < 10; attempt++) {
                after = as(key).multiPart("file", "yale1.png", FacePhotos.yale(1), "image/png").when().post("/api/face/recognize");
                if (after.statusCode() != 503) {
                    break;
                }
                Thread.sleep(1000);
            }
            assertEquals(200, after.statusCode(), after.asString());
            assertEquals("kept", after.jsonPath().getString("faces[0].matches[0].subject"), after.asString());
            assertTrue(after.jsonPath().getFloat("faces[0].matches[0].similarity") > 0.5f);
        } finally {
            as(key).when().delete("/api/face/subjects/{name}", "kept");
        }
    }
}
