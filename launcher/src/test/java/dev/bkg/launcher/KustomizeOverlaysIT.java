package dev.bkg.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.beans.Introspector;
import java.beans.PropertyDescriptor;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/**
 * {@code kubectl kustomize deploy/kubernetes/overlays/<overlay>} (kubectl's built-in kustomize) renders,
 * and every object it renders is one the fabric8 Kubernetes model knows, field for field (an unknown
 * field, a typo, lands in a model's additionalProperties and fails here). Then what makes the mesh
 * work: every service present with its image, probes on its health endpoints, its port, resources,
 * its peers' addresses naming Services that exist on those ports, the database credentials where a
 * database is used; the plugin manager's runtime, registry and rights over the plugin Deployments;
 * production's replicas, autoscalers, disruption budgets and network policies; the GPU overlay's GPUs. No cluster here: this checks the manifests, not a deployment.
 */
class KustomizeOverlaysIT {

    static final Path OVERLAYS = LauncherIT.ROOT.resolve("deploy/kubernetes/overlays");
    /** Deployment → (image module, port). */
    static final Map<String, Object[]> SERVICES = Map.of(
            "gateway-service", new Object[] { "gateway-service", 8080 },
            "auth-service", new Object[] { "auth-service", 8081 },
            "plugin-manager-service", new Object[] { "plugin-manager-service", 8082 },
            "model-service", new Object[] { "model-service", 8083 },
            "telemetry-service", new Object[] { "telemetry-service", 8084 },
            "inference-service", new Object[] { "inference-service", 8085 },
            "inference-runner", new Object[] { "inference-service", 8087 },
            "inference-index", new Object[] { "inference-service", 8088 },
            "face-service", new Object[] { "face-service", 8086 });
    static final Set<String> WITHOUT_DATABASE = Set.of("gateway-service", "telemetry-service");
    static final Set<String> ON_GPU = Set.of("inference-service", "inference-runner", "inference-index", "face-service");

    @ParameterizedTest
    @ValueSource(strings = { "local", "production", "cuda" })
    void everyOverlayRendersObjectsTheKubernetesModelKnowsAndWiresTheMesh(String overlay) throws Exception {
        List<HasMetadata> objects = parse(render(overlay));
        for (HasMetadata object : objects) {
            if (object instanceof GenericKubernetesResource generic) {
                assertEquals("ServiceMonitor", generic.getKind(), "only the Prometheus Operator's CRD is not in the model");
            } else {
                assertStrict(object, object.getKind() + "/" + object.getMetadata().getName());
            }
        }
        Map<String, Deployment> deployments = byName(objects, Deployment.class);
        Map<String, Service> services = byName(objects, Service.class);
        Map<String, ConfigMap> configMaps = byName(objects, ConfigMap.class);
        Map<String, Secret> secrets = byName(objects, Secret.class);
        assertEquals(SERVICES.keySet(), deployments.keySet());

        for (Map.Entry<String, Deployment> entry : deployments.entrySet()) {
            String name = entry.getKey();
            int port = (int) SERVICES.get(name)[1];
            Container c = entry.getValue().getSpec().getTemplate().getSpec().getContainers().get(0);
            String tag = overlay.equals("cuda") && ON_GPU.contains(name) ? "0.2.0-cuda" : "0.2.0";
            assertEquals("bkg/" + SERVICES.get(name)[0] + ":" + tag, c.getImage(), name);
            assertEquals(port, c.getPorts().get(0).getContainerPort(), name);
            assertEquals(String.valueOf(port), env(c, "QUARKUS_HTTP_PORT"), name);
            assertEquals("/q/health/live", c.getLivenessProbe().getHttpGet().getPath(), name);
            assertEquals("/q/health/ready", c.getReadinessProbe().getHttpGet().getPath(), name);
            assertNotNull(c.getResources().getRequests().get("memory"), name + " requests memory");
            assertNotNull(c.getResources().getLimits().get("memory"), name + " has a memory limit");
            Service service = services.get(name);
            assertNotNull(service, "a Service for " + name);
            assertEquals(port, service.getSpec().getPorts().get(0).getPort(), name);
            assertEquals(name, service.getSpec().getSelector().get("app.kubernetes.io/name"));

            // the peers it reads: every host names a Service, on the port the peer listens on
            List<String> from = c.getEnvFrom().stream().map(e -> e.getConfigMapRef() != null ? "cm:" + e.getConfigMapRef().getName()
                    : "secret:" + e.getSecretRef().getName()).toList();
            ConfigMap peers = from.stream().filter(f -> f.startsWith("cm:")).map(f -> configMaps.get(f.substring(3)))
                    .findFirst().orElseThrow(() -> new AssertionError(name + " reads no peers ConfigMap that exists"));
            peers.getData().forEach((key, value) -> {
                if (key.endsWith("_HOST")) {
                    Service peer = services.get(value);
                    assertNotNull(peer, key + " names Service " + value);
                    assertEquals(peers.getData().get(key.replace("_HOST", "_PORT")),
                            String.valueOf(peer.getSpec().getPorts().get(0).getPort()), key);
                }
            });
            boolean database = from.stream().anyMatch(f -> f.startsWith("secret:") && secrets.containsKey(f.substring(7))
                    && secrets.get(f.substring(7)).getData().containsKey("QUARKUS_DATASOURCE_PASSWORD"));
            assertEquals(!WITHOUT_DATABASE.contains(name), database, name + " gets the database credentials");

            Quantity gpu = c.getResources().getLimits().get("nvidia.com/gpu");
            if (overlay.equals("cuda") && ON_GPU.contains(name)) {
                assertEquals("1", gpu == null ? null : gpu.getAmount(), name + " gets a GPU");
                assertEquals("true", entry.getValue().getSpec().getTemplate().getSpec().getNodeSelector().get("nvidia.com/gpu.present"));
                assertEquals("cuda", env(c, name.startsWith("face") ? "BKG_FACE_PROVIDER" : "BKG_INFERENCE_PROVIDER"));
            } else {
                assertEquals(null, gpu, name + " gets no GPU");
            }
        }
        assertPluginManagerDrivesThePluginDeployments(objects, deployments, services, configMaps);

        StatefulSet postgres = byName(objects, StatefulSet.class).get("postgres");
        assertNotNull(postgres, "PostgreSQL as a StatefulSet");
        assertEquals("postgresql://postgres:5432/bkg", configMaps.values().stream()
                .map(m -> m.getData().get("QUARKUS_DATASOURCE_REACTIVE_URL")).filter(v -> v != null).findFirst().orElse(null));
        assertNotNull(services.get("postgres"));

        if (!overlay.equals("local")) {
            assertEquals(2, deployments.get("gateway-service").getSpec().getReplicas());
            Map<String, HorizontalPodAutoscaler> hpas = byName(objects, HorizontalPodAutoscaler.class);
            assertEquals(Set.of("gateway-service", "inference-service", "face-service"), hpas.keySet());
            hpas.values().forEach(h -> assertTrue(deployments.containsKey(h.getSpec().getScaleTargetRef().getName())));
            assertTrue(byName(objects, PodDisruptionBudget.class).keySet().containsAll(Set.of("gateway-service", "inference-service")));
            Map<String, NetworkPolicy> policies = byName(objects, NetworkPolicy.class);
            assertEquals(List.of("gateway-service"), policies.get("bkg-mesh-internal").getSpec().getPodSelector()
                    .getMatchExpressions().get(0).getValues(), "every pod but the gateway takes traffic only from the mesh");
            assertEquals("LoadBalancer", services.get("gateway-service").getSpec().getType());
        } else {
            assertEquals("NodePort", services.get("gateway-service").getSpec().getType());
        }
    }

    /**
     * The plugin manager runs the kubernetes plugin runtime with its registry mounted: every plugin
     * there is exactly one Deployment labelled with its id, with a Service on the plugin's port, and a
     * replicas annotation where it starts at 0; its service account may scale, restart and read them.
     */
    static void assertPluginManagerDrivesThePluginDeployments(List<HasMetadata> objects, Map<String, Deployment> deployments,
            Map<String, Service> services, Map<String, ConfigMap> configMaps) throws Exception {
        PodSpec pod = deployments.get("plugin-manager-service").getSpec().getTemplate().getSpec();
        Container manager = pod.getContainers().get(0);
        assertEquals("kubernetes", env(manager, "BKG_PLUGINS_RUNTIME"));
        assertEquals("plugin-manager", pod.getServiceAccountName());
        Path registry = Path.of(env(manager, "BKG_PLUGINS_REGISTRY"));
        String volume = manager.getVolumeMounts().stream().filter(m -> registry.getParent().equals(Path.of(m.getMountPath())))
                .findFirst().orElseThrow(() -> new AssertionError("nothing mounted at " + registry.getParent())).getName();
        String configMap = pod.getVolumes().stream().filter(v -> v.getName().equals(volume)).findFirst().orElseThrow()
                .getConfigMap().getName();
        String json = configMaps.get(configMap).getData().get(registry.getFileName().toString());
        assertNotNull(json, "the registry in ConfigMap " + configMap);
        JsonNode plugins = new ObjectMapper().readTree(json).get("plugins");
        assertEquals(5, plugins.size(), "apikeys, llmserver, candle, brainml, rustyface");
        for (JsonNode plugin : plugins) {
            String id = plugin.get("name").asText();
            List<Deployment> labelled = deployments.values().stream().filter(d -> d.getMetadata().getLabels() != null
                    && id.equals(d.getMetadata().getLabels().get("bkg.dev/plugin"))).toList();
            assertEquals(1, labelled.size(), "one Deployment labelled bkg.dev/plugin=" + id);
            Deployment deployment = labelled.get(0);
            Service service = services.get(deployment.getMetadata().getName());
            assertEquals(plugin.get("port").asInt(), service.getSpec().getPorts().get(0).getPort(), id + "'s Service port");
            if (deployment.getSpec().getReplicas() == 0) {
                assertNotNull(deployment.getMetadata().getAnnotations().get("bkg.dev/replicas"), id + " says what start scales to");
            }
        }
        Role role = byName(objects, Role.class).get("plugin-manager");
        List<String> granted = role.getRules().stream().flatMap(r -> r.getResources().stream()
                .flatMap(resource -> r.getVerbs().stream().map(verb -> resource + ":" + verb))).toList();
        assertTrue(granted.containsAll(List.of("deployments:list", "deployments:patch", "deployments/scale:update",
                "pods:list", "pods/log:get")), "the plugin manager's Role: " + granted);
        RoleBinding binding = byName(objects, RoleBinding.class).get("plugin-manager");
        assertEquals("plugin-manager", binding.getRoleRef().getName());
        assertEquals("plugin-manager", binding.getSubjects().get(0).getName());
        assertTrue(byName(objects, ServiceAccount.class).containsKey("plugin-manager"));
    }

    static String render(String overlay) throws Exception {
        Process kubectl;
        try {
            kubectl = new ProcessBuilder("kubectl", "kustomize", OVERLAYS.resolve(overlay).toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        } catch (java.io.IOException e) {
            throw new AssertionError("kubectl (with its built-in kustomize, v5) is needed to render the overlays: " + e.getMessage());
        }
        String yaml = new String(kubectl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(kubectl.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, kubectl.exitValue(), "kubectl kustomize overlays/" + overlay);
        return yaml;
    }

    @SuppressWarnings("unchecked")
    static List<HasMetadata> parse(String yaml) {
        Object parsed = new KubernetesSerialization().unmarshal(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)));
        return parsed instanceof List<?> list ? (List<HasMetadata>) list : List.of((HasMetadata) parsed);
    }

    static <T extends HasMetadata> Map<String, T> byName(List<HasMetadata> objects, Class<T> kind) {
        return objects.stream().filter(kind::isInstance).map(kind::cast)
                .collect(Collectors.toMap(o -> o.getMetadata().getName(), o -> o));
    }

    static String env(Container c, String name) {
        return c.getEnv().stream().filter(e -> e.getName().equals(name)).map(e -> e.getValue()).findFirst().orElse(null);
    }

    /** Fails on any field the model did not know (fabric8 keeps those in additionalProperties), at any depth. */
    static void assertStrict(Object object, String where) throws Exception {
        walk(object, where, new IdentityHashMap<>());
    }

    private static void walk(Object value, String where, IdentityHashMap<Object, Boolean> seen) throws Exception {
        if (value == null || seen.put(value, true) != null) {
            return;
        }
        if (value instanceof Collection<?> items) {
            int i = 0;
            for (Object item : items) {
                walk(item, where + "[" + i++ + "]", seen);
            }
            return;
        }
        if (value instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                walk(e.getValue(), where + "." + e.getKey(), seen);
            }
            return;
        }
        if (!(value instanceof KubernetesResource) || value instanceof Quantity) {
            return;
        }
        List<String> unknown = new ArrayList<>();
        for (PropertyDescriptor property : Introspector.getBeanInfo(value.getClass()).getPropertyDescriptors()) {
            if (property.getReadMethod() == null || property.getReadMethod().getParameterCount() > 0) {
                continue;
            }
            Object child = property.getReadMethod().invoke(value);
            if (property.getName().equals("additionalProperties")) {
                if (child instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    unknown.add(extra.keySet().toString());
                }
            } else {
                walk(child, where + "." + property.getName(), seen);
            }
        }
        if (!unknown.isEmpty()) {
            fail(where + ": fields the Kubernetes model does not know: " + unknown);
        }
    }
}
