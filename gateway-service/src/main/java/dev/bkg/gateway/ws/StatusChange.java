package dev.bkg.gateway.ws;

import java.time.Instant;

import com.fasterxml.jackson.annotation.JsonUnwrapped;

import dev.bkg.gateway.api.PluginViews;
import dev.bkg.gateway.stream.SocketFeed;
import dev.bkg.proto.pluginmanager.v1.PluginState;
import dev.bkg.proto.pluginmanager.v1.StatusEvent;

/** A status message of the plugin sockets: the status as /api/plugins/{id}/status shows it, plus the change. */
public record StatusChange(@JsonUnwrapped PluginViews.Status status, String previousState, Instant at) {

    static final SocketFeed.Messages<StatusEvent> MESSAGES = SocketFeed.messages("status", StatusChange::of);

    static StatusChange of(StatusEvent event) {
        return new StatusChange(PluginViews.Status.of(event.getStatus()),
                event.getPreviousState() == PluginState.PLUGIN_STATE_UNSPECIFIED ? null : event.getPreviousState().name(),
                Instant.ofEpochMilli(event.getTimestampEpochMs()));
    }
}
