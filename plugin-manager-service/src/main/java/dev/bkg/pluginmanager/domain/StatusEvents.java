package dev.bkg.pluginmanager.domain;

import jakarta.enterprise.context.ApplicationScoped;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.operators.multi.processors.BroadcastProcessor;

/** Every status change of every plugin, as a hot stream. */
@ApplicationScoped
public class StatusEvents {

    public record Change(PluginStatus status, PluginState previous, long timestampMs) {
    }

    private final BroadcastProcessor<Change> changes = BroadcastProcessor.create();

    void publish(PluginStatus status, PluginState previous) {
        changes.onNext(new Change(status, previous, System.currentTimeMillis()));
    }

    /** Live changes; a subscriber that cannot keep up misses intermediate ones (the latest state always follows). */
    public Multi<Change> changes() {
        return changes.onOverflow().drop();
    }
}
