package dev.bkg.model.domain;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import com.fasterxml.jackson.core.type.TypeReference;

/**
 * The model directory: a model is the folder {@code <dir>/<model id>/}. Files are written into a
 * staging folder ({@code <dir>/.downloads/<model id>/}) and the finished folder moves in with one
 * atomic rename, so a model folder is always complete or absent.
 */
@ApplicationScoped
public class ModelDirectory {

    static final String STAGING = ".downloads";

    public record StoredFile(String name, long sizeBytes, String sha256) {
    }

    private final Path root;

    ModelDirectory(ModelSettings settings, @ConfigProperty(name = "bkg.home", defaultValue = ".bkg") Path home) {
        this.root = settings.dir().orElse(home.resolve("models")).toAbsolutePath().normalize();
        try {
            Files.createDirectories(root.resolve(STAGING));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the model directory " + root, e);
        }
    }

    public Path root() {
        return root;
    }

    public Path model(String modelId) {
        return root.resolve(modelId);
    }

    Path staging(String modelId) {
        return root.resolve(STAGING).resolve(modelId);
    }

    /** A file of a model, refused when its name is not a plain relative path inside it. */
    public Path file(String modelId, String name) {
        Path file = model(modelId).resolve(ModelFiles.checkName(name)).normalize();
        if (!file.startsWith(model(modelId))) {
            throw new IllegalArgumentException("file outside the model");
        }
        return file;
    }

    /** Moves a finished staging folder in as the model's folder (replacing an older copy). */
    void commit(String modelId, Path staging) throws IOException {
        Path target = model(modelId);
        if (Files.exists(target)) {
            deleteTree(target);
        }
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
    }

    void removeStaging(String modelId) {
        try {
            deleteTree(staging(modelId));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes a model's folder; answers the bytes freed. */
    public long delete(String modelId) throws IOException {
        long freed = size(model(modelId)) + size(staging(modelId));
        deleteTree(model(modelId));
        deleteTree(staging(modelId));
        return freed;
    }

    /** Model folders present on disk (for the reconciliation at start). */
    public List<String> folders() throws IOException {
        try (Stream<Path> entries = Files.list(root)) {
            return entries.filter(Files::isDirectory).map(p -> p.getFileName().toString())
                    .filter(name -> !name.equals(STAGING)).sorted().toList();
        }
    }

    /** Models with files in the staging folder. */
    List<String> stagedDownloads() {
        try (Stream<Path> entries = Files.list(root.resolve(STAGING))) {
            return entries.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Copies a file into a model's staging folder, returning its size and SHA-256 (built-in models). */
    StoredFile stage(String modelId, String name, InputStream content) throws IOException {
        Path target = staging(modelId).resolve(ModelFiles.checkName(name));
        Files.createDirectories(target.getParent());
        MessageDigest sha = Downloads.sha256();
        long size;
        try (InputStream in = new DigestInputStream(content, sha); OutputStream out = Files.newOutputStream(target)) {
            size = in.transferTo(out);
        }
        return new StoredFile(name, size, HexFormat.of().formatHex(sha.digest()));
    }

    static String filesJson(List<StoredFile> files) {
        try {
            return Downloads.JSON.writeValueAsString(files);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static List<StoredFile> files(String json) {
        try {
            return Downloads.JSON.readValue(json, new TypeReference<List<StoredFile>>() {
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long size(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            long total = 0;
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                total += Files.size(f);
            }
            return total;
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        List<Path> paths = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(paths::add);
        }
        for (Path p : paths) {
            Files.deleteIfExists(p);
        }
    }
}
