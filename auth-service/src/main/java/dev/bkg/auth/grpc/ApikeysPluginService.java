package dev.bkg.auth.grpc;

import org.eclipse.microprofile.health.Readiness;

import dev.bkg.auth.domain.AdminBootstrap;
import dev.bkg.proto.plugin.v1.Capability;
import dev.bkg.proto.plugin.v1.DescribeRequest;
import dev.bkg.proto.plugin.v1.DescribeResponse;
import dev.bkg.proto.plugin.v1.HealthRequest;
import dev.bkg.proto.plugin.v1.HealthResponse;
import dev.bkg.proto.plugin.v1.MutinyPluginGrpc;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Uni;

/**
 * auth-service as the plugin {@code apikeys} on the plugin contract. The capabilities are
 * declared here; Invoke is not overridden yet, so it answers UNIMPLEMENTED until the auth issue
 * (#3) builds the capabilities.
 */
@GrpcService
public class ApikeysPluginService extends MutinyPluginGrpc.PluginImplBase {

    private final AdminBootstrap bootstrap;

    ApikeysPluginService(@Readiness AdminBootstrap bootstrap) {
        this.bootstrap = bootstrap;
    }

    @Override
    public Uni<DescribeResponse> describe(DescribeRequest request) {
        return Uni.createFrom().item(DescribeResponse.newBuilder()
                .setName("apikeys")
                .setVersion("0.2.0")
                .addCapabilities(capability("auth.login", "exchange a username and password for a session token"))
                .addCapabilities(capability("auth.createKey", "create an API key; the key is shown once"))
                .addCapabilities(capability("auth.revokeKey", "revoke an API key"))
                .addCapabilities(capability("auth.listKeys", "list API keys, never their secrets"))
                .addCapabilities(capability("auth.validate", "validate an API key or session token"))
                .build());
    }

    @Override
    public Uni<HealthResponse> health(HealthRequest request) {
        boolean ready = bootstrap.isComplete();
        return Uni.createFrom().item(HealthResponse.newBuilder()
                .setStatus(ready ? HealthResponse.Status.SERVING : HealthResponse.Status.NOT_SERVING)
                .setMessage(ready ? "" : "waiting for the database to create the admin user")
                .build());
    }

    private static Capability capability(String name, String description) {
        return Capability.newBuilder().setName(name).setDescription(description).build();
    }
}
