package dev.bkg.gateway.grpc;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import jakarta.enterprise.context.ApplicationScoped;

import dev.bkg.peerhealth.PeerReconnect;
import dev.bkg.proto.pluginmanager.v1.MutinyPluginManagerGrpc.MutinyPluginManagerStub;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.smallrye.mutiny.Uni;

/** The gateway's client of plugin-manager-service: deadlines, and statuses turned into problems. */
@ApplicationScoped
public class PluginManagerClient {

    /** Start/stop with wait=true last up to a plugin's start timeout or stop grace. */
    static final Duration DEADLINE = Duration.ofSeconds(150);

    private final MutinyPluginManagerStub stub;

    PluginManagerClient(@GrpcClient("pluginmanager") MutinyPluginManagerStub stub) {
        this.stub = stub;
    }

    public <T> Uni<T> call(Function<MutinyPluginManagerStub, Uni<T>> rpc) {
        return rpc.apply(stub.withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS))
                .onFailure().invoke(failure -> PeerReconnect.afterFailure(stub, failure))
                .onFailure(StatusRuntimeException.class)
                .transform(e -> GrpcProblems.toProblem(((StatusRuntimeException) e).getStatus(), "plugin-manager-service"));
    }

    /** For streams: the raw stub (the caller handles reconnects). */
    public MutinyPluginManagerStub stub() {
        return stub;
    }
}
