package dev.bkg.gateway.stream;

import java.util.EnumSet;
import java.util.TreeMap;

import jakarta.enterprise.context.ApplicationScoped;

import dev.bkg.gateway.grpc.TelemetryClient;
import dev.bkg.proto.telemetry.v1.Sample;
import dev.bkg.proto.telemetry.v1.StreamLiveRequest;
import io.grpc.Status;

/**
 * telemetry-service's live samples, one stream per plugin (or service) opened by this gateway
 * however many sockets follow it, reopened with backoff when telemetry-service restarts. A new
 * socket first gets the latest sample of each metric.
 */
@ApplicationScoped
public class TelemetryStreams {

    private static final EnumSet<Status.Code> TERMINAL = EnumSet.of(Status.Code.INVALID_ARGUMENT,
            Status.Code.PERMISSION_DENIED, Status.Code.UNIMPLEMENTED);

    private final Fanout<String, Sample> live;

    TelemetryStreams(TelemetryClient telemetry) {
        this.live = new Fanout<>("telemetry", (source, seen) -> telemetry.stream(stub -> stub.streamLive(
                StreamLiveRequest.newBuilder().setSource(source).build())),
                () -> Replays.latestBy(s -> s.getMetric() + new TreeMap<>(s.getLabelsMap())),
                s -> TERMINAL.contains(s.getCode()));
    }

    /** Keyed by source (plugin id or service name). */
    public Fanout<String, Sample> live() {
        return live;
    }
}
