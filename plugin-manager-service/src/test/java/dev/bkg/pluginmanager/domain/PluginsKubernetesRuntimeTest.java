package dev.bkg.pluginmanager.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.bkg.pluginmanager.KubernetesPluginRuntimeTest;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;

/**
 * {@code bkg.plugins.runtime=kubernetes} wires Plugins to Deployments: the client configures itself
 * (here from the kubernetes.master property, in a pod from its service account), each plugin gets a
 * Kubernetes supervisor, and the manager's shutdown leaves the Deployments as they are. The mock
 * API server stands for a real one, which cannot run here.
 */
class PluginsKubernetesRuntimeTest {

    KubernetesMockServer server;
    KubernetesClient admin;

    @BeforeEach
    void startMockApiServer() {
        server = KubernetesPluginRuntimeTest.crudMockServer();
        admin = server.createClient(new JdkHttpClientFactory());
        System.setProperty(Config.KUBERNETES_MASTER_SYSTEM_PROPERTY, admin.getConfiguration().getMasterUrl());
        System.setProperty(Config.KUBERNETES_NAMESPACE_SYSTEM_PROPERTY, "test");
        System.setProperty(Config.KUBERNETES_AUTH_TRYKUBECONFIG_SYSTEM_PROPERTY, "false");
        System.setProperty(Config.KUBERNETES_AUTH_TRYSERVICEACCOUNT_SYSTEM_PROPERTY, "false");
    }

    @AfterEach
    void stopMockApiServer() {
        System.clearProperty(Config.KUBERNETES_MASTER_SYSTEM_PROPERTY);
        System.clearProperty(Config.KUBERNETES_NAMESPACE_SYSTEM_PROPERTY);
        System.clearProperty(Config.KUBERNETES_AUTH_TRYKUBECONFIG_SYSTEM_PROPERTY);
        System.clearProperty(Config.KUBERNETES_AUTH_TRYSERVICEACCOUNT_SYSTEM_PROPERTY);
        admin.close();
        server.destroy();
    }

    @Test
    void eachPluginIsItsDeploymentAndShutdownLeavesTheDeploymentsRunning(@TempDir Path home) throws Exception {
        admin.apps().deployments().inNamespace("test").resource(new DeploymentBuilder().withNewMetadata()
                .withName("face-service").withLabels(Map.of("bkg.dev/plugin", "rustyface")).endMetadata()
                .withNewSpec().withReplicas(2).withNewSelector().withMatchLabels(Map.of("app", "face")).endSelector()
                .endSpec().build()).create();
        Plugins plugins = new Plugins(null, new StatusEvents(), Path.of("../deploy/kubernetes/base/plugins.json"),
                Optional.empty(), home, 100, 100_000, 1, false, "kubernetes", Optional.empty(), Duration.ofMillis(100));
        plugins.boot(null);
        try {
            PluginSupervisor face = plugins.find("rustyface").orElseThrow();
            assertInstanceOf(KubernetesPluginSupervisor.class, face);
            PluginSupervisor candle = plugins.find("candle").orElseThrow();
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while ((candle.available() || face.status().state() != PluginState.STARTING) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(PluginState.STARTING, face.status().state(), "2 replicas, no ready pod yet");
            assertEquals("face-service", face.host());
            assertEquals("no Deployment labelled bkg.dev/plugin=candle in namespace test", candle.unavailableReason());
        } finally {
            plugins.shutdown(null);
        }
        assertEquals(2, admin.apps().deployments().inNamespace("test").withName("face-service").get().getSpec().getReplicas(),
                "the Deployments outlive the manager");
    }

    @Test
    void anUnknownRuntimeIsRefused(@TempDir Path home) {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> new Plugins(null,
                new StatusEvents(), Path.of("plugins.json"), Optional.empty(), home, 100, 100_000, 1, false, "docker",
                Optional.empty(), Duration.ofSeconds(2)));
        assertTrue(refused.getMessage().contains("'local' or 'kubernetes'"), refused.getMessage());
    }
}
