package dev.bkg.inference.grpc;

import java.util.function.Supplier;

import dev.bkg.inference.runner.QuantizationCheck;
import dev.bkg.inference.runner.RunnerModels;
import dev.bkg.proto.inference.v1.InferRequest;
import dev.bkg.proto.inference.v1.InferResponse;
import dev.bkg.proto.inference.v1.ListLoadedRequest;
import dev.bkg.proto.inference.v1.ListLoadedResponse;
import dev.bkg.proto.inference.v1.LoadModelRequest;
import dev.bkg.proto.inference.v1.LoadModelResponse;
import dev.bkg.proto.inference.v1.MutinyRunnerServiceGrpc;
import dev.bkg.proto.inference.v1.QuantizeRequest;
import dev.bkg.proto.inference.v1.QuantizeResponse;
import dev.bkg.proto.inference.v1.UnloadModelRequest;
import dev.bkg.proto.inference.v1.UnloadModelResponse;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;

/** The model runner (role runner, plugin candle) on its typed gRPC contract. */
@GrpcService
public class RunnerGrpcService extends MutinyRunnerServiceGrpc.RunnerServiceImplBase {

    private final RunnerModels models;
    private final QuantizationCheck quantization;

    RunnerGrpcService(RunnerModels models, QuantizationCheck quantization) {
        this.models = models;
        this.quantization = quantization;
    }

    @Override
    @Blocking
    public Uni<LoadModelResponse> loadModel(LoadModelRequest request) {
        return answer(() -> LoadModelResponse.newBuilder().setModel(models.load(required(request.getModelId()),
                request.getKeepAliveSeconds(), request.getProvider())).build());
    }

    @Override
    public Uni<UnloadModelResponse> unloadModel(UnloadModelRequest request) {
        return answer(() -> UnloadModelResponse.newBuilder().setUnloaded(models.unload(required(request.getModelId()))).build());
    }

    @Override
    public Uni<ListLoadedResponse> listLoaded(ListLoadedRequest request) {
        return answer(() -> {
            ListLoadedResponse.Builder reply = ListLoadedResponse.newBuilder().setMemoryBudgetBytes(models.budgetBytes())
                    .setMemoryUsedBytes(models.used());
            reply.addAllModels(models.list());
            return reply.build();
        });
    }

    /** Blocking only for a first load; the run itself happens on the model's own thread. */
    @Override
    @Blocking
    public Uni<InferResponse> infer(InferRequest request) {
        try {
            return Uni.createFrom().completionStage(models.infer(request)).onFailure().transform(Statuses::of);
        } catch (RuntimeException e) {
            return Uni.createFrom().failure(Statuses.of(e));
        }
    }

    @Override
    @Blocking
    public Uni<QuantizeResponse> quantize(QuantizeRequest request) {
        return answer(() -> quantization.quantize(request.getModelId(), request.getName(), request.getSamples()));
    }

    private static String required(String modelId) {
        if (modelId.isBlank()) {
            throw new dev.bkg.inference.domain.Refusal(dev.bkg.inference.domain.Refusal.Reason.INVALID, "model_id is required");
        }
        return modelId;
    }

    private static <T> Uni<T> answer(Supplier<T> work) {
        try {
            return Uni.createFrom().item(work.get());
        } catch (RuntimeException e) {
            return Uni.createFrom().failure(Statuses.of(e));
        }
    }
}
