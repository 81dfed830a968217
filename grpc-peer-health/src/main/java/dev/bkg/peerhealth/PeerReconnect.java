package dev.bkg.peerhealth;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.AbstractStub;
import io.quarkus.grpc.MutinyClient;

/**
 * A gRPC channel whose peer went away backs off up to two minutes between reconnect attempts,
 * and fails calls fast meanwhile. In the mesh a peer that restarts is back in seconds, so after a
 * call fails as UNAVAILABLE we ask the channel to reconnect now (at most once a second per
 * channel, so a dead peer is not hammered): the next request after the peer returns succeeds.
 */
public final class PeerReconnect {

    private static final long MIN_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final Map<Channel, AtomicLong> LAST_RESET = new ConcurrentHashMap<>();

    private PeerReconnect() {
    }

    /** Call with any failure of a call on {@code stubOrClient}; acts only on UNAVAILABLE. */
    public static void afterFailure(Object stubOrClient, Throwable failure) {
        if (Status.fromThrowable(failure).getCode() != Status.Code.UNAVAILABLE) {
            return;
        }
        if (channelOf(stubOrClient) instanceof ManagedChannel channel) {
            AtomicLong last = LAST_RESET.computeIfAbsent(channel, c -> new AtomicLong(System.nanoTime() - MIN_INTERVAL_NANOS));
            long previous = last.get();
            long now = System.nanoTime();
            if (now - previous >= MIN_INTERVAL_NANOS && last.compareAndSet(previous, now)) {
                channel.resetConnectBackoff();
            }
        }
    }

    private static Channel channelOf(Object stubOrClient) {
        if (stubOrClient instanceof MutinyClient<?> client) {
            return client.getStub().getChannel();
        }
        if (stubOrClient instanceof AbstractStub<?> stub) {
            return stub.getChannel();
        }
        return null;
    }
}
