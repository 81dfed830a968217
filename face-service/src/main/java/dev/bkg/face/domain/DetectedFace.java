package dev.bkg.face.domain;

/**
 * A face in an image's own pixels: its box (left, top, width, height), the detector's score
 * (0..1; 0 when the box was given, not found), and BlazeFace's six landmarks as x, y pairs
 * (the subject's right eye, left eye, nose tip, mouth, right ear, left ear), empty when none.
 */
public record DetectedFace(float x, float y, float width, float height, float score, float[] landmarks) {

    public static final int LANDMARKS = 6;

    public float area() {
        return width * height;
    }

    public boolean hasLandmarks() {
        return landmarks.length == LANDMARKS * 2;
    }

    float intersectionOverUnion(DetectedFace other) {
        float left = Math.max(x, other.x);
        float top = Math.max(y, other.y);
        float right = Math.min(x + width, other.x + other.width);
        float bottom = Math.min(y + height, other.y + other.height);
        float overlap = Math.max(0, right - left) * Math.max(0, bottom - top);
        float union = area() + other.area() - overlap;
        return union <= 0 ? 0 : overlap / union;
    }
}
