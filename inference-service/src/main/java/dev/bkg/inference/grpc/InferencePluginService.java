package dev.bkg.inference.grpc;

import java.util.List;
import java.util.Map;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import dev.bkg.proto.plugin.v1.Capability;
import dev.bkg.proto.plugin.v1.DescribeRequest;
import dev.bkg.proto.plugin.v1.DescribeResponse;
import dev.bkg.proto.plugin.v1.HealthRequest;
import dev.bkg.proto.plugin.v1.HealthResponse;
import dev.bkg.proto.plugin.v1.MutinyPluginGrpc;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Uni;

/**
 * inference-service on the plugin contract. One jar plays three plugins, chosen by
 * {@code bkg.inference.role}: llm (plugin llmserver), runner (candle), index (brainml). Invoke
 * answers UNIMPLEMENTED until the inference issues build the capabilities.
 */
@GrpcService
public class InferencePluginService extends MutinyPluginGrpc.PluginImplBase {

    private static final Map<String, String> PLUGIN_BY_ROLE = Map.of("llm", "llmserver", "runner", "candle",
            "index", "brainml");
    private static final Map<String, List<String>> CAPABILITIES_BY_ROLE = Map.of(
            "llm", List.of("llm.chat", "llm.embed"),
            "runner", List.of("candle.model.load", "candle.model.infer", "candle.model.quantize"),
            "index", List.of("brainml.index", "brainml.query", "brainml.train", "brainml.stats", "brainml.admin"));

    private final String role;

    InferencePluginService(@ConfigProperty(name = "bkg.inference.role", defaultValue = "llm") String role) {
        if (!PLUGIN_BY_ROLE.containsKey(role)) {
            throw new IllegalArgumentException("bkg.inference.role must be one of llm, runner, index; was " + role);
        }
        this.role = role;
    }

    @Override
    public Uni<DescribeResponse> describe(DescribeRequest request) {
        DescribeResponse.Builder reply = DescribeResponse.newBuilder().setName(PLUGIN_BY_ROLE.get(role)).setVersion("0.2.0");
        CAPABILITIES_BY_ROLE.get(role).forEach(c -> reply.addCapabilities(Capability.newBuilder().setName(c)));
        return Uni.createFrom().item(reply.build());
    }

    @Override
    public Uni<HealthResponse> health(HealthRequest request) {
        return Uni.createFrom().item(HealthResponse.newBuilder().setStatus(HealthResponse.Status.SERVING).build());
    }
}
