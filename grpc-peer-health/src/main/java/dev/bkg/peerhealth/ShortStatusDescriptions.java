package dev.bkg.peerhealth;

import jakarta.enterprise.context.ApplicationScoped;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;

/**
 * Cuts long status descriptions on every service's gRPC server. A message may quote the caller's
 * input (a 100,000-character id in "no plugin '…'"), and a trailer over the client's header-list
 * limit (8 KiB in grpc-java) makes the client reset the stream with PROTOCOL_ERROR: it would see
 * INTERNAL instead of the status that was sent.
 */
@GlobalInterceptor
@ApplicationScoped
public class ShortStatusDescriptions implements ServerInterceptor {

    static final int MAX_DESCRIPTION = 1_000;

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                super.close(shorten(status), trailers);
            }
        }, headers);
    }

    static Status shorten(Status status) {
        String description = status.getDescription();
        return description == null || description.length() <= MAX_DESCRIPTION ? status
                : status.withDescription(description.substring(0, MAX_DESCRIPTION) + "… (cut)");
    }
}
