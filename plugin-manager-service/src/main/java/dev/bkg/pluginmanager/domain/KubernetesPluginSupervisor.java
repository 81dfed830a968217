package dev.bkg.pluginmanager.domain;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import org.jboss.logging.Logger;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStateWaiting;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.metrics.v1beta1.PodMetrics;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.LogWatch;
import io.fabric8.kubernetes.client.dsl.RollableScalableResource;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;

/**
 * Runs one plugin as a Kubernetes Deployment, found by its label {@code bkg.dev/plugin=<id>} (its
 * name may differ): start scales it to its wanted replicas (annotation {@code bkg.dev/replicas},
 * default 1), stop scales it to 0, restart is a rollout restart. Its status follows the Deployment
 * and its pods, polled on the shared scheduler (simpler and sturdier than watches that must be
 * re-established): RUNNING with a ready pod, STARTING until one is (UNHEALTHY after the start
 * timeout, or when pods were ready and none is now), BACKOFF while a container waits in a back-off,
 * STOPPING/STOPPED once scaled to 0. Kubernetes restarts crashed containers itself, so there is no
 * CRASHED here, no pid and nothing to clean up: at shutdown the Deployments outlive the manager.
 * The running pods' logs are followed into the plugin's log. All client calls are blocking and run
 * on scheduler threads, under this object's lock; readers get the volatile snapshot without it.
 */
public final class KubernetesPluginSupervisor implements PluginSupervisor {

    private static final Logger LOG = Logger.getLogger(KubernetesPluginSupervisor.class);
    public static final String PLUGIN_LABEL = "bkg.dev/plugin";
    public static final String REPLICAS_ANNOTATION = "bkg.dev/replicas";
    public static final String SERVICE_ANNOTATION = "bkg.dev/service";
    static final String RESTARTED_AT = "kubectl.kubernetes.io/restartedAt";
    /** The metrics server samples every 15 s or so: asking more often only loads the API server. */
    static final Duration METRICS_EVERY = Duration.ofSeconds(10);

    private final PluginSpec spec;
    private final PluginLog log;
    private final StatusEvents events;
    private final KubernetesClient client;
    private final String namespace;
    private final ScheduledExecutorService scheduler;
    private final Duration pollInterval;

    private PluginState state = PluginState.STOPPED;
    private long sinceMs = System.currentTimeMillis();
    private long startingSinceMs;
    private int restarts;
    private int lastExitCode;
    private String message = "";
    private String deploymentName;
    private CompletableFuture<PluginStatus> settled = new CompletableFuture<>();
    private CompletableFuture<PluginStatus> stopped = new CompletableFuture<>();
    /** The pods whose log is followed, with the container restart count it was opened at. */
    private final Map<String, FollowedLog> followed = new HashMap<>();
    private long metricsDueMs;
    private boolean metricsMissingLogged;
    private ScheduledFuture<?> poller;

    private volatile PluginStatus current;
    /** Until the first look the plugin counts as available: start looks again and fails when it is not. */
    private volatile String missing;
    private volatile String host;
    private volatile ResourceUse resourceUse;

    private record FollowedLog(int restartCount, LogWatch watch) {
    }

    /** What one look at the API server found; {@code deployment} null when there is none. */
    private record Observed(Deployment deployment, List<Pod> pods) {
    }

    public KubernetesPluginSupervisor(PluginSpec spec, PluginLog log, StatusEvents events, KubernetesClient client,
            String namespace, ScheduledExecutorService scheduler, Duration pollInterval) {
        this.spec = spec;
        this.log = log;
        this.events = events;
        this.client = client;
        this.namespace = namespace;
        this.scheduler = scheduler;
        this.pollInterval = pollInterval;
        this.host = spec.id();
        snapshot();
    }

    @Override
    public PluginSpec spec() {
        return spec;
    }

    @Override
    public PluginLog log() {
        return log;
    }

    @Override
    public PluginStatus status() {
        return current;
    }

    /** The plugin's Service: annotation {@code bkg.dev/service} of its Deployment, else the Deployment's name. */
    @Override
    public String host() {
        return host;
    }

    /** Whether its Deployment exists (the registry's local entrypoint check means nothing in a cluster). */
    @Override
    public boolean available() {
        return missing == null;
    }

    @Override
    public String unavailableReason() {
        return missing == null ? "" : missing;
    }

    @Override
    public Optional<ResourceUse> resourceUse() {
        return Optional.ofNullable(resourceUse);
    }

    /** Begins following the Deployment: a first look at once, then one every poll interval. */
    public synchronized void watch() {
        if (poller == null) {
            poller = scheduler.scheduleWithFixedDelay(this::pollQuietly, 0, pollInterval.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Stops following (the manager stops): the Deployment and its pods are left as they are. */
    public synchronized void close() {
        if (poller != null) {
            poller.cancel(false);
            poller = null;
        }
        followed.keySet().stream().toList().forEach(pod -> unfollow(pod, "the plugin manager stops"));
    }

    @Override
    public CompletableFuture<PluginStatus> start() {
        return CompletableFuture.supplyAsync(this::scaleUp, scheduler).thenCompose(f -> f);
    }

    @Override
    public CompletableFuture<PluginStatus> stop(boolean force) {
        return CompletableFuture.supplyAsync(this::scaleDown, scheduler).thenCompose(f -> f);
    }

    /** A rollout restart, as {@code kubectl rollout restart} does; a plugin scaled to 0 is started instead. */
    @Override
    public CompletableFuture<PluginStatus> restart() {
        return CompletableFuture.supplyAsync(this::rolloutRestart, scheduler).thenCompose(f -> f);
    }

    private synchronized CompletableFuture<PluginStatus> scaleUp() {
        Deployment deployment = refresh();
        if (deployment == null) {
            throw new IllegalStateException("plugin '" + spec.id() + "' is not available: " + missing);
        }
        if (state == PluginState.RUNNING || state == PluginState.UNHEALTHY) {
            return CompletableFuture.completedFuture(current);
        }
        if (settled.isDone()) {
            settled = new CompletableFuture<>();
        }
        if (replicas(deployment) == 0) {
            int wanted = wantedReplicas(deployment);
            log.system("scaling Deployment " + deploymentName + " to " + wanted + " replica" + (wanted == 1 ? "" : "s"));
            deployment(deploymentName).scale(wanted);
            refresh();
        }
        return settled;
    }

    private synchronized CompletableFuture<PluginStatus> scaleDown() {
        Deployment deployment = refresh();
        if (deployment == null || state == PluginState.STOPPED) {
            return CompletableFuture.completedFuture(current);
        }
        if (stopped.isDone()) {
            stopped = new CompletableFuture<>();
        }
        if (replicas(deployment) > 0) {
            log.system("scaling Deployment " + deploymentName + " to 0 replicas");
            deployment(deploymentName).scale(0);
            refresh();
        }
        return stopped;
    }

    private synchronized CompletableFuture<PluginStatus> rolloutRestart() {
        Deployment deployment = refresh();
        if (deployment == null) {
            throw new IllegalStateException("plugin '" + spec.id() + "' is not available: " + missing);
        }
        if (replicas(deployment) == 0) {
            return scaleUp();
        }
        log.system("rollout restart of Deployment " + deploymentName);
        // as kubectl rollout restart does (fabric8's rolling().restart() writes a local time without its zone)
        String restartedAt = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        deployment(deploymentName).patch(PatchContext.of(PatchType.JSON_MERGE),
                "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"" + RESTARTED_AT + "\":\"" + restartedAt + "\"}}}}}");
        refresh();
        // the old pods serve until new ones are ready: the status stream shows the rollout
        return CompletableFuture.completedFuture(current);
    }

    private void pollQuietly() {
        try {
            synchronized (this) {
                refresh();
            }
        } catch (RuntimeException e) {
            // the API server may be briefly unreachable: keep the last known state, try again next poll
            LOG.warnf("plugin %s: cannot read Deployment and pods from namespace %s: %s", spec.id(), namespace,
                    e.getMessage());
        }
    }

    /** Looks at the Deployment and its pods and moves the state accordingly; answers the Deployment. */
    private Deployment refresh() {
        Observed observed = observe();
        apply(observed);
        return observed.deployment();
    }

    private Observed observe() {
        Deployment deployment = client.apps().deployments().inNamespace(namespace).withLabel(PLUGIN_LABEL, spec.id())
                .list().getItems().stream().min(Comparator.comparing(d -> d.getMetadata().getName())).orElse(null);
        if (deployment == null) {
            return new Observed(null, List.of());
        }
        List<Pod> pods = deployment.getSpec().getSelector() == null ? List.of()
                : client.pods().inNamespace(namespace).withLabelSelector(deployment.getSpec().getSelector()).list()
                        .getItems();
        return new Observed(deployment, pods);
    }

    private void apply(Observed observed) {
        long now = System.currentTimeMillis();
        Deployment deployment = observed.deployment();
        if (deployment == null) {
            String why = "no Deployment labelled " + PLUGIN_LABEL + "=" + spec.id() + " in namespace " + namespace;
            if (missing == null) {
                log.system(why);
            }
            missing = why;
            deploymentName = null;
            resourceUse = null;
            followed.keySet().stream().toList().forEach(pod -> unfollow(pod, "its Deployment is gone"));
            transition(PluginState.STOPPED, why);
            settled.complete(current);
            stopped.complete(current);
            return;
        }
        missing = null;
        deploymentName = deployment.getMetadata().getName();
        Map<String, String> annotations = deployment.getMetadata().getAnnotations();
        host = annotations != null && annotations.get(SERVICE_ANNOTATION) != null ? annotations.get(SERVICE_ANNOTATION)
                : deploymentName;

        List<Pod> pods = observed.pods();
        int replicas = replicas(deployment);
        long ready = pods.stream().filter(KubernetesPluginSupervisor::ready).count();
        restarts = pods.stream().flatMap(p -> containerStatuses(p).stream())
                .mapToInt(c -> c.getRestartCount() == null ? 0 : c.getRestartCount()).sum();
        lastExitCode(pods).ifPresent(code -> lastExitCode = code);
        String backoff = backoff(pods);

        if (replicas == 0) {
            transition(pods.isEmpty() ? PluginState.STOPPED : PluginState.STOPPING,
                    pods.isEmpty() ? "" : "scaled to 0, " + pods.size() + " pod" + (pods.size() == 1 ? "" : "s") + " still terminating");
        } else if (ready > 0) {
            transition(PluginState.RUNNING, ready + " of " + replicas + " pods ready");
        } else if (backoff != null) {
            transition(PluginState.BACKOFF, backoff);
        } else if (state == PluginState.RUNNING || state == PluginState.UNHEALTHY) {
            transition(PluginState.UNHEALTHY, "no pod of Deployment " + deploymentName + " is ready (" + pods.size() + " pods)");
        } else {
            if (state != PluginState.STARTING) {
                startingSinceMs = now;
            }
            if (now - startingSinceMs > spec.startTimeout().toMillis()) {
                transition(PluginState.UNHEALTHY, "no pod of Deployment " + deploymentName + " ready within "
                        + spec.startTimeout().toSeconds() + " s");
            } else {
                transition(PluginState.STARTING, "waiting for a ready pod of Deployment " + deploymentName);
            }
        }
        switch (state) {
            case RUNNING, UNHEALTHY, BACKOFF -> settled.complete(current);
            case STOPPED -> {
                settled.complete(current);
                stopped.complete(current);
            }
            default -> {
            }
        }
        followLogs(pods);
        if (ready == 0) {
            resourceUse = null;
        } else if (now >= metricsDueMs) {
            metricsDueMs = now + METRICS_EVERY.toMillis();
            readMetrics(deployment);
        }
    }

    /** Changes the state and publishes it when anything a caller sees changed (state, message, restarts, exit code). */
    private void transition(PluginState next, String why) {
        PluginState previous = state;
        PluginStatus before = current;
        state = next;
        message = why == null ? "" : why;
        if (previous != next) {
            sinceMs = System.currentTimeMillis();
            LOG.infof("plugin %s: %s -> %s%s", spec.id(), previous, next, message.isEmpty() ? "" : " (" + message + ")");
            log.system(next + (message.isEmpty() ? "" : ": " + message));
        }
        PluginStatus now = snapshot();
        if (previous != next || before == null || !before.message().equals(now.message())
                || before.restarts() != now.restarts() || before.lastExitCode() != now.lastExitCode()) {
            events.publish(now, previous);
        }
    }

    private PluginStatus snapshot() {
        current = new PluginStatus(spec.id(), state, 0, sinceMs, restarts, lastExitCode, message, 0);
        return current;
    }

    /** Follows the log of every pod whose main container runs, once per container run; forgets pods that are gone. */
    private void followLogs(List<Pod> pods) {
        Map<String, Pod> byName = new HashMap<>();
        pods.forEach(p -> byName.put(p.getMetadata().getName(), p));
        followed.keySet().stream().filter(name -> !byName.containsKey(name)).toList()
                .forEach(name -> unfollow(name, "the pod is gone"));
        for (Pod pod : pods) {
            String name = pod.getMetadata().getName();
            Container main = pod.getSpec() == null || pod.getSpec().getContainers() == null
                    || pod.getSpec().getContainers().isEmpty() ? null : pod.getSpec().getContainers().get(0);
            ContainerStatus status = containerStatuses(pod).stream()
                    .filter(c -> main == null || main.getName().equals(c.getName())).findFirst().orElse(null);
            if (main == null || status == null || status.getState() == null || status.getState().getRunning() == null) {
                continue;
            }
            int restartCount = status.getRestartCount() == null ? 0 : status.getRestartCount();
            FollowedLog known = followed.get(name);
            if (known != null && known.restartCount() == restartCount) {
                continue;
            }
            if (known != null) {
                unfollow(name, "its container restarted");
            }
            try {
                LogWatch watch = client.pods().inNamespace(namespace).withName(name).inContainer(main.getName()).watchLog();
                followed.put(name, new FollowedLog(restartCount, watch));
                log.system("following the log of pod " + name + " (container " + main.getName() + ")");
                log.copyLines(watch.getOutput(), PluginLog.Stream.STDOUT, "plugin-" + spec.id() + "-pod-" + name);
            } catch (RuntimeException e) {
                log.system("cannot follow the log of pod " + name + ": " + e.getMessage());
            }
        }
    }

    private void unfollow(String pod, String why) {
        FollowedLog known = followed.remove(pod);
        if (known != null) {
            known.watch().close();
            log.system("stopped following the log of pod " + pod + ": " + why);
        }
    }

    /** CPU and memory of the plugin's pods from the metrics API; without one (no metrics-server) simply none. */
    private void readMetrics(Deployment deployment) {
        if (deployment.getSpec().getSelector() == null
                || deployment.getSpec().getSelector().getMatchLabels() == null) {
            resourceUse = null;
            return;
        }
        try {
            List<PodMetrics> metrics = client.top().pods().inNamespace(namespace)
                    .withLabels(deployment.getSpec().getSelector().getMatchLabels()).metrics().getItems();
            BigDecimal cores = BigDecimal.ZERO;
            BigDecimal bytes = BigDecimal.ZERO;
            for (PodMetrics pod : metrics) {
                for (var container : pod.getContainers()) {
                    Quantity cpu = container.getUsage().get("cpu");
                    Quantity memory = container.getUsage().get("memory");
                    cores = cpu == null ? cores : cores.add(cpu.getNumericalAmount());
                    bytes = memory == null ? bytes : bytes.add(memory.getNumericalAmount());
                }
            }
            resourceUse = metrics.isEmpty() ? null : new ResourceUse(cores.doubleValue() * 100, bytes.longValue());
        } catch (RuntimeException e) {
            resourceUse = null;
            if (!metricsMissingLogged) {
                metricsMissingLogged = true; // once: a cluster without metrics-server stays without it
                LOG.debugf("plugin %s: no pod metrics (is metrics-server installed?): %s", spec.id(), e.getMessage());
            }
        }
    }

    private RollableScalableResource<Deployment> deployment(String name) {
        return client.apps().deployments().inNamespace(namespace).withName(name);
    }

    private static int replicas(Deployment deployment) {
        Integer replicas = deployment.getSpec().getReplicas();
        return replicas == null ? 1 : replicas; // Kubernetes' own default
    }

    /** How many replicas start scales to: annotation bkg.dev/replicas, default 1. */
    private int wantedReplicas(Deployment deployment) {
        Map<String, String> annotations = deployment.getMetadata().getAnnotations();
        String wanted = annotations == null ? null : annotations.get(REPLICAS_ANNOTATION);
        if (wanted == null) {
            return 1;
        }
        try {
            return Math.max(1, Integer.parseInt(wanted.trim()));
        } catch (NumberFormatException e) {
            log.system("annotation " + REPLICAS_ANNOTATION + "=\"" + wanted + "\" is not a number: using 1");
            return 1;
        }
    }

    private static boolean ready(Pod pod) {
        return pod.getMetadata().getDeletionTimestamp() == null && pod.getStatus() != null
                && pod.getStatus().getConditions() != null && pod.getStatus().getConditions().stream()
                        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    private static List<ContainerStatus> containerStatuses(Pod pod) {
        return pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null ? List.of()
                : pod.getStatus().getContainerStatuses();
    }

    /** The first container waiting in a back-off (CrashLoopBackOff, ImagePullBackOff), said in words, or null. */
    private static String backoff(List<Pod> pods) {
        for (Pod pod : pods) {
            for (ContainerStatus c : containerStatuses(pod)) {
                ContainerStateWaiting waiting = c.getState() == null ? null : c.getState().getWaiting();
                if (waiting != null && waiting.getReason() != null && waiting.getReason().endsWith("BackOff")) {
                    return "container " + c.getName() + " of pod " + pod.getMetadata().getName() + ": " + waiting.getReason()
                            + (waiting.getMessage() == null || waiting.getMessage().isBlank() ? "" : ": " + waiting.getMessage());
                }
            }
        }
        return null;
    }

    /** The exit code of the most recent container termination among the pods, if any. */
    private static Optional<Integer> lastExitCode(List<Pod> pods) {
        ContainerStateTerminated latest = null;
        for (Pod pod : pods) {
            for (ContainerStatus c : containerStatuses(pod)) {
                ContainerStateTerminated t = c.getLastState() == null ? null : c.getLastState().getTerminated();
                if (t != null && t.getExitCode() != null && (latest == null || finished(t).isAfter(finished(latest)))) {
                    latest = t;
                }
            }
        }
        return latest == null ? Optional.empty() : Optional.of(latest.getExitCode());
    }

    private static Instant finished(ContainerStateTerminated t) {
        try {
            return t.getFinishedAt() == null ? Instant.EPOCH : Instant.parse(t.getFinishedAt());
        } catch (RuntimeException e) {
            return Instant.EPOCH;
        }
    }
}
