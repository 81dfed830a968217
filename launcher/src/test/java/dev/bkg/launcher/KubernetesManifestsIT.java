package dev.bkg.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Each service's package step writes Kubernetes manifests whose probes are its health endpoints. */
class KubernetesManifestsIT {

    @Test
    void everyServiceHasADeploymentWithHealthProbesAndAServiceOnItsPort() throws IOException {
        ObjectMapper json = new ObjectMapper();
        for (ServiceSpec spec : ServiceSpec.MESH) {
            Path manifest = LauncherIT.ROOT.resolve(spec.name()).resolve("target/kubernetes/kubernetes.json");
            assertTrue(Files.isRegularFile(manifest), "no manifest: " + manifest);
            JsonNode deployment = null;
            JsonNode service = null;
            for (JsonNode resource : json.readTree(manifest.toFile())) {
                if ("Deployment".equals(resource.path("kind").asText())) {
                    deployment = resource;
                } else if ("Service".equals(resource.path("kind").asText())) {
                    service = resource;
                }
            }
            assertTrue(deployment != null && service != null, spec.name() + ": Deployment and Service expected");
            JsonNode container = deployment.at("/spec/template/spec/containers/0");
            assertEquals("/q/health/live", container.at("/livenessProbe/httpGet/path").asText(), spec.name());
            assertEquals("/q/health/ready", container.at("/readinessProbe/httpGet/path").asText(), spec.name());
            assertEquals(spec.defaultPort(), container.at("/ports/0/containerPort").asInt(), spec.name());
            assertEquals(spec.name(), service.at("/metadata/name").asText());
        }
    }
}
