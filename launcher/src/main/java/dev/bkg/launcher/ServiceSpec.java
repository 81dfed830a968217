package dev.bkg.launcher;

import java.nio.file.Path;
import java.util.List;

/**
 * One service of the mesh: its Maven module (where its jar is built), the environment variable
 * that overrides its port, the name its peers use for it as a gRPC client, and — for the services
 * that are plugins — the plugin name under which the plugin manager runs it (the launcher then
 * only waits for it; plugins/plugins.json says how it starts).
 */
record ServiceSpec(String name, String portEnv, int defaultPort, boolean needsDatabase, String grpcClientName,
        String plugin) {

    /** Every service of the mesh, in start order; the gateway last (it waits for its peers). */
    static final List<ServiceSpec> MESH = List.of(
            new ServiceSpec("telemetry-service", "BKG_TELEMETRY_PORT", 8084, false, "telemetry", null),
            new ServiceSpec("model-service", "BKG_MODEL_PORT", 8083, true, "model", null),
            new ServiceSpec("plugin-manager-service", "BKG_PLUGIN_MANAGER_PORT", 8082, true, "pluginmanager", null),
            new ServiceSpec("auth-service", "BKG_AUTH_PORT", 8081, true, "auth", "apikeys"),
            new ServiceSpec("inference-service", "BKG_INFERENCE_PORT", 8085, true, "inference", "llmserver"),
            new ServiceSpec("face-service", "BKG_FACE_PORT", 8086, true, "face", "rustyface"),
            new ServiceSpec("gateway-service", "BKG_GATEWAY_PORT", 8080, false, null, null));

    /** Started by the plugin manager (autostart plugins), not by the launcher. */
    boolean isPlugin() {
        return plugin != null;
    }

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
