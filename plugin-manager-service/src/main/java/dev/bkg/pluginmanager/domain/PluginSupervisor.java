package dev.bkg.pluginmanager.domain;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Keeps one plugin running and says how it is: a local process ({@link LocalPluginSupervisor}) or
 * a Kubernetes Deployment ({@link KubernetesPluginSupervisor}), chosen by {@code bkg.plugins.runtime}.
 * Every state change is published through {@link StatusEvents}; the API on top is the same for both.
 */
public interface PluginSupervisor {

    PluginSpec spec();

    PluginLog log();

    /** The latest status snapshot, read without waiting for a start, a stop or a check in progress. */
    PluginStatus status();

    /** Starts the plugin unless it is up (idempotent); completes once it is RUNNING, UNHEALTHY or has failed. */
    CompletableFuture<PluginStatus> start();

    /** Stops the plugin (idempotent); {@code force} skips the grace period where the runtime has one. */
    CompletableFuture<PluginStatus> stop(boolean force);

    CompletableFuture<PluginStatus> restart();

    /** Where the plugin's port is reached (its port is {@code spec().port()}). */
    String host();

    /** Whether the plugin can run here at all; when not, {@link #unavailableReason()} says why. */
    default boolean available() {
        return spec().available();
    }

    default String unavailableReason() {
        return spec().unavailableReason();
    }

    /**
     * CPU and memory measured by the runtime itself (the Kubernetes metrics API); empty where the
     * figures come from the plugin's processes instead (local) or are not measured.
     */
    default Optional<ResourceUse> resourceUse() {
        return Optional.empty();
    }

    /** {@code cpuPercent} of one core, summed over the plugin's pods. */
    record ResourceUse(double cpuPercent, long memoryBytes) {
    }
}
