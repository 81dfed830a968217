package dev.bkg.pluginmanager.domain;

/** The lifecycle states of a plugin (the same names as bkg.pluginmanager.v1.PluginState). */
public enum PluginState {
    STOPPED, STARTING, RUNNING, UNHEALTHY, STOPPING, CRASHED, BACKOFF;

    public boolean processAlive() {
        return this == STARTING || this == RUNNING || this == UNHEALTHY || this == STOPPING;
    }
}
