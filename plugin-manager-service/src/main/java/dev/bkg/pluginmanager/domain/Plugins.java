package dev.bkg.pluginmanager.domain;

import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.vertx.VertxContextSupport;

/**
 * The plugins of this mesh: the registry loaded from plugins.json, one supervisor per plugin,
 * orphan clean-up and autostart at boot, and every plugin stopped when the manager stops.
 * {@code bkg.plugins.runtime} says what a plugin is: {@code local} (default) a process of this
 * machine, {@code kubernetes} a Deployment of the cluster — those outlive the manager, so at
 * shutdown they are only let go, never scaled down.
 */
@ApplicationScoped
public class Plugins {

    private static final Logger LOG = Logger.getLogger(Plugins.class);
    /** Variables of the manager that no plugin inherits unless its plugins.json env names them. */
    private static final List<String> PRIVATE_ENV = List.of("BKG_ADMIN_PASSWORD");

    private final Map<String, PluginSupervisor> supervisors = new LinkedHashMap<>();
    private final List<String> registryErrors = new ArrayList<>();
    private final PluginConfigs configs;
    private final StatusEvents events;
    private final Path registry;
    private final Optional<Path> workdir;
    private final Path home;
    private final int logLines;
    private final long logFileBytes;
    private final int logFiles;
    private final boolean autostart;
    private final String runtime;
    private final Optional<String> kubernetesNamespace;
    private final Duration kubernetesPollInterval;
    /** Only in the kubernetes runtime. */
    private KubernetesClient kubernetes;
    private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2, r -> {
        Thread t = new Thread(r, "plugin-supervision");
        t.setDaemon(true);
        return t;
    });
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    Plugins(PluginConfigs configs, StatusEvents events,
            @ConfigProperty(name = "bkg.plugins.registry", defaultValue = "plugins/plugins.json") Path registry,
            @ConfigProperty(name = "bkg.plugins.workdir") Optional<Path> workdir,
            @ConfigProperty(name = "bkg.home", defaultValue = ".bkg") Path home,
            @ConfigProperty(name = "bkg.plugins.log-lines", defaultValue = "5000") int logLines,
            @ConfigProperty(name = "bkg.plugins.log-file-bytes", defaultValue = "5242880") long logFileBytes,
            @ConfigProperty(name = "bkg.plugins.log-files", defaultValue = "3") int logFiles,
            @ConfigProperty(name = "bkg.plugins.autostart", defaultValue = "true") boolean autostart,
            @ConfigProperty(name = "bkg.plugins.runtime", defaultValue = "local") String runtime,
            @ConfigProperty(name = "bkg.plugins.kubernetes.namespace") Optional<String> kubernetesNamespace,
            @ConfigProperty(name = "bkg.plugins.kubernetes.poll-interval", defaultValue = "2s") Duration kubernetesPollInterval) {
        this.configs = configs;
        this.events = events;
        this.registry = registry.toAbsolutePath().normalize();
        this.workdir = workdir;
        this.home = home.toAbsolutePath().normalize();
        this.logLines = logLines;
        this.logFileBytes = logFileBytes;
        this.logFiles = logFiles;
        this.autostart = autostart;
        if (!runtime.equals("local") && !runtime.equals("kubernetes")) {
            throw new IllegalArgumentException("bkg.plugins.runtime must be 'local' or 'kubernetes', not '" + runtime + "'");
        }
        this.runtime = runtime;
        this.kubernetesNamespace = kubernetesNamespace;
        this.kubernetesPollInterval = kubernetesPollInterval;
    }

    /** Whether autostart plugins are started with this plugin manager (false: bkg.plugins.autostart=false). */
    public boolean autostarts() {
        return autostart;
    }

    void boot(@Observes StartupEvent event) {
        // the mesh root: plugins/plugins.json lives in it, entrypoints are relative to it
        Path root = workdir.orElse(registry.getParent() == null ? Path.of(".") : registry.getParent().getParent());
        RegistryLoader.Result loaded = new RegistryLoader(System::getenv, root.toAbsolutePath().normalize()).load(registry);
        registryErrors.addAll(loaded.errors());
        loaded.errors().forEach(e -> LOG.errorf("plugins.json: %s (this entry is left out)", e));
        if (runtime.equals("kubernetes")) {
            bootKubernetes(loaded.plugins());
            return;
        }
        Path runDir = home.resolve("run/plugins");
        Set<String> replaced = Orphans.stopAll(runDir, Duration.ofSeconds(10));
        Map<String, String> baseEnv = new HashMap<>(System.getenv());
        PRIVATE_ENV.forEach(baseEnv::remove);
        for (PluginSpec spec : loaded.plugins()) {
            PluginLog log = new PluginLog(spec.id(), logLines, home.resolve("logs/plugins"), logFileBytes, logFiles);
            supervisors.put(spec.id(), new LocalPluginSupervisor(spec, log, events, scheduler, http, Map.copyOf(baseEnv),
                    () -> configs.environment(spec), runDir));
        }
        LOG.infof("%d plugins from %s (%d unavailable, %d rejected)", supervisors.size(), registry,
                supervisors.values().stream().filter(s -> !s.available()).count(), registryErrors.size());
        if (autostart || !replaced.isEmpty()) {
            // configs first (a plugin starts with its stored config); off the event loop, the database may be slow
            CompletableFuture.runAsync(() -> startAtBoot(replaced));
        }
    }

    /**
     * The kubernetes runtime: each plugin is a Deployment of the namespace; no pid files, orphans
     * or process environment. The client configures itself in the cluster (service account).
     */
    private void bootKubernetes(List<PluginSpec> specs) {
        // the JDK's HTTP client, named: on the classpath quarkus-kubernetes brings a factory that wants
        // fabric8's Vert.x client, left out of this build (see the pom)
        kubernetes = new KubernetesClientBuilder().withHttpClientFactory(new JdkHttpClientFactory()).build();
        String namespace = kubernetesNamespace.filter(n -> !n.isBlank())
                .orElse(kubernetes.getNamespace() == null ? "default" : kubernetes.getNamespace());
        for (PluginSpec spec : specs) {
            PluginLog log = new PluginLog(spec.id(), logLines, home.resolve("logs/plugins"), logFileBytes, logFiles);
            KubernetesPluginSupervisor supervisor = new KubernetesPluginSupervisor(spec, log, events, kubernetes, namespace,
                    scheduler, kubernetesPollInterval);
            supervisors.put(spec.id(), supervisor);
            supervisor.watch();
        }
        LOG.infof("%d plugins from %s, run as Deployments labelled %s in namespace %s (%d rejected)", supervisors.size(),
                registry, KubernetesPluginSupervisor.PLUGIN_LABEL, namespace, registryErrors.size());
        if (autostart) {
            CompletableFuture.runAsync(() -> startAtBoot(Set.of()));
        }
    }

    /** The autostart plugins (unless bkg.plugins.autostart is off) and those an earlier manager left running. */
    private void startAtBoot(Set<String> replaced) {
        try {
            VertxContextSupport.subscribeAndAwait(configs::load);
        } catch (Throwable e) {
            LOG.warnf("stored plugin configs could not be read (%s): autostarting with defaults", e.getMessage());
        }
        for (PluginSupervisor supervisor : supervisors.values()) {
            boolean wanted = autostart && supervisor.spec().autostart() || replaced.contains(supervisor.spec().id());
            if (wanted && supervisor.available()) {
                supervisor.start().exceptionally(e -> {
                    LOG.warnf("plugin %s did not start: %s", supervisor.spec().id(), e.getMessage());
                    return null;
                });
            } else if (wanted) {
                LOG.warnf("plugin %s is to start but is not available: %s", supervisor.spec().id(),
                        supervisor.unavailableReason());
            }
        }
    }

    void shutdown(@Observes ShutdownEvent event) {
        if (kubernetes != null) {
            // the Deployments outlive the manager: only the polling, the log streams and the client end
            supervisors.values().forEach(s -> ((KubernetesPluginSupervisor) s).close());
            scheduler.shutdownNow();
            kubernetes.close();
            return;
        }
        List<CompletableFuture<PluginStatus>> stops = new ArrayList<>();
        supervisors.values().forEach(s -> stops.add(s.stop(false)));
        try {
            CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new)).get(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warnf("not every plugin stopped in time: killing the rest");
            supervisors.values().forEach(s -> s.stop(true));
        }
        scheduler.shutdownNow();
    }

    public Collection<PluginSupervisor> all() {
        return supervisors.values();
    }

    public Optional<PluginSupervisor> find(String id) {
        return Optional.ofNullable(id == null ? null : supervisors.get(id));
    }

    public List<String> registryErrors() {
        return List.copyOf(registryErrors);
    }

    /** The plugins declaring a capability, in registry order. */
    public List<PluginSupervisor> providers(String capability) {
        return supervisors.values().stream().filter(s -> s.spec().capabilities().contains(capability)).toList();
    }
}
