package dev.bkg.model.domain;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** bkg.models.*: where models live and what downloads may do. */
@ConfigMapping(prefix = "bkg.models")
public interface ModelSettings {

    /** The model directory; default $BKG_HOME/models. */
    Optional<Path> dir();

    Download download();

    interface Download {
        /** Largest download (all files together), in bytes; a request may only lower it. */
        @WithDefault("21474836480")
        long maxBytes();

        /** Hosts (or host:port) allowed even though they are loopback or private (SSRF guard). */
        Optional<List<String>> allowedHosts();

        /** Attempts per file when a transfer breaks off (each resumes with a Range request). */
        @WithDefault("4")
        int attempts();

        /** A transfer that delivers no byte for this long is cut off (and resumed, as a break). */
        @WithDefault("30s")
        java.time.Duration stallTimeout();

        /**
         * Free space a download leaves on the model directory's disk: a file announced larger than
         * what is free beyond this is refused before its first byte, and a transfer stops when the
         * disk fills up to it (other services and the database share that disk).
         */
        @WithDefault("268435456")
        long minFreeBytes();

        /** Jobs running at once; the others wait QUEUED. */
        @WithDefault("2")
        int parallel();
    }
}
