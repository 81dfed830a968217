package dev.bkg.model.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.bkg.proto.model.v1.FileChunk;
import dev.bkg.proto.model.v1.ListModelsRequest;
import dev.bkg.proto.model.v1.Model;
import dev.bkg.proto.model.v1.ModelKind;
import dev.bkg.proto.model.v1.MutinyModelServiceGrpc.MutinyModelServiceStub;
import dev.bkg.proto.model.v1.ReadModelFileRequest;
import dev.bkg.testsupport.EmbeddedPostgresTestResource;
import dev.bkg.testsupport.Readiness;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The MobileFace embedder our TF.js importer converted at first start recognises real people: on
 * real photographs (Debian's opencv-doc, installed by .ci/run) every same-person pair is closer
 * than every different-person pair. The graph is fetched as another service would, through
 * ReadModelFile, and run in ONNX Runtime on eye-aligned 112×112 crops.
 */
@QuarkusTest
@WithTestResource(EmbeddedPostgresTestResource.class)
class MobileFaceOnRealFacesTest {

    static final Duration WAIT = Duration.ofSeconds(120);
    static final Path PHOTOS = Path.of("/usr/share/doc/opencv-doc/opencv4/html");

    /** A face in a photo: the image's left eye then its right eye, in pixels. */
    record Face(String person, BufferedImage image, double leftX, double leftY, double rightX, double rightY) {
    }

    @GrpcClient("model")
    MutinyModelServiceStub models;

    @Test
    void samePersonPairsAreCloserThanDifferentPersonPairs() throws Exception {
        assertTrue(Files.isDirectory(PHOTOS), "the test photos come from Debian's opencv-doc (apt-get install opencv-doc)");
        List<Face> faces = faces();
        byte[] graph = graphOfTheBuiltInMobileFace();

        List<float[]> embeddings = new ArrayList<>();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(graph, new OrtSession.SessionOptions())) {
            String input = session.getInputNames().iterator().next();
            for (Face face : faces) {
                try (OnnxTensor crop = OnnxTensor.createTensor(env, FloatBuffer.wrap(aligned(face)), new long[] {1, 112, 112, 3});
                        OrtSession.Result result = session.run(Map.of(input, crop))) {
                    embeddings.add(((float[][]) result.get(0).getValue())[0]);
                }
            }
        }

        List<Double> same = new ArrayList<>();
        List<Double> different = new ArrayList<>();
        for (int i = 0; i < faces.size(); i++) {
            for (int j = i + 1; j < faces.size(); j++) {
                double similarity = cosine(embeddings.get(i), embeddings.get(j));
                (faces.get(i).person().equals(faces.get(j).person()) ? same : different).add(similarity);
            }
        }
        double leastSame = same.stream().mapToDouble(d -> d).min().orElseThrow();
        double mostDifferent = different.stream().mapToDouble(d -> d).max().orElseThrow();
        double meanSame = same.stream().mapToDouble(d -> d).average().orElseThrow();
        double meanDifferent = different.stream().mapToDouble(d -> d).average().orElseThrow();
        System.out.printf("MobileFace cosines: same person %s, different people %s%n", same, different);
        assertEquals(6, same.size());
        assertEquals(9, different.size());
        assertTrue(leastSame > mostDifferent, "every same-person pair beats every different-person pair: " + same + " vs " + different);
        assertTrue(meanSame - meanDifferent > 0.4, "a clear margin on average: " + meanSame + " vs " + meanDifferent);
    }

    byte[] graphOfTheBuiltInMobileFace() {
        Readiness.awaitStatus(200, WAIT);
        Model mobileface = models.listModels(ListModelsRequest.newBuilder().setKind(ModelKind.FACE_EMBEDDER).build())
                .await().atMost(WAIT).getModelsList().stream().filter(m -> m.getName().equals("mobileface")).findFirst()
                .orElseThrow();
        List<FileChunk> chunks = models.readModelFile(ReadModelFileRequest.newBuilder().setModelId(mobileface.getId())
                .setFileName("model.onnx").build()).collect().asList().await().atMost(WAIT);
        ByteArrayOutputStream graph = new ByteArrayOutputStream();
        chunks.forEach(chunk -> graph.writeBytes(chunk.getData().toByteArray()));
        assertEquals(chunks.get(0).getTotalSizeBytes(), graph.size());
        return graph.toByteArray();
    }

    /**
     * Four photos of one woman under different light (the top row of lbp_yale.jpg, 166×190 each)
     * and two different men. The eye positions are fixture annotations, located once with the
     * built-in BlazeFace back-256 detector.
     */
    static List<Face> faces() throws Exception {
        BufferedImage yale = ImageIO.read(PHOTOS.resolve("lbp_yale.jpg").toFile());
        double[][] yaleEyes = {{39.1, 51.5, 127.6, 51.2}, {39.6, 52.7, 129.5, 52.9}, {39.4, 54.5, 127.2, 52.9},
                {36.4, 57.7, 125.7, 52.0}};
        List<Face> faces = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            double[] eyes = yaleEyes[i];
            faces.add(new Face("yale woman", yale.getSubimage(i * 166, 0, 166, 190), eyes[0], eyes[1], eyes[2], eyes[3]));
        }
        faces.add(new Face("man 1", ImageIO.read(PHOTOS.resolve("227943776_1.jpg").toFile()), 175.0, 168.8, 242.2, 171.0));
        faces.add(new Face("man 2", ImageIO.read(PHOTOS.resolve("230501201_1.jpg").toFile()), 236.2, 372.3, 369.3, 362.9));
        return faces;
    }

    /**
     * The usual 112×112 alignment: a similarity transform that puts the eyes at (38.29, 51.70) and
     * (73.53, 51.50), sampled bilinearly; raw 0–255 RGB, NHWC (MobileFace normalises inside).
     */
    static float[] aligned(Face face) {
        double targetDx = 73.53 - 38.29;
        double targetDy = 51.50 - 51.70;
        double sourceDx = face.rightX() - face.leftX();
        double sourceDy = face.rightY() - face.leftY();
        double norm = targetDx * targetDx + targetDy * targetDy;
        double a = (sourceDx * targetDx + sourceDy * targetDy) / norm;
        double b = (sourceDy * targetDx - sourceDx * targetDy) / norm;
        float[] pixels = new float[112 * 112 * 3];
        for (int y = 0; y < 112; y++) {
            for (int x = 0; x < 112; x++) {
                double u = x - 38.29;
                double v = y - 51.70;
                double sourceX = face.leftX() + a * u - b * v;
                double sourceY = face.leftY() + b * u + a * v;
                sample(face.image(), sourceX, sourceY, pixels, (y * 112 + x) * 3);
            }
        }
        return pixels;
    }

    static void sample(BufferedImage image, double x, double y, float[] into, int at) {
        int x0 = (int) Math.floor(x);
        int y0 = (int) Math.floor(y);
        double fx = x - x0;
        double fy = y - y0;
        for (int dy = 0; dy < 2; dy++) {
            for (int dx = 0; dx < 2; dx++) {
                int px = Math.min(Math.max(x0 + dx, 0), image.getWidth() - 1);
                int py = Math.min(Math.max(y0 + dy, 0), image.getHeight() - 1);
                int rgb = image.getRGB(px, py);
                double weight = (dx == 0 ? 1 - fx : fx) * (dy == 0 ? 1 - fy : fy);
                into[at] += (float) (weight * ((rgb >> 16) & 0xff));
                into[at + 1] += (float) (weight * ((rgb >> 8) & 0xff));
                into[at + 2] += (float) (weight * (rgb & 0xff));
            }
        }
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double normA = 0;
        double normB = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            normA += a[i] * a[i];
            normB += b[i] * b[i];
        }
        return dot / Math.sqrt(normA * normB);
    }
}
