package dev.bkg.inference.grpc;

import java.util.List;
import java.util.function.Supplier;

import dev.bkg.inference.domain.CollectionRecord;
import dev.bkg.inference.domain.SemanticIndex;
import dev.bkg.proto.inference.v1.ClassInfo;
import dev.bkg.proto.inference.v1.Collection;
import dev.bkg.proto.inference.v1.CollectionStats;
import dev.bkg.proto.inference.v1.CompactRequest;
import dev.bkg.proto.inference.v1.CompactResponse;
import dev.bkg.proto.inference.v1.CreateCollectionRequest;
import dev.bkg.proto.inference.v1.CreateCollectionResponse;
import dev.bkg.proto.inference.v1.DeleteDocumentsRequest;
import dev.bkg.proto.inference.v1.DeleteDocumentsResponse;
import dev.bkg.proto.inference.v1.DropCollectionRequest;
import dev.bkg.proto.inference.v1.DropCollectionResponse;
import dev.bkg.proto.inference.v1.Hit;
import dev.bkg.proto.inference.v1.IndexDocumentsRequest;
import dev.bkg.proto.inference.v1.IndexDocumentsResponse;
import dev.bkg.proto.inference.v1.ListCollectionsRequest;
import dev.bkg.proto.inference.v1.ListCollectionsResponse;
import dev.bkg.proto.inference.v1.MutinyIndexServiceGrpc;
import dev.bkg.proto.inference.v1.QueryRequest;
import dev.bkg.proto.inference.v1.QueryResponse;
import dev.bkg.proto.inference.v1.ReindexRequest;
import dev.bkg.proto.inference.v1.ReindexResponse;
import dev.bkg.proto.inference.v1.StatsRequest;
import dev.bkg.proto.inference.v1.StatsResponse;
import dev.bkg.proto.inference.v1.TrainRequest;
import dev.bkg.proto.inference.v1.TrainResponse;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;

/** brainml's typed API (role index): collections, documents, queries, training and upkeep. */
@GrpcService
public class IndexGrpcService extends MutinyIndexServiceGrpc.IndexServiceImplBase {

    private final SemanticIndex index;

    IndexGrpcService(SemanticIndex index) {
        this.index = index;
    }

    /** Why brainml cannot serve yet (its collections still loading); null once it can. */
    String notReady() {
        return index.notReady();
    }

    private static <T> Uni<T> answer(Supplier<T> work) {
        try {
            return Uni.createFrom().item(work.get());
        } catch (RuntimeException e) {
            return Uni.createFrom().failure(Statuses.of(e));
        }
    }

    Collection collection(CollectionRecord record) {
        return Collection.newBuilder().setName(record.name).setEmbeddingModel(record.embeddingModel)
                .setDimensions(record.dimensions).setDocuments(index.documentCount(record.name))
                .setCreatedEpochMs(record.createdAt.toEpochMilli()).build();
    }

    static CollectionStats statsOf(SemanticIndex.Stats s) {
        return CollectionStats.newBuilder().setCollection(s.collection()).setDocuments(s.documents()).setDimensions(s.dimensions())
                .setIndexState(s.state()).setMemoryBytes(s.memoryBytes()).setClassCount(s.classes().size())
                .setDeletedDocuments(s.deleted()).setEmbeddingModel(s.embeddingModel())
                .setLastTrainedEpochMs(s.lastTrainedEpochMs()).build();
    }

    @Override
    @Blocking
    public Uni<CreateCollectionResponse> createCollection(CreateCollectionRequest request) {
        return answer(() -> CreateCollectionResponse.newBuilder()
                .setCollection(collection(index.create(request.getName(), request.getEmbeddingModel()))).build());
    }

    @Override
    @Blocking
    public Uni<ListCollectionsResponse> listCollections(ListCollectionsRequest request) {
        return answer(() -> ListCollectionsResponse.newBuilder()
                .addAllCollections(index.collections().stream().map(this::collection).toList()).build());
    }

    @Override
    @Blocking
    public Uni<IndexDocumentsResponse> indexDocuments(IndexDocumentsRequest request) {
        return answer(() -> {
            List<SemanticIndex.Doc> docs = request.getDocumentsList().stream()
                    .map(d -> new SemanticIndex.Doc(d.getId(), d.getText(), d.getMetadataMap(), d.getLabel())).toList();
            SemanticIndex.Indexed done = index.index(request.getCollection(), docs, request.getCreateCollection());
            return IndexDocumentsResponse.newBuilder().setIndexed(done.indexed()).setReplaced(done.replaced())
                    .setDurationMs(done.millis()).build();
        });
    }

    @Override
    @Blocking
    public Uni<DeleteDocumentsResponse> deleteDocuments(DeleteDocumentsRequest request) {
        return answer(() -> DeleteDocumentsResponse.newBuilder()
                .setDeleted((int) index.delete(request.getCollection(), request.getIdsList())).build());
    }

    @Override
    @Blocking
    public Uni<QueryResponse> query(QueryRequest request) {
        return answer(() -> {
            SemanticIndex.QueryResult result = index.query(request.getCollection(), request.getText(), request.getTopK(),
                    request.getFilterMap(), request.getMinScore());
            QueryResponse.Builder reply = QueryResponse.newBuilder().setPredictedLabel(result.predictedLabel())
                    .setLabelConfidence(result.confidence()).setDurationUs(result.micros());
            result.hits().forEach(h -> reply.addHits(Hit.newBuilder().setId(h.id()).setScore(h.score()).setText(h.text())
                    .putAllMetadata(h.metadata()).setLabel(h.label())));
            return reply.build();
        });
    }

    @Override
    @Blocking
    public Uni<TrainResponse> train(TrainRequest request) {
        return answer(() -> {
            long started = System.nanoTime();
            SemanticIndex.Stats stats = index.train(request.getCollection());
            TrainResponse.Builder reply = TrainResponse.newBuilder().setIndexState(stats.state()).setStats(statsOf(stats))
                    .setDurationMs((System.nanoTime() - started) / 1_000_000);
            stats.classes().forEach((label, count) -> reply.addClasses(ClassInfo.newBuilder().setLabel(label).setDocuments(count)));
            return reply.build();
        });
    }

    @Override
    @Blocking
    public Uni<StatsResponse> stats(StatsRequest request) {
        return answer(() -> StatsResponse.newBuilder().setStats(statsOf(index.stats(request.getCollection()))).build());
    }

    @Override
    @Blocking
    public Uni<DropCollectionResponse> dropCollection(DropCollectionRequest request) {
        return answer(() -> DropCollectionResponse.newBuilder().setDroppedDocuments(index.drop(request.getCollection())).build());
    }

    @Override
    @Blocking
    public Uni<CompactResponse> compact(CompactRequest request) {
        return answer(() -> {
            long reclaimed = index.compact(request.getCollection());
            return CompactResponse.newBuilder().setReclaimedBytes(reclaimed)
                    .setStats(statsOf(index.stats(request.getCollection()))).build();
        });
    }

    @Override
    @Blocking
    public Uni<ReindexResponse> reindex(ReindexRequest request) {
        return answer(() -> {
            long started = System.nanoTime();
            SemanticIndex.Stats stats = index.reindex(request.getCollection(), request.getEmbeddingModel());
            return ReindexResponse.newBuilder().setStats(statsOf(stats)).setDurationMs((System.nanoTime() - started) / 1_000_000)
                    .build();
        });
    }
}
