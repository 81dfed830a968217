package dev.bkg.face.domain;

/**
 * The 112×112 crop a recognition model expects: the similarity transform (rotation, scale, shift)
 * that best puts the eyes, nose and mouth where the standard ArcFace/MobileFace template has them
 * (least squares over four points: steadier than the eyes alone when one landmark is off, as on a
 * dimly lit face), so faces are compared upright and at one size. Raw 0–255 RGB, NHWC (MobileFace
 * normalises inside its graph). Big faces are supersampled so that shrinking them does not alias.
 * A face without landmarks (a box given by the caller) is its box, squared around its centre, resized.
 */
final class FaceAligner {

    static final int SIZE = 112;

    private FaceAligner() {
    }

    /**
     * Where BlazeFace's landmarks 0–3 (the subject's right eye, left eye, nose tip, mouth centre)
     * belong in the 112×112 crop: the ArcFace template's eyes and nose, and the middle of its two
     * mouth corners.
     */
    private static final double[] TEMPLATE = { 38.2946, 51.6963, 73.5318, 51.5014 };

    /** The aligned crop of {@code face}, written into {@code into} at {@code offset} (SIZE × SIZE × 3 floats). */
    static void crop(RgbImage image, DetectedFace face, float[] into, int offset) {
        // source point = sourceMean + [a −b; b a] · (crop point − templateMean), fitted by least squares
        double sourceX = 0;
        double sourceY = 0;
        double templateX = 0;
        double templateY = 0;
        double a;
        double b;
        if (face.hasLandmarks()) {
            int n = TEMPLATE.length / 2;
            for (int i = 0; i < n; i++) {
                sourceX += face.landmarks()[i * 2] / n;
                sourceY += face.landmarks()[i * 2 + 1] / n;
                templateX += TEMPLATE[i * 2] / n;
                templateY += TEMPLATE[i * 2 + 1] / n;
            }
            double dot = 0;
            double cross = 0;
            double norm = 0;
            for (int i = 0; i < n; i++) {
                double qx = TEMPLATE[i * 2] - templateX;
                double qy = TEMPLATE[i * 2 + 1] - templateY;
                double px = face.landmarks()[i * 2] - sourceX;
                double py = face.landmarks()[i * 2 + 1] - sourceY;
                dot += qx * px + qy * py;
                cross += qx * py - qy * px;
                norm += qx * qx + qy * qy;
            }
            a = dot / norm;
            b = cross / norm;
        } else {
            double side = Math.max(face.width(), face.height());
            a = side / SIZE;
            b = 0;
            sourceX = face.x() + face.width() / 2;
            sourceY = face.y() + face.height() / 2;
            templateX = SIZE / 2.0;
            templateY = SIZE / 2.0;
        }
        double scale = Math.hypot(a, b);
        int samples = (int) Math.min(4, Math.max(1, Math.ceil(scale - 0.25)));
        float[] rgb = new float[3];
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                float r = 0;
                float g = 0;
                float bl = 0;
                for (int sy = 0; sy < samples; sy++) {
                    for (int sx = 0; sx < samples; sx++) {
                        double u = x + (sx + 0.5) / samples - 0.5 - templateX;
                        double v = y + (sy + 0.5) / samples - 0.5 - templateY;
                        image.bilinear(sourceX + a * u - b * v, sourceY + b * u + a * v, rgb);
                        r += rgb[0];
                        g += rgb[1];
                        bl += rgb[2];
                    }
                }
                int n = samples * samples;
                int at = offset + (y * SIZE + x) * 3;
                into[at] = r / n;
                into[at + 1] = g / n;
                into[at + 2] = bl / n;
            }
        }
        stretchContrast(into, offset);
    }

    /**
     * Spreads the crop's brightness over 0–255 (its 1st to 99th percentile of luma): a face in dim
     * light then looks to the model like the same face in daylight.
     */
    static void stretchContrast(float[] crop, int offset) {
        int pixels = SIZE * SIZE;
        int[] histogram = new int[256];
        for (int i = 0; i < pixels; i++) {
            int at = offset + i * 3;
            int luma = (int) Math.min(255, Math.max(0, 0.299f * crop[at] + 0.587f * crop[at + 1] + 0.114f * crop[at + 2]));
            histogram[luma]++;
        }
        int low = percentile(histogram, pixels / 100);
        int high = percentile(histogram, pixels - pixels / 100);
        if (high - low < 8) {
            return; // a flat crop: nothing to stretch
        }
        float scale = 255f / (high - low);
        for (int i = 0; i < pixels * 3; i++) {
            crop[offset + i] = Math.min(255, Math.max(0, (crop[offset + i] - low) * scale));
        }
    }

    private static int percentile(int[] histogram, int rank) {
        int seen = 0;
        for (int v = 0; v < histogram.length; v++) {
            seen += histogram[v];
            if (seen > rank) {
                return v;
            }
        }
        return histogram.length - 1;
    }
}
