package dev.bkg.face.domain;

import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;

/**
 * MobileFace (converted from TF.js by model-service) on aligned 112×112 crops, all faces of a
 * request in one run; each embedding L2-normalised, so that a dot product is the cosine.
 */
public final class FaceEmbedder implements AutoCloseable {

    private final String name;
    private final OrtSession session;
    private final String input;
    private final int dimensions;

    FaceEmbedder(String name, OrtSession session) throws OrtException {
        this.name = name;
        this.session = session;
        Map.Entry<String, NodeInfo> in = session.getInputInfo().entrySet().iterator().next();
        long[] shape = ((TensorInfo) in.getValue().getInfo()).getShape();
        if (shape.length != 4 || shape[1] != FaceAligner.SIZE || shape[2] != FaceAligner.SIZE || shape[3] != 3) {
            throw new IllegalArgumentException(name + " does not take [n, 112, 112, 3] RGB crops: its input is "
                    + java.util.Arrays.toString(shape));
        }
        this.input = in.getKey();
        long[] out = ((TensorInfo) session.getOutputInfo().values().iterator().next().getInfo()).getShape();
        this.dimensions = (int) out[out.length - 1];
    }

    public String name() {
        return name;
    }

    public int dimensions() {
        return dimensions;
    }

    /** One normalised embedding per face, in order. */
    public float[][] embed(RgbImage image, List<DetectedFace> faces) throws OrtException {
        if (faces.isEmpty()) {
            return new float[0][];
        }
        int crop = FaceAligner.SIZE * FaceAligner.SIZE * 3;
        float[] batch = new float[faces.size() * crop];
        for (int i = 0; i < faces.size(); i++) {
            FaceAligner.crop(image, faces.get(i), batch, i * crop);
        }
        try (OnnxTensor tensor = OnnxTensor.createTensor(OrtEnvironment.getEnvironment(), FloatBuffer.wrap(batch),
                new long[] { faces.size(), FaceAligner.SIZE, FaceAligner.SIZE, 3 });
                OrtSession.Result result = session.run(Map.of(input, tensor))) {
            float[][] vectors = (float[][]) result.get(0).getValue();
            for (float[] vector : vectors) {
                normalise(vector);
            }
            return vectors;
        }
    }

    static void normalise(float[] v) {
        double sum = 0;
        for (float x : v) {
            sum += x * x;
        }
        float norm = (float) Math.sqrt(sum);
        if (norm > 0) {
            for (int i = 0; i < v.length; i++) {
                v[i] /= norm;
            }
        }
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
