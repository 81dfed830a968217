package dev.bkg.inference.grpc;

import dev.bkg.inference.domain.Embeddings;
import dev.bkg.inference.domain.OrtRuntime;
import dev.bkg.proto.inference.v1.EmbedRequest;
import dev.bkg.proto.inference.v1.EmbedResponse;
import dev.bkg.proto.inference.v1.Embedding;
import dev.bkg.proto.inference.v1.EmbeddingModel;
import dev.bkg.proto.inference.v1.ListEmbeddingModelsRequest;
import dev.bkg.proto.inference.v1.ListEmbeddingModelsResponse;
import dev.bkg.proto.inference.v1.MutinyEmbeddingServiceGrpc;
import dev.bkg.proto.inference.v1.Usage;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;

/** Typed embeddings (role llm): the gateway's /v1/embeddings and the bus's llm.embed end here. */
@GrpcService
public class EmbeddingGrpcService extends MutinyEmbeddingServiceGrpc.EmbeddingServiceImplBase {

    private final Embeddings embeddings;
    private final OrtRuntime runtime;

    EmbeddingGrpcService(Embeddings embeddings, OrtRuntime runtime) {
        this.embeddings = embeddings;
        this.runtime = runtime;
    }

    @Override
    @Blocking
    public Uni<EmbedResponse> embed(EmbedRequest request) {
        try {
            return Uni.createFrom()
                    .completionStage(embeddings.embed(request.getModel(), request.getTextsList(), request.getNormalize(),
                            request.getTruncate()))
                    .map(EmbeddingGrpcService::response).onFailure().transform(Statuses::of);
        } catch (RuntimeException e) {
            return Uni.createFrom().failure(Statuses.of(e));
        }
    }

    static EmbedResponse response(Embeddings.Result result) {
        EmbedResponse.Builder reply = EmbedResponse.newBuilder().setModel(result.model()).setDimensions(result.dimensions())
                .setUsage(Usage.newBuilder().setPromptTokens(result.promptTokens()).setTotalTokens(result.promptTokens()));
        for (int i = 0; i < result.vectors().size(); i++) {
            Embedding.Builder embedding = Embedding.newBuilder().setTokenCount(result.tokenCounts()[i])
                    .setTruncated(result.truncated()[i]);
            for (float value : result.vectors().get(i)) {
                embedding.addValues(value);
            }
            reply.addEmbeddings(embedding);
        }
        return reply.build();
    }

    @Override
    @Blocking
    public Uni<ListEmbeddingModelsResponse> listEmbeddingModels(ListEmbeddingModelsRequest request) {
        try {
            ListEmbeddingModelsResponse.Builder reply = ListEmbeddingModelsResponse.newBuilder();
            for (var model : embeddings.catalog()) {
                boolean loaded = embeddings.isLoaded(model.getId());
                EmbeddingModel.Builder entry = EmbeddingModel.newBuilder().setId(model.getId()).setName(model.getName())
                        .setDimensions(Integer.parseInt(model.getPropertiesOrDefault("dimensions", "0")))
                        .setMaxTokens(Integer.parseInt(model.getPropertiesOrDefault("max_tokens", "0")))
                        .setIsDefault(model.getName().equals(embeddings.defaultModel()) || model.getId().equals(embeddings.defaultModel()))
                        .setLoaded(loaded);
                if (loaded) {
                    entry.setProvider(runtime.provider());
                }
                reply.addModels(entry);
            }
            return Uni.createFrom().item(reply.build());
        } catch (RuntimeException e) {
            return Uni.createFrom().failure(Statuses.of(e));
        }
    }
}
