package dev.bkg.face.domain;

/**
 * The EXIF orientation tag (0x0112) of a JPEG, read from its APP1 segment, and the turn or flip it
 * asks for: phones store pictures sideways and say so here, and a face lying on its side is not
 * found by the detector.
 */
final class ExifOrientation {

    private ExifOrientation() {
    }

    /** 1 (as stored) to 8; 1 for anything but a JPEG with a readable tag. */
    static int of(byte[] jpeg) {
        if (jpeg.length < 4 || (jpeg[0] & 0xff) != 0xFF || (jpeg[1] & 0xff) != 0xD8) {
            return 1;
        }
        int at = 2;
        while (at + 4 <= jpeg.length && (jpeg[at] & 0xff) == 0xFF) {
            int marker = jpeg[at + 1] & 0xff;
            int length = u16(jpeg, at + 2, false);
            if (marker == 0xDA || length < 2) { // start of scan: no metadata after it
                return 1;
            }
            int payload = at + 4;
            if (marker == 0xE1 && payload + 14 <= jpeg.length && "Exif".equals(new String(jpeg, payload, 4,
                    java.nio.charset.StandardCharsets.US_ASCII))) {
                return fromTiff(jpeg, payload + 6, Math.min(jpeg.length, at + 2 + length));
            }
            at += 2 + length;
        }
        return 1;
    }

    private static int fromTiff(byte[] b, int tiff, int end) {
        boolean little = b[tiff] == 'I';
        int ifd = tiff + (int) u32(b, tiff + 4, little);
        if (ifd < tiff || ifd + 2 > end) {
            return 1;
        }
        int entries = u16(b, ifd, little);
        for (int i = 0; i < entries; i++) {
            int entry = ifd + 2 + i * 12;
            if (entry + 12 > end) {
                return 1;
            }
            if (u16(b, entry, little) == 0x0112) {
                int value = u16(b, entry + 8, little);
                return value >= 1 && value <= 8 ? value : 1;
            }
        }
        return 1;
    }

    private static int u16(byte[] b, int at, boolean little) {
        return little ? (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 : (b[at] & 0xff) << 8 | (b[at + 1] & 0xff);
    }

    private static long u32(byte[] b, int at, boolean little) {
        return little ? (u16(b, at, true) | (long) u16(b, at + 2, true) << 16) : ((long) u16(b, at, false) << 16 | u16(b, at + 2, false));
    }

    /** The image as it is meant to be seen. */
    static RgbImage upright(RgbImage image, int orientation) {
        if (orientation == 1) {
            return image;
        }
        int w = image.width();
        int h = image.height();
        boolean swap = orientation >= 5;
        int outW = swap ? h : w;
        int outH = swap ? w : h;
        int[] source = image.pixels();
        int[] out = new int[source.length];
        for (int y = 0; y < outH; y++) {
            for (int x = 0; x < outW; x++) {
                int sx;
                int sy;
                switch (orientation) {
                    case 2 -> { sx = w - 1 - x; sy = y; }
                    case 3 -> { sx = w - 1 - x; sy = h - 1 - y; }
                    case 4 -> { sx = x; sy = h - 1 - y; }
                    case 5 -> { sx = y; sy = x; }
                    case 6 -> { sx = y; sy = h - 1 - x; }
                    case 7 -> { sx = w - 1 - y; sy = h - 1 - x; }
                    default -> { sx = w - 1 - y; sy = x; } // 8
                }
                out[y * outW + x] = source[sy * w + sx];
            }
        }
        return new RgbImage(outW, outH, out);
    }
}
