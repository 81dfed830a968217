package dev.bkg.gateway.grpc;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import jakarta.enterprise.context.ApplicationScoped;

import dev.bkg.proto.pluginmanager.v1.MutinyPluginManagerGrpc.MutinyPluginManagerStub;
import dev.bkg.peerhealth.PeerReconnect;
import io.quarkus.grpc.GrpcClient;
import io.smallrye.mutiny.Multi;
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

    /** A server stream (no deadline: it lasts as long as someone follows it); failures stay gRPC statuses. */
    public <T> Multi<T> stream(Function<MutinyPluginManagerStub, Multi<T>> rpc) {
        return rpc.apply(stub).onFailure().invoke(failure -> PeerReconnect.afterFailure(stub, failure));
    }

    /** A call forwarded as is (the gateway's public gRPC API): the plugin manager's status reaches the caller. */
    public <T> Uni<T> forward(Function<MutinyPluginManagerStub, Uni<T>> rpc) {
        return rpc.apply(stub.withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS))
                .onFailure().invoke(failure -> PeerReconnect.afterFailure(stub, failure));
    }

    public <T> Uni<T> call(Function<MutinyPluginManagerStub, Uni<T>> rpc) {
        return GrpcProblems.asProblems(rpc.apply(stub.withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)),
                stub, "plugin-manager-service");
    }
}
