package dev.bkg.face.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.Supplier;
import java.util.zip.CRC32;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.google.protobuf.ByteString;

import dev.bkg.proto.face.v1.AddSubjectFaceRequest;
import dev.bkg.proto.face.v1.AddSubjectRequest;
import dev.bkg.proto.face.v1.DeleteFaceRequest;
import dev.bkg.proto.face.v1.DeleteSubjectRequest;
import dev.bkg.proto.face.v1.DetectRequest;
import dev.bkg.proto.face.v1.FaceServiceGrpc.FaceServiceBlockingStub;
import dev.bkg.proto.face.v1.Image;
import dev.bkg.proto.face.v1.ListSubjectFacesRequest;
import dev.bkg.proto.face.v1.ListSubjectsRequest;
import dev.bkg.proto.face.v1.RecognizeRequest;
import dev.bkg.proto.face.v1.RenameSubjectRequest;
import dev.bkg.proto.face.v1.VerifyRequest;
import dev.bkg.testsupport.FacePhotos;
import dev.bkg.testsupport.ModelServiceBackend;
import dev.bkg.testsupport.Readiness;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Bad images and bad gallery requests get the gRPC status the contract names, with a message
 * that says what is wrong, and leave nothing half stored; the service keeps serving after each.
 */
@QuarkusTest
@WithTestResource(ModelServiceBackend.class)
class BadInputTest {

    @GrpcClient("self")
    FaceServiceBlockingStub faces;

    @BeforeEach
    void awaitTheModels() {
        Readiness.awaitStatus(200, Duration.ofSeconds(120));
    }

    static Image image(byte[] bytes) {
        return Image.newBuilder().setData(ByteString.copyFrom(bytes)).build();
    }

    static void refused(Status.Code code, String inMessage, Supplier<?> call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::get);
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription().contains(inMessage), e.getStatus().getDescription());
    }

    Supplier<?> detect(byte[] bytes) {
        return () -> faces.detect(DetectRequest.newBuilder().setImage(image(bytes)).build());
    }

    @Test
    void badImagesAreRefusedWithTheReason() {
        refused(Status.Code.INVALID_ARGUMENT, "an image is needed", detect(new byte[0]));
        refused(Status.Code.INVALID_ARGUMENT, "not an image", detect("hello, I am text".getBytes()));
        byte[] jpeg = FacePhotos.man1();
        refused(Status.Code.INVALID_ARGUMENT, "truncated", detect(Arrays.copyOf(jpeg, jpeg.length / 2)));
        byte[] png = FacePhotos.coffee();
        refused(Status.Code.INVALID_ARGUMENT, "truncated", detect(Arrays.copyOf(png, png.length / 2)));
        // over the byte cap (5 MB): refused before any decoding
        byte[] big = Arrays.copyOf(jpeg, 5 * 1024 * 1024 + 1);
        refused(Status.Code.OUT_OF_RANGE, "at most 5242880", detect(big));
        // a 30000×30000 PNG announced by its header: refused before its pixels are decoded
        refused(Status.Code.OUT_OF_RANGE, "30000×30000", detect(pngHeaderOnly(30000, 30000)));
        refused(Status.Code.INVALID_ARGUMENT, "detector must be",
                () -> faces.detect(DetectRequest.newBuilder().setImage(image(jpeg)).setDetector("sideways").build()));
        refused(Status.Code.INVALID_ARGUMENT, "between 0 and 1",
                () -> faces.detect(DetectRequest.newBuilder().setImage(image(jpeg)).setMinConfidence(1.5f).build()));
        refused(Status.Code.INVALID_ARGUMENT, "max faces",
                () -> faces.detect(DetectRequest.newBuilder().setImage(image(jpeg)).setMaxFaces(-1).build()));
        refused(Status.Code.INVALID_ARGUMENT, "prediction_count",
                () -> faces.recognize(RecognizeRequest.newBuilder().setImage(image(jpeg)).setTopK(100_000).build()));
        // and the service still answers
        assertEquals(1, faces.detect(DetectRequest.newBuilder().setImage(image(jpeg)).build()).getFacesCount());
        assertEquals(0, faces.detect(DetectRequest.newBuilder().setImage(image(FacePhotos.coffee())).build()).getFacesCount());
    }

    /** A PNG signature and IHDR chunk for a width×height RGB image, then one tiny IDAT: the header alone claims the size. */
    static byte[] pngHeaderOnly(int width, int height) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] { (byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' });
        byte[] ihdr = new byte[13];
        putInt(ihdr, 0, width);
        putInt(ihdr, 4, height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // RGB
        chunk(out, "IHDR", ihdr);
        chunk(out, "IDAT", new byte[] { 0x78, (byte) 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01 });
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] length = new byte[4];
        putInt(length, 0, data.length);
        out.writeBytes(length);
        CRC32 crc = new CRC32();
        crc.update(type.getBytes());
        crc.update(data);
        out.writeBytes(type.getBytes());
        out.writeBytes(data);
        byte[] sum = new byte[4];
        putInt(sum, 0, (int) crc.getValue());
        out.writeBytes(sum);
    }

    static void putInt(byte[] into, int at, int value) {
        into[at] = (byte) (value >>> 24);
        into[at + 1] = (byte) (value >>> 16);
        into[at + 2] = (byte) (value >>> 8);
        into[at + 3] = (byte) value;
    }

    @Test
    void galleryErrorsNameTheProblemAndStoreNothingPartially() {
        refused(Status.Code.INVALID_ARGUMENT, "needs a name", () -> faces.addSubject(AddSubjectRequest.newBuilder().setName("  ").build()));
        refused(Status.Code.INVALID_ARGUMENT, "at most 255", () -> faces.addSubject(AddSubjectRequest.newBuilder()
                .setName("x".repeat(256)).build()));
        refused(Status.Code.INVALID_ARGUMENT, "control characters", () -> faces.addSubject(AddSubjectRequest.newBuilder()
                .setName("a\u0000b").build()));
        faces.addSubject(AddSubjectRequest.newBuilder().setName("alice").build());
        faces.addSubject(AddSubjectRequest.newBuilder().setName("bob").build());
        try {
            refused(Status.Code.ALREADY_EXISTS, "exists already", () -> faces.addSubject(AddSubjectRequest.newBuilder()
                    .setName("alice").build()));
            refused(Status.Code.ALREADY_EXISTS, "exists already", () -> faces.renameSubject(RenameSubjectRequest.newBuilder()
                    .setName("bob").setNewName("alice").build()));
            refused(Status.Code.NOT_FOUND, "no subject 'carol'", () -> faces.renameSubject(RenameSubjectRequest.newBuilder()
                    .setName("carol").setNewName("dave").build()));
            refused(Status.Code.NOT_FOUND, "no subject 'carol'", () -> faces.deleteSubject(DeleteSubjectRequest.newBuilder()
                    .setName("carol").build()));
            refused(Status.Code.NOT_FOUND, "no subject 'carol'", () -> faces.addSubjectFace(AddSubjectFaceRequest.newBuilder()
                    .setSubject("carol").setImage(image(FacePhotos.man1())).build()));
            refused(Status.Code.NOT_FOUND, "no face", () -> faces.deleteFace(DeleteFaceRequest.newBuilder().setFaceId("f_none").build()));

            // no face in the photo, a broken photo: nothing is stored
            refused(Status.Code.FAILED_PRECONDITION, "no face found", () -> faces.addSubjectFace(AddSubjectFaceRequest.newBuilder()
                    .setSubject("alice").setImage(image(FacePhotos.coffee())).build()));
            refused(Status.Code.INVALID_ARGUMENT, "not an image", () -> faces.addSubjectFace(AddSubjectFaceRequest.newBuilder()
                    .setSubject("alice").setImage(image("text".getBytes())).build()));
            assertEquals(0, faces.listSubjectFaces(ListSubjectFacesRequest.newBuilder().setSubject("alice").build()).getFacesCount());
            refused(Status.Code.FAILED_PRECONDITION, "no face found", () -> faces.verify(VerifyRequest.newBuilder()
                    .setImageA(image(FacePhotos.man1())).setImageB(image(FacePhotos.coffee())).build()));

            // a rename keeps the faces; deleting a face leaves the subject
            String faceId = faces.addSubjectFace(AddSubjectFaceRequest.newBuilder().setSubject("alice")
                    .setImage(image(FacePhotos.man1())).build()).getFaceId();
            faces.renameSubject(RenameSubjectRequest.newBuilder().setName("alice").setNewName("alicia").build());
            assertEquals(faceId, faces.listSubjectFaces(ListSubjectFacesRequest.newBuilder().setSubject("alicia").build())
                    .getFaces(0).getFaceId());
            assertEquals("alicia", faces.recognize(RecognizeRequest.newBuilder().setImage(image(FacePhotos.man1())).build())
                    .getFaces(0).getMatches(0).getSubject());
            assertEquals("alicia", faces.deleteFace(DeleteFaceRequest.newBuilder().setFaceId(faceId).build()).getSubject());
            assertEquals(0, faces.recognize(RecognizeRequest.newBuilder().setImage(image(FacePhotos.man1())).build())
                    .getFaces(0).getMatchesCount());
        } finally {
            for (String name : new String[] { "alicia", "alice", "bob" }) {
                try {
                    faces.deleteSubject(DeleteSubjectRequest.newBuilder().setName(name).build());
                } catch (StatusRuntimeException gone) {
                    // renamed or never there
                }
            }
        }
        assertEquals(0, faces.listSubjects(ListSubjectsRequest.getDefaultInstance()).getSubjectsCount());
    }
}
