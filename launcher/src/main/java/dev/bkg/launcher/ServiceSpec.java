package dev.bkg.launcher;

import java.nio.file.Path;
import java.util.List;

/**
 * One service of the mesh as the launcher runs it: its Maven module (where its jar is built), the
 * environment variable that overrides its port, and the name its peers use for it as a gRPC client.
 */
record ServiceSpec(String name, String portEnv, int defaultPort, boolean needsDatabase, String grpcClientName) {

    /** Every service the launcher starts, core services first; the gateway last (it waits for them). */
    static final List<ServiceSpec> MESH = List.of(
            new ServiceSpec("telemetry-service", "BKG_TELEMETRY_PORT", 8084, false, "telemetry"),
            new ServiceSpec("auth-service", "BKG_AUTH_PORT", 8081, true, "auth"),
            new ServiceSpec("model-service", "BKG_MODEL_PORT", 8083, true, "model"),
            new ServiceSpec("plugin-manager-service", "BKG_PLUGIN_MANAGER_PORT", 8082, true, "pluginmanager"),
            new ServiceSpec("inference-service", "BKG_INFERENCE_PORT", 8085, true, "inference"),
            new ServiceSpec("face-service", "BKG_FACE_PORT", 8086, true, "face"),
            new ServiceSpec("gateway-service", "BKG_GATEWAY_PORT", 8080, false, null));

    Path jar(Path root) {
        return root.resolve(name).resolve("target/quarkus-app/quarkus-run.jar");
    }

    int port(Env env) {
        return env.port(portEnv, defaultPort);
    }

    boolean isGateway() {
        return grpcClientName == null;
    }
}
