package dev.bkg.pluginmanager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.bkg.pluginmanager.domain.KubernetesPluginSupervisor;
import dev.bkg.pluginmanager.domain.PluginLog;
import dev.bkg.pluginmanager.domain.PluginSpec;
import dev.bkg.pluginmanager.domain.PluginState;
import dev.bkg.pluginmanager.domain.PluginStatus;
import dev.bkg.pluginmanager.domain.RegistryLoader;
import dev.bkg.pluginmanager.domain.StatusEvents;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetricsListBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;

/**
 * The Kubernetes plugin runtime against fabric8's mock API server: no real API server can run
 * here, so the mock stands for one. It keeps objects (CRUD mode: what is created, patched and
 * scaled is there to read back) and answers set expectations first (pod logs and pod metrics,
 * which CRUD mode does not serve). Nothing runs the pods: the tests write their statuses as a
 * kubelet would.
 */
public class KubernetesPluginRuntimeTest {

    static final String NS = "test";
    static final String ID = "llmserver";
    static final String DEPLOYMENT = "inference-llm"; // not the plugin id: found by its label
    static final String RESTARTED_AT = "kubectl.kubernetes.io/restartedAt";

    KubernetesMockServer server;
    KubernetesClient client;
    ScheduledExecutorService scheduler;
    StatusEvents events;
    List<StatusEvents.Change> published;
    PluginLog log;
    KubernetesPluginSupervisor supervisor;

    /**
     * A started mock API server in CRUD mode that answers expectations first (what the JUnit
     * extension builds; {@code new KubernetesMockServer(true)} would only mean https).
     */
    public static KubernetesMockServer crudMockServer() {
        Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
        KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), responses,
                new KubernetesMixedDispatcher(responses), false);
        server.init();
        return server;
    }

    @BeforeEach
    void startMockApiServer() {
        server = crudMockServer();
        // the manager's HTTP client (the mock's default would be the Vert.x one, left out of the build)
        client = server.createClient(new JdkHttpClientFactory());
        // CRUD mode serves no pod logs: the pod most tests run prints nothing (see the log test for lines)
        server.expect().get().withPath(logPath("inference-llm-a")).andReturn(200, "").always();
        scheduler = Executors.newScheduledThreadPool(2);
        events = new StatusEvents();
        published = new CopyOnWriteArrayList<>();
        events.changes().subscribe().with(published::add);
        log = new PluginLog(ID, 1000, null, 0, 0);
    }

    @AfterEach
    void stopMockApiServer() {
        if (supervisor != null) {
            supervisor.close();
        }
        scheduler.shutdownNow();
        client.close();
        server.destroy();
    }

    @Test
    void startScalesToTheWantedReplicasAndStopScalesToZero() throws Exception {
        client.apps().deployments().inNamespace(NS).resource(deployment(0, "2")).create();
        supervisor = watch(spec(Duration.ofSeconds(60)));
        await(() -> supervisor.available() && supervisor.host().equals("inference-llm-svc"), "first look at the Deployment");
        assertEquals(PluginState.STOPPED, supervisor.status().state());
        assertEquals(0, supervisor.status().pid());

        CompletableFuture<PluginStatus> started = supervisor.start();
        await(() -> replicas() == 2, "scaled to the bkg.dev/replicas annotation");
        await(() -> supervisor.status().state() == PluginState.STARTING, "STARTING while no pod is ready");
        assertFalse(started.isDone(), "start completes once a pod is ready, not before");

        client.pods().inNamespace(NS).resource(pod("inference-llm-a", true, running())).create();
        PluginStatus running = started.get(10, TimeUnit.SECONDS);
        assertEquals(PluginState.RUNNING, running.state());
        assertTrue(published.stream().anyMatch(c -> c.status().state() == PluginState.RUNNING
                && c.previous() == PluginState.STARTING), "RUNNING published after STARTING: " + published);
        assertEquals(2, replicas(), "a second start of a running plugin changes nothing");
        assertEquals(PluginState.RUNNING, supervisor.start().get(10, TimeUnit.SECONDS).state());

        CompletableFuture<PluginStatus> stopped = supervisor.stop(false);
        await(() -> replicas() == 0, "scaled to 0");
        await(() -> supervisor.status().state() == PluginState.STOPPING, "STOPPING while the pod terminates");
        client.pods().inNamespace(NS).withName("inference-llm-a").delete();
        assertEquals(PluginState.STOPPED, stopped.get(10, TimeUnit.SECONDS).state());
        assertTrue(published.stream().anyMatch(c -> c.status().state() == PluginState.STOPPED
                && c.previous() == PluginState.STOPPING), "STOPPED published after STOPPING: " + published);
    }

    @Test
    void restartIsARolloutRestartThatStampsThePodTemplate() throws Exception {
        client.apps().deployments().inNamespace(NS).resource(deployment(1, null)).create();
        client.pods().inNamespace(NS).resource(pod("inference-llm-a", true, running())).create();
        supervisor = watch(spec(Duration.ofSeconds(60)));
        await(() -> supervisor.status().state() == PluginState.RUNNING, "RUNNING with a ready pod");
        assertEquals("2020-01-01T00:00:00Z", restartedAt());

        Instant before = Instant.now().minusSeconds(2);
        supervisor.restart().get(10, TimeUnit.SECONDS);
        String stamped = restartedAt();
        assertNotEquals("2020-01-01T00:00:00Z", stamped, "the rollout restart sets a new restartedAt");
        assertTrue(!Instant.parse(stamped).isBefore(before), "restartedAt is now, not " + stamped);
        assertEquals(1, replicas(), "a restart keeps the replicas");
        assertTrue(log.lastTexts(20).stream().anyMatch(t -> t.equals("rollout restart of Deployment " + DEPLOYMENT)));
    }

    @Test
    void theStateFollowsPodReadiness() throws Exception {
        client.apps().deployments().inNamespace(NS).resource(deployment(1, null)).create();
        client.pods().inNamespace(NS).resource(pod("inference-llm-a", false, running())).create();
        supervisor = watch(spec(Duration.ofSeconds(60)));
        await(() -> supervisor.status().state() == PluginState.STARTING, "STARTING while the pod is not ready");
        assertEquals(DEPLOYMENT, supervisor.host(), "without bkg.dev/service the Service is named like the Deployment");

        client.pods().inNamespace(NS).resource(pod("inference-llm-a", true, running())).update();
        await(() -> supervisor.status().state() == PluginState.RUNNING, "RUNNING once the pod is ready");
        assertTrue(published.stream().anyMatch(c -> c.status().state() == PluginState.RUNNING));

        client.pods().inNamespace(NS).resource(pod("inference-llm-a", false, running())).update();
        await(() -> supervisor.status().state() == PluginState.UNHEALTHY, "UNHEALTHY when the ready pod is not ready any more");
        assertTrue(supervisor.status().message().contains("no pod of Deployment inference-llm is ready"),
                supervisor.status().message());
        assertTrue(published.stream().anyMatch(c -> c.status().state() == PluginState.UNHEALTHY
                && c.previous() == PluginState.RUNNING), "UNHEALTHY published after RUNNING: " + published);
    }

    @Test
    void aPodThatNeverGetsReadyIsUnhealthyAfterTheStartTimeout() throws Exception {
        client.apps().deployments().inNamespace(NS).resource(deployment(1, null)).create();
        client.pods().inNamespace(NS).resource(pod("inference-llm-a", false, running())).create();
        supervisor = watch(spec(Duration.ofMillis(800)));
        await(() -> supervisor.status().state() == PluginState.STARTING, "STARTING first");
        await(() -> supervisor.status().state() == PluginState.UNHEALTHY, "UNHEALTHY after the start timeout");
        assertTrue(supervisor.status().message().contains("ready within"), supervisor.status().message());
    }

    @Test
    void aContainerInCrashLoopBackOffIsBackoffWithItsRestartsAndExitCode() throws Exception {
        client.apps().deployments().inNamespace(NS).resource(deployment(1, null)).create();
        ContainerStatus crashLooping = new ContainerStatusBuilder().withName("main").withRestartCount(3).withReady(false)
                .withNewState().withNewWaiting().withReason("CrashLoopBackOff")
                .withMessage("back-off 40s restarting failed container").endWaiting().endState()
                .withNewLastState().withNewTerminated().withExitCode(2).withReason("Error")
                .withFinishedAt("2026-01-01T10:00:00Z").endTerminated().endLastState().build();
        client.pods().inNamespace(NS).resource(pod("inference-llm-a", false, crashLooping)).create();
        supervisor = watch(spec(Duration.ofSeconds(60)));
        await(() -> supervisor.status().state() == PluginState.BACKOFF, "BACKOFF");
        PluginStatus status = supervisor.status();
        assertEquals(3, status.restarts());
        assertEquals(2, status.lastExitCode());
        assertTrue(status.message().contains("CrashLoopBackOff"), status.message());
        assertTrue(published.stream().anyMatch(c -> c.status().state() == PluginState.BACKOFF && c.status().restarts() == 3
                && c.status().lastExitCode() == 2), "BACKOFF published: " + published);
    }

    @Test
    void withoutItsDeploymentThePluginIsUnavailable() throws Exception {
        client.apps().deployments().inNamespace(NS).resource(new DeploymentBuilder(deployment(0, null))
                .editMetadata().withName("other-plugin").withLabels(Map.of("bkg.dev/plugin", "someone-else")).endMetadata()
                .build()).create();
        supervisor = watch(spec(Duration.ofSeconds(60)));
        String why = "no Deployment labelled bkg.dev/plugin=llmserver in namespace test";
        await(() -> !supervisor.available(), "unavailable");
        assertEquals(why, supervisor.unavailableReason());
        assertEquals(why, supervisor.status().message());
        ExecutionException failed = assertThrows(ExecutionException.class, () -> supervisor.start().get(10, TimeUnit.SECONDS));
        assertInstanceOf(IllegalStateException.class, failed.getCause());
        assertTrue(failed.getCause().getMessage().contains(why), failed.getCause().getMessage());

        client.apps().deployments().inNamespace(NS).resource(deployment(0, null)).create();
        await(supervisor::available, "available once its Deployment exists");
    }

    @Test
    void theRunningPodsLogArrivesInThePluginLog() throws Exception {
        // CRUD mode serves no pod logs: an expectation answers the follow request with two lines
        server.expect().get().withPath(logPath("inference-llm-b")).andReturn(200, "INFO model loaded\nWARN slow first token\n")
                .always();
        client.apps().deployments().inNamespace(NS).resource(deployment(1, null)).create();
        client.pods().inNamespace(NS).resource(pod("inference-llm-b", true, running())).create();
        supervisor = watch(spec(Duration.ofSeconds(60)));
        await(() -> stdout().equals(List.of("INFO model loaded", "WARN slow first token")), "the pod's lines, once");
        assertTrue(log.lastTexts(20).contains("following the log of pod inference-llm-b (container main)"),
                log.lastTexts(20).toString());
        Thread.sleep(400); // a few more polls: the same container run is not read twice
        assertEquals(2, stdout().size());

        client.pods().inNamespace(NS).withName("inference-llm-b").delete();
        await(() -> log.lastTexts(20).contains("stopped following the log of pod inference-llm-b: the pod is gone"),
                "the follow ends with the pod");
    }

    @Test
    void cpuAndMemoryComeFromTheMetricsApiWhenThereIsOne() throws Exception {
        client.apps().deployments().inNamespace(NS).resource(deployment(1, null)).create();
        client.pods().inNamespace(NS).resource(pod("inference-llm-a", true, running())).create();
        supervisor = watch(spec(Duration.ofSeconds(60)));
        await(() -> supervisor.status().state() == PluginState.RUNNING, "RUNNING");
        assertTrue(supervisor.resourceUse().isEmpty(), "no metrics API: no figures (and no error)");
        supervisor.close();

        server.expect().get().withPath("/apis/metrics.k8s.io/v1beta1/namespaces/test/pods?labelSelector=app%3Dinference-llm")
                .andReturn(200, new PodMetricsListBuilder().addNewItem().withNewMetadata().withName("inference-llm-a")
                        .endMetadata().addNewContainer().withName("main")
                        .withUsage(Map.of("cpu", new Quantity("250m"), "memory", new Quantity("300Mi"))).endContainer()
                        .endItem().build()).always();
        supervisor = watch(spec(Duration.ofSeconds(60)));
        await(() -> supervisor.resourceUse().isPresent(), "figures from the metrics API");
        assertEquals(25.0, supervisor.resourceUse().get().cpuPercent(), 0.001);
        assertEquals(300L * 1024 * 1024, supervisor.resourceUse().get().memoryBytes());
    }

    @Test
    void theClusterRegistryLoadsWithThePluginsTheDeploymentsAreLabelledWith() {
        RegistryLoader.Result loaded = new RegistryLoader(name -> null, Path.of("..").toAbsolutePath().normalize())
                .load(Path.of("../deploy/kubernetes/base/plugins.json"));
        assertEquals(List.of(), loaded.errors());
        assertEquals(List.of("apikeys", "llmserver", "candle", "brainml", "rustyface"),
                loaded.plugins().stream().map(PluginSpec::id).toList());
        assertEquals(List.of(8081, 8085, 8087, 8088, 8086), loaded.plugins().stream().map(PluginSpec::port).toList());
    }

    KubernetesPluginSupervisor watch(PluginSpec spec) {
        KubernetesPluginSupervisor s = new KubernetesPluginSupervisor(spec, log, events, client, NS, scheduler,
                Duration.ofMillis(100));
        s.watch();
        return s;
    }

    /** As the registry loads it on the manager's pod: the local entrypoint is missing there, which must not matter. */
    static PluginSpec spec(Duration startTimeout) {
        return new PluginSpec(ID, "chat", "java -jar inference-service.jar", List.of("java", "-jar", "inference-service.jar"),
                Path.of("."), true, List.of("llm.chat"), "/q/health/ready", Duration.ofSeconds(10), 8085,
                PluginSpec.Transport.GRPC, Map.of(), new PluginSpec.RestartPolicy(5, Duration.ofSeconds(10),
                        Duration.ofSeconds(300)),
                Duration.ofSeconds(10), startTimeout, null, false, "inference-service.jar does not exist");
    }

    /** The follow request the client sends for a pod's main container. */
    static String logPath(String pod) {
        return "/api/v1/namespaces/test/pods/" + pod + "/log?pretty=false&container=main&follow=true";
    }

    static Deployment deployment(int replicas, String wantedReplicas) {
        Map<String, String> annotations = new HashMap<>();
        if (wantedReplicas != null) {
            annotations.put("bkg.dev/replicas", wantedReplicas);
            annotations.put("bkg.dev/service", "inference-llm-svc");
        }
        return new DeploymentBuilder().withNewMetadata().withName(DEPLOYMENT).withNamespace(NS)
                .withLabels(Map.of("bkg.dev/plugin", ID)).withAnnotations(annotations).endMetadata()
                .withNewSpec().withReplicas(replicas).withNewSelector().withMatchLabels(Map.of("app", DEPLOYMENT)).endSelector()
                .withNewTemplate().withNewMetadata().withLabels(Map.of("app", DEPLOYMENT))
                .withAnnotations(Map.of(RESTARTED_AT, "2020-01-01T00:00:00Z")).endMetadata()
                .withNewSpec().addNewContainer().withName("main").withImage("bkg/inference-service").endContainer().endSpec()
                .endTemplate().endSpec().build();
    }

    static Pod pod(String name, boolean ready, ContainerStatus container) {
        return new PodBuilder().withNewMetadata().withName(name).withNamespace(NS).withLabels(Map.of("app", DEPLOYMENT))
                .endMetadata().withNewSpec().addNewContainer().withName("main").withImage("bkg/inference-service").endContainer()
                .endSpec().withNewStatus().withPhase("Running").addNewCondition().withType("Ready")
                .withStatus(ready ? "True" : "False").endCondition().withContainerStatuses(container).endStatus().build();
    }

    static ContainerStatus running() {
        return new ContainerStatusBuilder().withName("main").withRestartCount(0).withNewState().withNewRunning()
                .withStartedAt("2026-01-01T10:00:00Z").endRunning().endState().build();
    }

    int replicas() {
        return client.apps().deployments().inNamespace(NS).withName(DEPLOYMENT).get().getSpec().getReplicas();
    }

    String restartedAt() {
        return client.apps().deployments().inNamespace(NS).withName(DEPLOYMENT).get().getSpec().getTemplate().getMetadata()
                .getAnnotations().get(RESTARTED_AT);
    }

    List<String> stdout() {
        return log.tail(100).stream().filter(l -> l.stream() == PluginLog.Stream.STDOUT).map(PluginLog.Line::text).toList();
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("not within 10 s: " + what);
    }
}
