package dev.bkg.gateway.grpc;

import dev.bkg.gateway.security.GrpcCallers;
import dev.bkg.proto.inference.v1.ChatChunk;
import dev.bkg.proto.inference.v1.ChatRequest;
import dev.bkg.proto.inference.v1.ChatResponse;
import dev.bkg.proto.inference.v1.CompactRequest;
import dev.bkg.proto.inference.v1.CompactResponse;
import dev.bkg.proto.inference.v1.CreateCollectionRequest;
import dev.bkg.proto.inference.v1.CreateCollectionResponse;
import dev.bkg.proto.inference.v1.DeleteDocumentsRequest;
import dev.bkg.proto.inference.v1.DeleteDocumentsResponse;
import dev.bkg.proto.inference.v1.DropCollectionRequest;
import dev.bkg.proto.inference.v1.DropCollectionResponse;
import dev.bkg.proto.inference.v1.EmbedRequest;
import dev.bkg.proto.inference.v1.EmbedResponse;
import dev.bkg.proto.inference.v1.IndexDocumentsRequest;
import dev.bkg.proto.inference.v1.IndexDocumentsResponse;
import dev.bkg.proto.inference.v1.InferRequest;
import dev.bkg.proto.inference.v1.InferResponse;
import dev.bkg.proto.inference.v1.ListChatModelsRequest;
import dev.bkg.proto.inference.v1.ListChatModelsResponse;
import dev.bkg.proto.inference.v1.ListCollectionsRequest;
import dev.bkg.proto.inference.v1.ListCollectionsResponse;
import dev.bkg.proto.inference.v1.ListEmbeddingModelsRequest;
import dev.bkg.proto.inference.v1.ListEmbeddingModelsResponse;
import dev.bkg.proto.inference.v1.ListLoadedRequest;
import dev.bkg.proto.inference.v1.ListLoadedResponse;
import dev.bkg.proto.inference.v1.LoadModelRequest;
import dev.bkg.proto.inference.v1.LoadModelResponse;
import dev.bkg.proto.inference.v1.MutinyChatServiceGrpc;
import dev.bkg.proto.inference.v1.MutinyEmbeddingServiceGrpc;
import dev.bkg.proto.inference.v1.MutinyIndexServiceGrpc;
import dev.bkg.proto.inference.v1.MutinyRunnerServiceGrpc;
import dev.bkg.proto.inference.v1.QuantizeRequest;
import dev.bkg.proto.inference.v1.QuantizeResponse;
import dev.bkg.proto.inference.v1.QueryRequest;
import dev.bkg.proto.inference.v1.QueryResponse;
import dev.bkg.proto.inference.v1.ReindexRequest;
import dev.bkg.proto.inference.v1.ReindexResponse;
import dev.bkg.proto.inference.v1.StatsRequest;
import dev.bkg.proto.inference.v1.StatsResponse;
import dev.bkg.proto.inference.v1.TrainRequest;
import dev.bkg.proto.inference.v1.TrainResponse;
import dev.bkg.proto.inference.v1.UnloadModelRequest;
import dev.bkg.proto.inference.v1.UnloadModelResponse;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

/**
 * inference-service's contracts on the gateway's public gRPC port: embeddings and chat (llmserver),
 * the model runner (candle, started on demand as on REST) and the semantic index (brainml). Every
 * call needs the {@code inference} scope, as on REST, and goes through the same clients (deadlines,
 * on-demand start); the backend's status reaches the caller.
 */
public final class PublicInferenceServices {

    static final String SCOPE = "inference";

    private PublicInferenceServices() {
    }

    @GrpcService
    public static class Embeddings extends MutinyEmbeddingServiceGrpc.EmbeddingServiceImplBase {

        private final GrpcCallers callers;
        private final InferenceClient inference;

        Embeddings(GrpcCallers callers, InferenceClient inference) {
            this.callers = callers;
            this.inference = inference;
        }

        @Override
        public Uni<EmbedResponse> embed(EmbedRequest request) {
            return callers.call(SCOPE, "Embed", c -> inference.embeddings(s -> s.embed(request)));
        }

        @Override
        public Uni<ListEmbeddingModelsResponse> listEmbeddingModels(ListEmbeddingModelsRequest request) {
            return callers.call(SCOPE, "ListEmbeddingModels", c -> inference.embeddings(s -> s.listEmbeddingModels(request)));
        }
    }

    @GrpcService
    public static class Chat extends MutinyChatServiceGrpc.ChatServiceImplBase {

        private final GrpcCallers callers;
        private final InferenceClient inference;

        Chat(GrpcCallers callers, InferenceClient inference) {
            this.callers = callers;
            this.inference = inference;
        }

        @Override
        public Uni<ChatResponse> chat(ChatRequest request) {
            return callers.call(SCOPE, "Chat", c -> inference.chat(s -> s.chat(request)));
        }

        /** The client going away cancels the stream here, which cancels the generation (InferenceClient.chatStream). */
        @Override
        public Multi<ChatChunk> chatStream(ChatRequest request) {
            return callers.stream(SCOPE, "ChatStream", c -> inference.chatStream(request));
        }

        @Override
        public Uni<ListChatModelsResponse> listChatModels(ListChatModelsRequest request) {
            return callers.call(SCOPE, "ListChatModels", c -> inference.chat(s -> s.listChatModels(request)));
        }
    }

    @GrpcService
    public static class Runner extends MutinyRunnerServiceGrpc.RunnerServiceImplBase {

        private final GrpcCallers callers;
        private final InferenceClient inference;

        Runner(GrpcCallers callers, InferenceClient inference) {
            this.callers = callers;
            this.inference = inference;
        }

        @Override
        public Uni<LoadModelResponse> loadModel(LoadModelRequest request) {
            return callers.call(SCOPE, "LoadModel", c -> inference.candle(s -> s.loadModel(request)));
        }

        @Override
        public Uni<UnloadModelResponse> unloadModel(UnloadModelRequest request) {
            return callers.call(SCOPE, "UnloadModel", c -> inference.candle(s -> s.unloadModel(request)));
        }

        @Override
        public Uni<ListLoadedResponse> listLoaded(ListLoadedRequest request) {
            return callers.call(SCOPE, "ListLoaded", c -> inference.candle(s -> s.listLoaded(request)));
        }

        @Override
        public Uni<InferResponse> infer(InferRequest request) {
            return callers.call(SCOPE, "Infer", c -> inference.candle(s -> s.infer(request)));
        }

        @Override
        public Uni<QuantizeResponse> quantize(QuantizeRequest request) {
            return callers.call(SCOPE, "Quantize", c -> inference.candleQuantize(s -> s.quantize(request)));
        }
    }

    @GrpcService
    public static class Index extends MutinyIndexServiceGrpc.IndexServiceImplBase {

        private final GrpcCallers callers;
        private final InferenceClient inference;

        Index(GrpcCallers callers, InferenceClient inference) {
            this.callers = callers;
            this.inference = inference;
        }

        @Override
        public Uni<CreateCollectionResponse> createCollection(CreateCollectionRequest request) {
            return callers.call(SCOPE, "CreateCollection", c -> inference.brainml(s -> s.createCollection(request)));
        }

        @Override
        public Uni<ListCollectionsResponse> listCollections(ListCollectionsRequest request) {
            return callers.call(SCOPE, "ListCollections", c -> inference.brainml(s -> s.listCollections(request)));
        }

        @Override
        public Uni<IndexDocumentsResponse> indexDocuments(IndexDocumentsRequest request) {
            return callers.call(SCOPE, "IndexDocuments", c -> inference.brainml(s -> s.indexDocuments(request)));
        }

        @Override
        public Uni<DeleteDocumentsResponse> deleteDocuments(DeleteDocumentsRequest request) {
            return callers.call(SCOPE, "DeleteDocuments", c -> inference.brainml(s -> s.deleteDocuments(request)));
        }

        @Override
        public Uni<QueryResponse> query(QueryRequest request) {
            return callers.call(SCOPE, "Query", c -> inference.brainml(s -> s.query(request)));
        }

        @Override
        public Uni<TrainResponse> train(TrainRequest request) {
            return callers.call(SCOPE, "Train", c -> inference.brainmlRebuild(s -> s.train(request)));
        }

        @Override
        public Uni<StatsResponse> stats(StatsRequest request) {
            return callers.call(SCOPE, "Stats", c -> inference.brainml(s -> s.stats(request)));
        }

        @Override
        public Uni<DropCollectionResponse> dropCollection(DropCollectionRequest request) {
            return callers.call(SCOPE, "DropCollection", c -> inference.brainml(s -> s.dropCollection(request)));
        }

        @Override
        public Uni<CompactResponse> compact(CompactRequest request) {
            return callers.call(SCOPE, "Compact", c -> inference.brainmlRebuild(s -> s.compact(request)));
        }

        @Override
        public Uni<ReindexResponse> reindex(ReindexRequest request) {
            return callers.call(SCOPE, "Reindex", c -> inference.brainmlRebuild(s -> s.reindex(request)));
        }
    }
}
