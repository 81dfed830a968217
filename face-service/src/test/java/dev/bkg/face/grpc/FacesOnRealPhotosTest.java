package dev.bkg.face.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.List;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.google.protobuf.ByteString;

import dev.bkg.proto.face.v1.AddSubjectFaceRequest;
import dev.bkg.proto.face.v1.AddSubjectRequest;
import dev.bkg.proto.face.v1.DeleteSubjectRequest;
import dev.bkg.proto.face.v1.DetectRequest;
import dev.bkg.proto.face.v1.DetectResponse;
import dev.bkg.proto.face.v1.EmbedRequest;
import dev.bkg.proto.face.v1.EmbedResponse;
import dev.bkg.proto.face.v1.Face;
import dev.bkg.proto.face.v1.FaceServiceGrpc.FaceServiceBlockingStub;
import dev.bkg.proto.face.v1.Image;
import dev.bkg.proto.face.v1.ListSubjectsRequest;
import dev.bkg.proto.face.v1.RecognizeRequest;
import dev.bkg.proto.face.v1.RecognizeResponse;
import dev.bkg.proto.face.v1.VerifyRequest;
import dev.bkg.proto.face.v1.VerifyResponse;
import dev.bkg.proto.plugin.v1.InvokeRequest;
import dev.bkg.proto.plugin.v1.PluginGrpc.PluginBlockingStub;
import dev.bkg.testsupport.FacePhotos;
import dev.bkg.testsupport.ModelServiceBackend;
import dev.bkg.testsupport.Readiness;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Detection, alignment, embedding and recognition on real photographs (Debian's opencv-doc and
 * python3-skimage) with the built-in BlazeFace and MobileFace models fetched from a real
 * model-service, through the typed gRPC API and the plugin bus.
 */
@QuarkusTest
@WithTestResource(ModelServiceBackend.class)
class FacesOnRealPhotosTest {

    @GrpcClient("self")
    FaceServiceBlockingStub faces;

    @GrpcClient("self")
    PluginBlockingStub plugin;

    @BeforeEach
    void awaitTheModels() {
        Readiness.awaitStatus(200, Duration.ofSeconds(120));
    }

    static Image image(byte[] bytes) {
        return Image.newBuilder().setData(ByteString.copyFrom(bytes)).build();
    }

    DetectResponse detect(byte[] photo) {
        return faces.detect(DetectRequest.newBuilder().setImage(image(photo)).build());
    }

    /** Both eyes (landmarks 0 and 1) inside the box. */
    static boolean eyesInside(Face face) {
        for (int eye = 0; eye < 2; eye++) {
            float x = face.getLandmarks(eye).getX();
            float y = face.getLandmarks(eye).getY();
            if (x < face.getBox().getX() || x > face.getBox().getX() + face.getBox().getWidth() || y < face.getBox().getY()
                    || y > face.getBox().getY() + face.getBox().getHeight()) {
                return false;
            }
        }
        return true;
    }

    @Test
    void findsOneFaceWithItsEyesInsideTheBoxInEachPortraitAndNoneInCoffee() {
        List<byte[]> portraits = List.of(FacePhotos.man1(), FacePhotos.man2(), FacePhotos.yale(0), FacePhotos.yale(1),
                FacePhotos.yale(2), FacePhotos.yale(3), FacePhotos.messi(), FacePhotos.astronaut());
        for (int i = 0; i < portraits.size(); i++) {
            DetectResponse found = detect(portraits.get(i));
            System.out.printf("portrait %d: %dx%d, %s%n", i, found.getImageWidth(), found.getImageHeight(), found.getFacesList().stream()
                    .map(f -> String.format("score %.3f box %.0f,%.0f %.0fx%.0f eyes %.0f,%.0f %.0f,%.0f", f.getScore(),
                            f.getBox().getX(), f.getBox().getY(), f.getBox().getWidth(), f.getBox().getHeight(),
                            f.getLandmarks(0).getX(), f.getLandmarks(0).getY(), f.getLandmarks(1).getX(), f.getLandmarks(1).getY()))
                    .toList());
            assertEquals(1, found.getFacesCount(), "portrait " + i + ": " + found);
            Face face = found.getFaces(0);
            assertTrue(face.getScore() >= 0.75f && face.getScore() <= 1f, "score " + face.getScore());
            assertEquals(6, face.getLandmarksCount());
            assertTrue(eyesInside(face), "portrait " + i + ": eyes inside the box " + face);
            assertTrue(face.getLandmarks(0).getX() < face.getLandmarks(1).getX(),
                    "the subject's right eye is on the image's left in an upright portrait");
            assertEquals("auto", found.getDetector());
        }
        DetectResponse coffee = detect(FacePhotos.coffee());
        assertEquals(0, coffee.getFacesCount(), coffee.toString());
        assertEquals(400, coffee.getImageHeight());
    }

    @Test
    void theFrontDetectorFindsNearFacesAndLimitsAndThresholdsApply() {
        DetectResponse front = faces.detect(DetectRequest.newBuilder().setImage(image(FacePhotos.man1())).setDetector("front")
                .setTimings(true).build());
        assertEquals("front", front.getDetector());
        assertEquals(1, front.getFacesCount());
        assertTrue(eyesInside(front.getFaces(0)));
        assertTrue(front.getTimings().getStagesMsMap().keySet().containsAll(List.of("decode", "detect")), front.getTimings().toString());

        // nothing reaches a score of 1; and a limit of one keeps the best
        assertEquals(0, faces.detect(DetectRequest.newBuilder().setImage(image(FacePhotos.man1())).setMinConfidence(0.99999f)
                .build()).getFacesCount());
        DetectResponse loose = faces.detect(DetectRequest.newBuilder().setImage(image(FacePhotos.coffee())).setMinConfidence(0.3f)
                .build());
        DetectResponse limited = faces.detect(DetectRequest.newBuilder().setImage(image(FacePhotos.coffee())).setMinConfidence(0.3f)
                .setMaxFaces(1).build());
        assertTrue(loose.getFacesCount() > 1, "a low threshold lets the coffee photo's look-alikes through: " + loose.getFacesCount());
        assertEquals(1, limited.getFacesCount());
        assertEquals(loose.getFaces(0).getScore(), limited.getFaces(0).getScore(), 1e-6);
    }

    @Test
    void samePersonVerifiesAndDifferentPeopleDoNot() {
        VerifyResponse sameWoman = verify(FacePhotos.yale(0), FacePhotos.yale(2));
        VerifyResponse sameWomanDark = verify(FacePhotos.yale(0), FacePhotos.yale(3));
        System.out.printf("yale pairs: %s%n", java.util.stream.IntStream.range(0, 4).boxed().flatMap(i -> java.util.stream.IntStream
                .range(i + 1, 4).mapToObj(j -> i + "-" + j + " " + verify(FacePhotos.yale(i), FacePhotos.yale(j)).getSimilarity())).toList());
        VerifyResponse twoMen = verify(FacePhotos.man1(), FacePhotos.man2());
        VerifyResponse womanAndMan = verify(FacePhotos.yale(0), FacePhotos.man1());
        VerifyResponse astronautAndMessi = verify(FacePhotos.astronaut(), FacePhotos.messi());
        System.out.printf("verify: same woman %.3f / %.3f, two men %.3f, woman and man %.3f, astronaut and messi %.3f%n",
                sameWoman.getSimilarity(), sameWomanDark.getSimilarity(), twoMen.getSimilarity(), womanAndMan.getSimilarity(),
                astronautAndMessi.getSimilarity());
        assertTrue(sameWoman.getSamePerson(), sameWoman.toString());
        assertTrue(sameWomanDark.getSamePerson(), sameWomanDark.toString());
        assertFalse(twoMen.getSamePerson(), twoMen.toString());
        assertFalse(womanAndMan.getSamePerson(), womanAndMan.toString());
        assertFalse(astronautAndMessi.getSamePerson(), astronautAndMessi.toString());
        assertEquals(0.5f, sameWoman.getThreshold(), 1e-6);
    }

    VerifyResponse verify(byte[] a, byte[] b) {
        return faces.verify(VerifyRequest.newBuilder().setImageA(image(a)).setImageB(image(b)).build());
    }

    @Test
    void enrolsTwoPeopleAndRecognisesEachFromAnotherPhoto() {
        faces.addSubject(AddSubjectRequest.newBuilder().setName("yale woman").build());
        faces.addSubject(AddSubjectRequest.newBuilder().setName("man 2").build());
        faces.addSubject(AddSubjectRequest.newBuilder().setName("man 1").build());
        try {
            enrol("yale woman", FacePhotos.yale(0));
            enrol("man 2", FacePhotos.man2());
            enrol("man 1", FacePhotos.man1());

            assertEquals("yale woman", best(FacePhotos.yale(1), 0));
            assertEquals("yale woman", best(FacePhotos.yale(2), 0));
            assertEquals("yale woman", best(FacePhotos.yale(3), 0)); // nearly dark
            // man 2's face blended onto man 1's photo: a mix of both men by construction (0.42 to man 2,
            // 0.34 to man 1, where strangers stay below 0.3): at a lowered threshold the face, not the
            // hair or the shirt, decides
            assertEquals("man 2", best(FacePhotos.man2SwappedOntoMan1(), 0.38f));
            // a person never enrolled is unknown
            RecognizeResponse stranger = faces.recognize(RecognizeRequest.newBuilder().setImage(image(FacePhotos.astronaut()))
                    .setTimings(true).build());
            assertEquals(1, stranger.getFacesCount());
            assertEquals(0, stranger.getFaces(0).getMatchesCount(), stranger.toString());
            assertTrue(stranger.getTimings().getStagesMsMap().keySet().containsAll(List.of("decode", "detect", "embed", "search")));

            // three wanted: all subjects come back ranked, the right one first
            RecognizeResponse ranked = faces.recognize(RecognizeRequest.newBuilder().setImage(image(FacePhotos.yale(1)))
                    .setTopK(3).setThreshold(-1).build());
            assertEquals(3, ranked.getFaces(0).getMatchesCount());
            assertEquals("yale woman", ranked.getFaces(0).getMatches(0).getSubject());
            assertTrue(ranked.getFaces(0).getMatches(0).getSimilarity() > ranked.getFaces(0).getMatches(1).getSimilarity());

            assertEquals(1, faces.listSubjects(ListSubjectsRequest.getDefaultInstance()).getSubjectsList().stream()
                    .filter(s -> s.getName().equals("man 2")).findFirst().orElseThrow().getFaceCount());
        } finally {
            for (String name : List.of("yale woman", "man 2", "man 1")) {
                faces.deleteSubject(DeleteSubjectRequest.newBuilder().setName(name).build());
            }
        }
        assertEquals(0, faces.recognize(RecognizeRequest.newBuilder().setImage(image(FacePhotos.yale(2))).build())
                .getFaces(0).getMatchesCount(), "deleted subjects are no longer recognised");
    }

    void enrol(String subject, byte[] photo) {
        faces.addSubjectFace(AddSubjectFaceRequest.newBuilder().setSubject(subject).setImage(image(photo)).build());
    }

    String best(byte[] photo, float threshold) {
        RecognizeResponse reply = faces.recognize(RecognizeRequest.newBuilder().setImage(image(photo)).setThreshold(threshold).build());
        assertEquals(1, reply.getFacesCount());
        assertEquals(1, reply.getFaces(0).getMatchesCount(), reply.toString());
        System.out.printf("recognised %s at %.3f%n", reply.getFaces(0).getMatches(0).getSubject(),
                reply.getFaces(0).getMatches(0).getSimilarity());
        return reply.getFaces(0).getMatches(0).getSubject();
    }

    @Test
    void embeddingsAreNormalisedAndAGivenBoxEmbedsTheFaceInIt() {
        EmbedResponse all = faces.embed(EmbedRequest.newBuilder().setImage(image(FacePhotos.man1())).build());
        assertEquals("mobileface", all.getModel());
        assertEquals(256, all.getDimensions());
        assertEquals(1, all.getEmbeddingsCount());
        List<Float> detected = all.getEmbeddings(0).getValuesList();
        assertEquals(1.0, Math.sqrt(detected.stream().mapToDouble(v -> v * v).sum()), 1e-4);

        Face face = all.getEmbeddings(0).getFace();
        EmbedResponse boxed = faces.embed(EmbedRequest.newBuilder().setImage(image(FacePhotos.man1())).setBox(face.getBox()).build());
        List<Float> inBox = boxed.getEmbeddings(0).getValuesList();
        double cosine = 0;
        for (int i = 0; i < inBox.size(); i++) {
            cosine += inBox.get(i) * detected.get(i);
        }
        // same-person photos reach 0.74–0.87, different people stay below 0.3
        assertTrue(cosine > 0.99, "the face found inside the given box is the same face: " + cosine);
    }

    @Test
    void exifOrientationIsHonoured() throws Exception {
        BufferedImage upright = ImageIO.read(new ByteArrayInputStream(FacePhotos.man1()));
        // stored turned a quarter to the left, tagged "turn right to view" (EXIF orientation 6), as a phone does
        BufferedImage stored = new BufferedImage(upright.getHeight(), upright.getWidth(), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < upright.getHeight(); y++) {
            for (int x = 0; x < upright.getWidth(); x++) {
                stored.setRGB(y, upright.getWidth() - 1 - x, upright.getRGB(x, y));
            }
        }
        byte[] sideways = FacePhotos.encode(stored, "jpeg");
        DetectResponse tagged = detect(withExifOrientation(sideways, 6));
        DetectResponse original = detect(FacePhotos.man1());
        assertEquals(1, tagged.getFacesCount(), tagged.toString());
        assertEquals(upright.getWidth(), tagged.getImageWidth());
        assertEquals(original.getFaces(0).getBox().getX(), tagged.getFaces(0).getBox().getX(), 6);
        assertEquals(original.getFaces(0).getBox().getY(), tagged.getFaces(0).getBox().getY(), 6);
    }

    /** A JPEG with an APP1 Exif segment holding only the orientation tag, inserted after SOI. */
    static byte[] withExifOrientation(byte[] jpeg, int orientation) {
        byte[] tiff = { 'M', 'M', 0, 42, 0, 0, 0, 8, // big-endian TIFF header, IFD0 at 8
                0, 1, // one entry
                0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, (byte) orientation, 0, 0, // orientation, SHORT, 1 value
                0, 0, 0, 0 }; // no next IFD
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(jpeg, 0, 2);
        int length = 2 + 6 + tiff.length;
        out.writeBytes(new byte[] { (byte) 0xFF, (byte) 0xE1, (byte) (length >> 8), (byte) length, 'E', 'x', 'i', 'f', 0, 0 });
        out.writeBytes(tiff);
        out.write(jpeg, 2, jpeg.length - 2);
        return out.toByteArray();
    }

    static double metric(String name) {
        String page = io.restassured.RestAssured.given().when().get("/q/metrics").then().statusCode(200).extract().asString();
        return page.lines().filter(line -> line.startsWith(name + "{")).mapToDouble(line -> Double.parseDouble(
                line.substring(line.lastIndexOf(' ') + 1))).sum();
    }

    @Test
    void prometheusCountsImagesAndFaces() {
        double images = metric("bkg_face_images_total");
        double detected = metric("bkg_face_detected_total");
        detect(FacePhotos.man1());
        detect(FacePhotos.coffee());
        assertEquals(images + 2, metric("bkg_face_images_total"));
        assertEquals(detected + 1, metric("bkg_face_detected_total"));
    }

    @Test
    void theCapabilitiesAnswerOnThePluginBus() {
        String photo = java.util.Base64.getEncoder().encodeToString(FacePhotos.man1());
        String detected = plugin.invoke(InvokeRequest.newBuilder().setCapability("rustyface.face.detect")
                .setPayloadJson("{\"image\": \"" + photo + "\", \"detector\": \"front\"}").build()).getPayloadJson();
        assertTrue(detected.contains("\"detector\": \"front\"") && detected.contains("\"landmarks\""), detected);
        String embedded = plugin.invoke(InvokeRequest.newBuilder().setCapability("rustyface.face.embed")
                .setPayloadJson("{\"image\": {\"data\": \"" + photo + "\"}}").build()).getPayloadJson();
        assertTrue(embedded.contains("\"dimensions\": 256"), embedded);
        String recognised = plugin.invoke(InvokeRequest.newBuilder().setCapability("rustyface.face.recognize")
                .setPayloadJson("{\"image\": \"" + photo + "\", \"topK\": 2}").build()).getPayloadJson();
        assertTrue(recognised.contains("\"faces\"") && recognised.contains("\"threshold\""), recognised);
    }
}
