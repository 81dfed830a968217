package dev.bkg.peerhealth;

import java.net.ConnectException;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.ExceptionHandler;
import io.quarkus.grpc.ExceptionHandlerProvider;

/**
 * A gRPC call that fails because the service's database is gone (PostgreSQL stopped, restarting or
 * unreachable) answers UNAVAILABLE — which the gateway turns into 503 with Retry-After — rather than
 * UNKNOWN with the driver's words (a 502). Every other failure is answered as Quarkus would.
 * Every service of the mesh has this through grpc-peer-health.
 */
@ApplicationScoped
public class UnreachableDatabase implements ExceptionHandlerProvider {

    /** PostgreSQL's SQLSTATEs for "not now": connection exceptions (08xxx), shutting down or starting up (57P0x). */
    private static final Pattern NOT_NOW = Pattern.compile("\\((08\\d{3}|57P0\\d)\\)");

    @Override
    public Throwable transform(Throwable failure) {
        if (unreachable(failure)) {
            return Status.UNAVAILABLE.withDescription("the database is not reachable; retry shortly").withCause(failure)
                    .asException();
        }
        return ExceptionHandlerProvider.toStatusException(failure, false);
    }

    @Override
    public <Q, R> ExceptionHandler<Q, R> createHandler(ServerCall.Listener<Q> listener, ServerCall<Q, R> call,
            Metadata metadata) {
        return new ExceptionHandler<>(listener, call, metadata) {
            @Override
            protected void handleException(Throwable failure, ServerCall<Q, R> serverCall, Metadata headers) {
                Throwable answer = transform(failure);
                Status status = answer instanceof StatusException s ? s.getStatus()
                        : answer instanceof StatusRuntimeException s ? s.getStatus() : Status.fromThrowable(answer);
                Metadata trailers = answer instanceof StatusException s && s.getTrailers() != null ? s.getTrailers() : headers;
                try {
                    serverCall.close(status, trailers);
                } catch (IllegalStateException alreadyClosed) {
                    // the call ended meanwhile: nothing to answer
                }
            }
        };
    }

    static boolean unreachable(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String name = t.getClass().getSimpleName();
            String message = String.valueOf(t.getMessage());
            if (t instanceof ConnectException || name.equals("ClosedConnectionException")
                    || name.equals("ConnectTimeoutException") || NOT_NOW.matcher(message).find()
                    || message.contains("Connection refused")) {
                return true;
            }
        }
        return false;
    }
}
