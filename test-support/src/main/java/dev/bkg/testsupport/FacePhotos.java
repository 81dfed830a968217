package dev.bkg.testsupport;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import javax.imageio.ImageIO;

/**
 * Real photographs from Debian packages (.ci/run installs them): opencv-doc's portraits and
 * python3-skimage's astronaut (one face) and coffee (none).
 */
public final class FacePhotos {

    public static final Path OPENCV = Path.of("/usr/share/doc/opencv-doc/opencv4/html");
    public static final Path SKIMAGE = Path.of("/usr/lib/python3/dist-packages/skimage/data");

    private FacePhotos() {
    }

    public static byte[] bytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(file + " is missing (apt-get install opencv-doc python3-skimage)", e);
        }
    }

    /** Man 1: a smiling young man, one face, 434×434. */
    public static byte[] man1() {
        return bytes(OPENCV.resolve("227943776_1.jpg"));
    }

    /** Man 2: another man, one face, 584×824. */
    public static byte[] man2() {
        return bytes(OPENCV.resolve("230501201_1.jpg"));
    }

    /**
     * Man 2's face swapped onto man 1's photo (OpenCV's face-swap tutorial): man 2 under other light,
     * with man 1's hair, ears and body around him.
     */
    public static byte[] man2SwappedOntoMan1() {
        return bytes(OPENCV.resolve("face_swapped.jpg"));
    }

    /** One woman from the Yale face database under four lights: the top row of lbp_yale.jpg, 166×190 each. */
    public static byte[] yale(int light) {
        try {
            BufferedImage all = ImageIO.read(OPENCV.resolve("lbp_yale.jpg").toFile());
            return png(all.getSubimage(light * 166, 0, 166, 190));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static byte[] messi() {
        return bytes(Path.of("/usr/share/doc/opencv-doc/examples/data/messi5.jpg"));
    }

    public static byte[] astronaut() {
        return bytes(SKIMAGE.resolve("astronaut.png"));
    }

    public static byte[] coffee() {
        return bytes(SKIMAGE.resolve("coffee.png"));
    }

    public static byte[] png(BufferedImage image) {
        return encode(image, "png");
    }

    public static byte[] encode(BufferedImage image, String format) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(image, format, out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
