package dev.bkg.face.domain;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Encoded images to upright RGB pixels with Java's own ImageIO readers: JPEG, PNG, BMP, GIF (first
 * frame), TIFF and WBMP. Limits come first: the byte size, then the pixel count read from the
 * header before a single pixel is decoded (a 30000×30000 PNG is refused without allocating it).
 * A reader's warning (a JPEG that ends early) counts as a broken image, so a truncated upload is
 * refused instead of being half grey. JPEG's EXIF orientation is applied.
 */
public final class ImageDecoder {

    public static final String SUPPORTED = "JPEG, PNG, BMP, GIF, TIFF, WBMP";

    static {
        ImageIO.setUseCache(false); // decode in memory, never through temporary files
    }

    private ImageDecoder() {
    }

    public static RgbImage decode(byte[] bytes, int maxBytes, long maxPixels) {
        if (bytes == null || bytes.length == 0) {
            throw new Refusal(Refusal.Reason.INVALID, "the image is empty");
        }
        if (bytes.length > maxBytes) {
            throw new Refusal(Refusal.Reason.TOO_LARGE, "the image has " + bytes.length + " bytes; at most " + maxBytes
                    + " are accepted");
        }
        BufferedImage image;
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new Refusal(Refusal.Reason.INVALID, "not an image this service reads (" + SUPPORTED + ")");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long width = reader.getWidth(0);
                long height = reader.getHeight(0);
                if (width <= 0 || height <= 0) {
                    throw new Refusal(Refusal.Reason.INVALID, "the image has no pixels (" + width + "×" + height + ")");
                }
                if (width * height > maxPixels) {
                    throw new Refusal(Refusal.Reason.TOO_LARGE, "the image is " + width + "×" + height + " pixels; at most "
                            + maxPixels + " pixels are accepted");
                }
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
                image = reader.read(0);
                if (!warnings.isEmpty()) {
                    throw new Refusal(Refusal.Reason.INVALID, "the " + format(reader) + " image is broken or truncated ("
                            + warnings.get(0) + ")");
                }
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof Refusal refusal) {
                throw refusal;
            }
            // ImageIO's readers fail on corrupt data with IOExceptions and assorted runtime exceptions alike
            throw new Refusal(Refusal.Reason.INVALID, "the image cannot be decoded (" + (e.getMessage() == null
                    ? e.getClass().getSimpleName() : e.getMessage()) + "); it is broken, truncated or an unsupported variant");
        }
        return ExifOrientation.upright(new RgbImage(image.getWidth(), image.getHeight(), packed(image)), ExifOrientation.of(bytes));
    }

    /**
     * The pixels as 0xRRGGBB. The layouts JPEG and PNG decode to are read straight from their
     * buffers (getRGB converts pixel by pixel through the colour model: several times slower).
     */
    static int[] packed(BufferedImage image) {
        int width = image.getWidth();
        int height = image.getHeight();
        int n = width * height;
        boolean whole = image.getRaster().getDataBuffer().getNumBanks() == 1 && image.getRaster().getParent() == null;
        if (whole && image.getType() == BufferedImage.TYPE_3BYTE_BGR) {
            byte[] bgr = ((DataBufferByte) image.getRaster().getDataBuffer()).getData();
            int[] out = new int[n];
            for (int i = 0, j = 0; i < n; i++, j += 3) {
                out[i] = (bgr[j + 2] & 0xff) << 16 | (bgr[j + 1] & 0xff) << 8 | (bgr[j] & 0xff);
            }
            return out;
        }
        if (whole && image.getType() == BufferedImage.TYPE_BYTE_GRAY) {
            byte[] gray = ((DataBufferByte) image.getRaster().getDataBuffer()).getData();
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                int v = gray[i] & 0xff;
                out[i] = v << 16 | v << 8 | v;
            }
            return out;
        }
        return image.getRGB(0, 0, width, height, null, 0, width);
    }

    private static String format(ImageReader reader) {
        try {
            return reader.getFormatName().toUpperCase(Locale.ROOT);
        } catch (IOException e) {
            return "";
        }
    }
}
