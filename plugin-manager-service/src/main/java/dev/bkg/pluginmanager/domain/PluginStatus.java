package dev.bkg.pluginmanager.domain;

/** A snapshot of a plugin's state; {@code restarts} counts automatic restarts since the last manual start. */
public record PluginStatus(String pluginId, PluginState state, long pid, long sinceMs, int restarts, int lastExitCode,
        String message, long nextRestartMs) {
}
