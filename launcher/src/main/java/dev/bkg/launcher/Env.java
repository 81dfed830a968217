package dev.bkg.launcher;

import java.nio.file.Path;
import java.util.Map;

/** The launcher's settings, all from environment variables (documented in the README). */
record Env(Map<String, String> values) {

    static Env current() {
        return new Env(System.getenv());
    }

    String get(String name, String fallback) {
        String value = values.get(name);
        return value == null || value.isBlank() ? fallback : value;
    }

    int port(String name, int fallback) {
        String value = get(name, null);
        if (value == null) {
            return fallback;
        }
        try {
            int port = Integer.parseInt(value.trim());
            if (port < 1 || port > 65535) {
                throw new NumberFormatException();
            }
            return port;
        } catch (NumberFormatException e) {
            throw new LauncherException(name + "=" + value + " is not a port number (1-65535)");
        }
    }

    /** Where the checkout is (jars are found under it); set by ./bkg. */
    Path root() {
        return Path.of(get("BKG_ROOT", ".")).toAbsolutePath().normalize();
    }

    /** All state: database, models, logs, run files. */
    Path home() {
        return Path.of(get("BKG_HOME", root().resolve(".bkg").toString())).toAbsolutePath().normalize();
    }

    /** The gateway listens on loopback unless the person opens it up; internal services always do. */
    String gatewayHost() {
        return get("BKG_GATEWAY_HOST", "127.0.0.1");
    }

    int readyTimeoutSeconds() {
        return Integer.parseInt(get("BKG_READY_TIMEOUT_SECONDS", "180"));
    }
}
