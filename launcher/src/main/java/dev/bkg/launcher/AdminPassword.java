package dev.bkg.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The bootstrap admin's password: {@code BKG_ADMIN_PASSWORD}, or one generated on the first start,
 * printed once and kept in {@code $BKG_HOME/admin-password} (readable by its owner only) so that
 * later starts pass the same one. auth-service uses it only while no admin exists.
 */
record AdminPassword(String value, Source source, Path file) {

    enum Source { ENVIRONMENT, GENERATED_NOW, STORED }

    static AdminPassword resolve(Env env, Path home) {
        Path file = home.resolve("admin-password");
        String fromEnv = env.get("BKG_ADMIN_PASSWORD", null);
        if (fromEnv != null) {
            return new AdminPassword(fromEnv, Source.ENVIRONMENT, file);
        }
        try {
            if (Files.isRegularFile(file)) {
                return new AdminPassword(Files.readString(file).trim(), Source.STORED, file);
            }
            byte[] random = new byte[18];
            new SecureRandom().nextBytes(random);
            String generated = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
            Files.createDirectories(home);
            Files.deleteIfExists(file);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, generated + "\n");
            return new AdminPassword(generated, Source.GENERATED_NOW, file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The banner line: the password itself only when it was generated just now. */
    String describe() {
        return switch (source) {
            case ENVIRONMENT -> "(from BKG_ADMIN_PASSWORD)";
            case GENERATED_NOW -> value + "   (generated now and shown once; kept in " + file + ", mode 600)";
            case STORED -> "(generated at the first start; see it with: cat " + file + ")";
        };
    }
}
