package dev.bkg.face.domain;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;

/**
 * MediaPipe's BlazeFace (the short-range "front" 128×128 or long-range "back" 256×256 graph) on a
 * whole image: the image is padded to a centred square (with a margin for the front graph, which
 * misses a face filling the frame: a tight 166×190 portrait scores 0.64 bare, 0.90 with a sixth
 * of border) and shrunk to the graph's input (NHWC RGB
 * in −1..1), the 896 anchors' outputs are decoded (16×16 cells × 2 anchors, then 8×8 × 6; centre =
 * anchor + offset / size, score = sigmoid of the logit), overlapping detections are blended by
 * score (MediaPipe's weighted non-maximum suppression), and boxes and landmarks are mapped back
 * to the image's pixels. Thread-safe: ONNX Runtime sessions may run concurrently.
 */
public final class BlazeFaceDetector implements AutoCloseable {

    private static final int KEYPOINT_OFFSET = 4;

    private final String name;
    /** Border added around the image on each side, as a share of its longer side. */
    private final float margin;
    private final OrtSession session;
    private final String input;
    private final int size;
    /** Anchor centres (x, y) in the unit square, in output order. */
    private final float[] anchors;
    /** Outputs: per grid, the scores [1, n, 1] and the regressors [1, n, 16], by anchor count n. */
    private final List<String> scoreOutputs = new ArrayList<>();
    private final List<String> boxOutputs = new ArrayList<>();

    BlazeFaceDetector(String name, float margin, OrtSession session) throws OrtException {
        this.name = name;
        this.margin = margin;
        this.session = session;
        Map.Entry<String, NodeInfo> in = session.getInputInfo().entrySet().iterator().next();
        this.input = in.getKey();
        long[] shape = ((TensorInfo) in.getValue().getInfo()).getShape();
        if (shape.length != 4 || shape[3] != 3 || shape[1] != shape[2] || shape[1] <= 0) {
            throw new IllegalArgumentException(name + " is not a BlazeFace graph: its input is " + java.util.Arrays.toString(shape));
        }
        this.size = (int) shape[1];
        this.anchors = anchors();
        // outputs matched by shape, not by name: [1, 512, 1] / [1, 512, 16] for the 16×16 grid, then the 8×8 one
        for (int count : new int[] { 512, 384 }) {
            for (Map.Entry<String, NodeInfo> out : session.getOutputInfo().entrySet()) {
                long[] s = ((TensorInfo) out.getValue().getInfo()).getShape();
                if (s.length == 3 && s[1] == count && s[2] == 1) {
                    scoreOutputs.add(out.getKey());
                } else if (s.length == 3 && s[1] == count && s[2] == 16) {
                    boxOutputs.add(out.getKey());
                }
            }
        }
        if (scoreOutputs.size() != 2 || boxOutputs.size() != 2) {
            throw new IllegalArgumentException(name + " does not have BlazeFace's outputs: " + session.getOutputInfo().keySet());
        }
    }

    public String name() {
        return name;
    }

    public int inputSize() {
        return size;
    }

    private static float[] anchors() {
        float[] centres = new float[896 * 2];
        int at = 0;
        for (int[] grid : new int[][] { { 16, 2 }, { 8, 6 } }) {
            int cells = grid[0];
            for (int y = 0; y < cells; y++) {
                for (int x = 0; x < cells; x++) {
                    for (int a = 0; a < grid[1]; a++) {
                        centres[at++] = (x + 0.5f) / cells;
                        centres[at++] = (y + 0.5f) / cells;
                    }
                }
            }
        }
        return centres;
    }

    /** The faces scoring at least {@code minScore}, best first, at most {@code limit} (0: all). */
    public List<DetectedFace> detect(RgbImage image, float minScore, float overlap, int limit) throws OrtException {
        int side = Math.round(Math.max(image.width(), image.height()) * (1 + 2 * margin));
        float padX = (side - image.width()) / 2f;
        float padY = (side - image.height()) / 2f;
        float[] pixels = squareInput(image, side, padX, padY);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        List<DetectedFace> candidates = new ArrayList<>();
        try (OnnxTensor tensor = OnnxTensor.createTensor(env, FloatBuffer.wrap(pixels), new long[] { 1, size, size, 3 });
                OrtSession.Result result = session.run(Map.of(input, tensor))) {
            int anchor = 0;
            for (int grid = 0; grid < 2; grid++) {
                float[][] scores = ((float[][][]) result.get(scoreOutputs.get(grid)).orElseThrow().getValue())[0];
                float[][] boxes = ((float[][][]) result.get(boxOutputs.get(grid)).orElseThrow().getValue())[0];
                for (int i = 0; i < scores.length; i++, anchor++) {
                    float score = sigmoid(scores[i][0]);
                    if (score >= minScore) {
                        candidates.add(decode(boxes[i], anchor, score, side, padX, padY));
                    }
                }
            }
        }
        candidates.sort(Comparator.comparingDouble(DetectedFace::score).reversed());
        List<DetectedFace> faces = blend(candidates, overlap);
        List<DetectedFace> clipped = new ArrayList<>(faces.size());
        for (DetectedFace face : faces) {
            if (limit > 0 && clipped.size() == limit) {
                break;
            }
            clipped.add(clip(face, image.width(), image.height()));
        }
        return clipped;
    }

    /** The image centred on a black square, shrunk (area average) or enlarged (bilinear) to the input, in −1..1. */
    private float[] squareInput(RgbImage image, int side, float padX, float padY) {
        float[] out = new float[size * size * 3];
        float[] rgb = new float[3];
        double scale = (double) side / size;
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                double sx0 = x * scale - padX;
                double sy0 = y * scale - padY;
                if (scale >= 1) {
                    image.areaAverage(sx0, sy0, sx0 + scale, sy0 + scale, rgb);
                } else {
                    double cx = sx0 + scale / 2 - 0.5;
                    double cy = sy0 + scale / 2 - 0.5;
                    if (cx < -0.5 || cy < -0.5 || cx > image.width() - 0.5 || cy > image.height() - 0.5) {
                        rgb[0] = rgb[1] = rgb[2] = 0;
                    } else {
                        image.bilinear(cx, cy, rgb);
                    }
                }
                int at = (y * size + x) * 3;
                out[at] = rgb[0] / 127.5f - 1;
                out[at + 1] = rgb[1] / 127.5f - 1;
                out[at + 2] = rgb[2] / 127.5f - 1;
            }
        }
        return out;
    }

    private DetectedFace decode(float[] r, int anchor, float score, int side, float padX, float padY) {
        float ax = anchors[anchor * 2];
        float ay = anchors[anchor * 2 + 1];
        float cx = ax + r[0] / size;
        float cy = ay + r[1] / size;
        float w = r[2] / size;
        float h = r[3] / size;
        float[] landmarks = new float[DetectedFace.LANDMARKS * 2];
        for (int k = 0; k < DetectedFace.LANDMARKS; k++) {
            landmarks[k * 2] = (ax + r[KEYPOINT_OFFSET + k * 2] / size) * side - padX;
            landmarks[k * 2 + 1] = (ay + r[KEYPOINT_OFFSET + k * 2 + 1] / size) * side - padY;
        }
        return new DetectedFace((cx - w / 2) * side - padX, (cy - h / 2) * side - padY, w * side, h * side, score, landmarks);
    }

    /**
     * MediaPipe's weighted non-maximum suppression: the best remaining detection takes every other
     * one overlapping it by more than {@code overlap}, and the group's boxes and landmarks are
     * averaged weighted by score (steadier than keeping the best alone); the score stays the best's.
     */
    static List<DetectedFace> blend(List<DetectedFace> byScore, float overlap) {
        List<DetectedFace> remaining = new ArrayList<>(byScore);
        List<DetectedFace> faces = new ArrayList<>();
        while (!remaining.isEmpty()) {
            DetectedFace best = remaining.get(0);
            List<DetectedFace> group = new ArrayList<>();
            List<DetectedFace> rest = new ArrayList<>();
            for (DetectedFace candidate : remaining) {
                (candidate == best || best.intersectionOverUnion(candidate) > overlap ? group : rest).add(candidate);
            }
            remaining = rest;
            float total = 0;
            float x = 0;
            float y = 0;
            float right = 0;
            float bottom = 0;
            float[] landmarks = new float[best.landmarks().length];
            for (DetectedFace f : group) {
                total += f.score();
                x += f.x() * f.score();
                y += f.y() * f.score();
                right += (f.x() + f.width()) * f.score();
                bottom += (f.y() + f.height()) * f.score();
                for (int i = 0; i < landmarks.length; i++) {
                    landmarks[i] += f.landmarks()[i] * f.score();
                }
            }
            for (int i = 0; i < landmarks.length; i++) {
                landmarks[i] /= total;
            }
            faces.add(new DetectedFace(x / total, y / total, (right - x) / total, (bottom - y) / total, best.score(), landmarks));
        }
        return faces;
    }

    /** The box inside the image (landmarks stay where the detector put them). */
    private static DetectedFace clip(DetectedFace f, int width, int height) {
        float left = Math.max(0, f.x());
        float top = Math.max(0, f.y());
        float right = Math.min(width, f.x() + f.width());
        float bottom = Math.min(height, f.y() + f.height());
        return new DetectedFace(left, top, Math.max(0, right - left), Math.max(0, bottom - top), f.score(), f.landmarks());
    }

    private static float sigmoid(float logit) {
        float clamped = Math.max(-100f, Math.min(100f, logit));
        return (float) (1 / (1 + Math.exp(-clamped)));
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
