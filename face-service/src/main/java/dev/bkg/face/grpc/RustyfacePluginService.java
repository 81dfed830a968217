package dev.bkg.face.grpc;

import dev.bkg.proto.plugin.v1.Capability;
import dev.bkg.proto.plugin.v1.DescribeRequest;
import dev.bkg.proto.plugin.v1.DescribeResponse;
import dev.bkg.proto.plugin.v1.HealthRequest;
import dev.bkg.proto.plugin.v1.HealthResponse;
import dev.bkg.proto.plugin.v1.MutinyPluginGrpc;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Uni;

/** face-service as the plugin {@code rustyface}; Invoke answers UNIMPLEMENTED until the face issue builds it. */
@GrpcService
public class RustyfacePluginService extends MutinyPluginGrpc.PluginImplBase {

    @Override
    public Uni<DescribeResponse> describe(DescribeRequest request) {
        DescribeResponse.Builder reply = DescribeResponse.newBuilder().setName("rustyface").setVersion("0.2.0");
        for (String capability : new String[] { "rustyface.face.detect", "rustyface.face.embed", "rustyface.face.recognize" }) {
            reply.addCapabilities(Capability.newBuilder().setName(capability));
        }
        return Uni.createFrom().item(reply.build());
    }

    @Override
    public Uni<HealthResponse> health(HealthRequest request) {
        return Uni.createFrom().item(HealthResponse.newBuilder().setStatus(HealthResponse.Status.SERVING).build());
    }
}
