package dev.bkg.face.domain;

/**
 * An upright decoded image as packed 0xRRGGBB pixels, row by row, with the two ways the models'
 * inputs are sampled from it: an area average when shrinking (so a big photo does not alias into
 * the detector's 256×256) and bilinear otherwise.
 */
public record RgbImage(int width, int height, int[] pixels) {

    /**
     * The mean colour of the source rectangle [x0, x1) × [y0, y1) (clipped to the image; pixels
     * outside count as black), into {@code rgb[0..2]} as 0..255.
     */
    void areaAverage(double x0, double y0, double x1, double y1, float[] rgb) {
        int left = (int) Math.floor(x0);
        int top = (int) Math.floor(y0);
        int right = Math.max(left + 1, (int) Math.ceil(x1));
        int bottom = Math.max(top + 1, (int) Math.ceil(y1));
        long r = 0;
        long g = 0;
        long b = 0;
        for (int y = Math.max(top, 0); y < Math.min(bottom, height); y++) {
            int row = y * width;
            for (int x = Math.max(left, 0); x < Math.min(right, width); x++) {
                int p = pixels[row + x];
                r += (p >> 16) & 0xff;
                g += (p >> 8) & 0xff;
                b += p & 0xff;
            }
        }
        float n = (float) (right - left) * (bottom - top);
        rgb[0] = r / n;
        rgb[1] = g / n;
        rgb[2] = b / n;
    }

    /** The colour at (x, y) interpolated between the four nearest pixels (edges repeated), into {@code rgb[0..2]}. */
    void bilinear(double x, double y, float[] rgb) {
        int x0 = (int) Math.floor(x);
        int y0 = (int) Math.floor(y);
        float fx = (float) (x - x0);
        float fy = (float) (y - y0);
        int xa = clamp(x0, width);
        int xb = clamp(x0 + 1, width);
        int ya = clamp(y0, height);
        int yb = clamp(y0 + 1, height);
        int p00 = pixels[ya * width + xa];
        int p01 = pixels[ya * width + xb];
        int p10 = pixels[yb * width + xa];
        int p11 = pixels[yb * width + xb];
        for (int c = 0, shift = 16; c < 3; c++, shift -= 8) {
            float top = ((p00 >> shift) & 0xff) * (1 - fx) + ((p01 >> shift) & 0xff) * fx;
            float bottom = ((p10 >> shift) & 0xff) * (1 - fx) + ((p11 >> shift) & 0xff) * fx;
            rgb[c] = top * (1 - fy) + bottom * fy;
        }
    }

    private static int clamp(int v, int size) {
        return v < 0 ? 0 : v >= size ? size - 1 : v;
    }
}
