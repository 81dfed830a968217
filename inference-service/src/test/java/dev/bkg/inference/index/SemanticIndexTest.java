package dev.bkg.inference.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import jakarta.inject.Inject;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.bkg.testsupport.ModelServiceBackend;
import dev.bkg.inference.domain.IndexStore;
import dev.bkg.inference.domain.SemanticIndex;
import dev.bkg.proto.inference.v1.CompactRequest;
import dev.bkg.proto.inference.v1.CreateCollectionRequest;
import dev.bkg.proto.inference.v1.DeleteDocumentsRequest;
import dev.bkg.proto.inference.v1.Document;
import dev.bkg.proto.inference.v1.DropCollectionRequest;
import dev.bkg.proto.inference.v1.EmbedRequest;
import dev.bkg.proto.inference.v1.EmbeddingServiceGrpc.EmbeddingServiceBlockingStub;
import dev.bkg.proto.inference.v1.IndexDocumentsRequest;
import dev.bkg.proto.inference.v1.IndexDocumentsResponse;
import dev.bkg.proto.inference.v1.IndexServiceGrpc.IndexServiceBlockingStub;
import dev.bkg.proto.inference.v1.IndexState;
import dev.bkg.proto.inference.v1.ListCollectionsRequest;
import dev.bkg.proto.inference.v1.QueryRequest;
import dev.bkg.proto.inference.v1.QueryResponse;
import dev.bkg.proto.inference.v1.ReindexRequest;
import dev.bkg.proto.inference.v1.StatsRequest;
import dev.bkg.proto.inference.v1.TrainRequest;
import dev.bkg.proto.inference.v1.TrainResponse;
import dev.bkg.proto.plugin.v1.InvokeRequest;
import dev.bkg.proto.plugin.v1.PluginGrpc.PluginBlockingStub;
import dev.bkg.testsupport.Readiness;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * brainml (role index) through its gRPC API and the bus, on real MiniLM embeddings, real Lucene
 * HNSW and a real PostgreSQL: a document is its own best hit, filters and labels work, and what
 * is on disk comes back at a start without a rebuild, and a database that changed behind the index's
 * back is noticed (versions differ) and rebuilt from.
 */
@QuarkusTest
@WithTestResource(ModelServiceBackend.class)
@TestProfile(SemanticIndexTest.IndexRole.class)
class SemanticIndexTest {

    public static class IndexRole implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("bkg.inference.role", "index");
        }
    }

    @GrpcClient("self")
    IndexServiceBlockingStub brainml;

    @GrpcClient("self")
    EmbeddingServiceBlockingStub embeddings;

    @GrpcClient("self")
    PluginBlockingStub plugin;

    @Inject
    SemanticIndex index;

    @Inject
    IndexStore store;

    /** The collection's index folders under %test.bkg.inference.index-dir. */
    static List<Path> indexFolders(String collection) {
        try (Stream<Path> all = Files.list(Path.of("target/brainml-index"))) {
            return all.filter(p -> p.getFileName().toString().startsWith(collection + "@")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path indexFolder(String collection) {
        List<Path> folders = indexFolders(collection);
        assertEquals(1, folders.size(), "one index folder for " + collection + ": " + folders);
        return folders.get(0);
    }

    @BeforeEach
    void awaitReady() {
        Readiness.awaitStatus(200, Duration.ofSeconds(120));
    }

    static Document doc(String id, String text, String label, Map<String, String> metadata) {
        return Document.newBuilder().setId(id).setText(text).setLabel(label).putAllMetadata(metadata).build();
    }

    static final List<Document> PETS_AND_FOOD = List.of(
            doc("1", "The cat sleeps on the warm windowsill.", "pets", Map.of("lang", "en", "source", "a")),
            doc("2", "A puppy chases a ball across the garden.", "pets", Map.of("lang", "en", "source", "b")),
            doc("3", "My dog barks at the mail carrier every morning.", "pets", Map.of("lang", "en", "source", "a")),
            doc("4", "Fresh bread is baked every morning in the bakery.", "food", Map.of("lang", "en", "source", "b")),
            doc("5", "The soup needs more salt and pepper.", "food", Map.of("lang", "en", "source", "a")),
            doc("6", "We grilled vegetables and fish for dinner.", "food", Map.of("lang", "en", "source", "b")));

    QueryResponse query(String collection, String text, Map<String, String> filter) {
        return brainml.query(QueryRequest.newBuilder().setCollection(collection).setText(text).setTopK(3).putAllFilter(filter)
                .build());
    }

    @Test
    void aDocumentIsItsOwnBestHitFiltersNarrowAndTrainingPredictsLabels() {
        IndexDocumentsResponse indexed = brainml.indexDocuments(IndexDocumentsRequest.newBuilder().setCollection("pets-food")
                .setCreateCollection(true).addAllDocuments(PETS_AND_FOOD).build());
        assertEquals(6, indexed.getIndexed());
        assertEquals(0, indexed.getReplaced());
        for (Document d : PETS_AND_FOOD) {
            QueryResponse own = query("pets-food", d.getText(), Map.of());
            assertEquals(d.getId(), own.getHits(0).getId(), "its own text finds " + d.getId() + " first");
            assertEquals(1.0, own.getHits(0).getScore(), 1e-3);
            assertEquals(d.getMetadataMap(), own.getHits(0).getMetadataMap());
        }
        QueryResponse filtered = query("pets-food", "The cat sleeps on the warm windowsill.", Map.of("source", "b"));
        assertEquals(List.of("2", "4", "6"), filtered.getHitsList().stream().map(h -> h.getId()).sorted().toList(),
                "only source b, its own document left out");
        assertEquals(0, query("pets-food", "anything", Map.of("source", "nope")).getHitsCount());
        assertEquals(IndexState.STALE, brainml.stats(StatsRequest.newBuilder().setCollection("pets-food").build()).getStats()
                .getIndexState());

        TrainResponse trained = brainml.train(TrainRequest.newBuilder().setCollection("pets-food").build());
        assertEquals(IndexState.READY, trained.getIndexState());
        assertEquals(2, trained.getClassesCount());
        assertEquals(6, trained.getStats().getDocuments());
        assertTrue(trained.getStats().getMemoryBytes() > 6 * 384 * 4);
        QueryResponse kitten = query("pets-food", "a kitten purring on my lap", Map.of());
        assertEquals("pets", kitten.getPredictedLabel());
        assertTrue(kitten.getLabelConfidence() > 0.5, "confidence " + kitten.getLabelConfidence());
        assertEquals("food", query("pets-food", "a bowl of pasta with tomato sauce", Map.of()).getPredictedLabel());

        // replace one, delete one, compact: the counts follow
        assertEquals(1, brainml.indexDocuments(IndexDocumentsRequest.newBuilder().setCollection("pets-food")
                .addDocuments(doc("5", "The soup is too salty.", "food", Map.of("lang", "en", "source", "a"))).build()).getReplaced());
        assertEquals(1, brainml.deleteDocuments(DeleteDocumentsRequest.newBuilder().setCollection("pets-food").addIds("6")
                .addIds("unknown").build()).getDeleted());
        var stats = brainml.stats(StatsRequest.newBuilder().setCollection("pets-food").build()).getStats();
        assertEquals(5, stats.getDocuments());
        // (Lucene may already have merged the replaced and deleted documents away on its own)
        var compacted = brainml.compact(CompactRequest.newBuilder().setCollection("pets-food").build());
        assertEquals(0, compacted.getStats().getDeletedDocuments());

        // a start opens the index from disk: the same folder, the same answers, no rebuild
        Path folder = indexFolder("pets-food");
        index.loadAll();
        assertEquals(folder, indexFolder("pets-food"), "opened from disk, not rebuilt");
        QueryResponse afterReload = query("pets-food", "The soup is too salty.", Map.of());
        assertEquals("5", afterReload.getHits(0).getId());
        assertEquals("food", afterReload.getPredictedLabel());
        assertEquals(5, brainml.stats(StatsRequest.newBuilder().setCollection("pets-food").build()).getStats().getDocuments());

        // the database changed behind the index's back (as when a crash falls between the two commits):
        // the next start sees the versions differ and rebuilds from what PostgreSQL holds
        assertEquals(1, store.delete("pets-food", List.of("1")));
        index.loadAll();
        assertNotEquals(folder, indexFolder("pets-food"), "rebuilt into a new folder, the stale one removed");
        assertEquals(4, brainml.stats(StatsRequest.newBuilder().setCollection("pets-food").build()).getStats().getDocuments());
        assertTrue(query("pets-food", "The cat sleeps on the warm windowsill.", Map.of()).getHitsList().stream()
                .noneMatch(h -> h.getId().equals("1")));

        var reindexed = brainml.reindex(ReindexRequest.newBuilder().setCollection("pets-food").build());
        assertEquals(4, reindexed.getStats().getDocuments());
        assertEquals("5", query("pets-food", "The soup is too salty.", Map.of()).getHits(0).getId());

        assertEquals(4, brainml.dropCollection(DropCollectionRequest.newBuilder().setCollection("pets-food").build())
                .getDroppedDocuments());
        assertTrue(indexFolders("pets-food").isEmpty(), "a dropped collection leaves no index folder");
        assertEquals(Status.Code.NOT_FOUND, code(() -> query("pets-food", "x", Map.of())));
    }

    @Test
    void badRequestsAreRefusedWithTheReason() {
        brainml.createCollection(CreateCollectionRequest.newBuilder().setName("strict").build());
        assertEquals(Status.Code.ALREADY_EXISTS, code(() -> brainml.createCollection(CreateCollectionRequest.newBuilder()
                .setName("strict").build())));
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> brainml.createCollection(CreateCollectionRequest.newBuilder()
                .setName("../etc").build())));
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> brainml.createCollection(CreateCollectionRequest.newBuilder()
                .setName("faces").setEmbeddingModel("mobileface").build())));
        assertEquals(Status.Code.NOT_FOUND, code(() -> brainml.indexDocuments(IndexDocumentsRequest.newBuilder()
                .setCollection("missing").addDocuments(doc("1", "x", "", Map.of())).build())));
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> brainml.indexDocuments(IndexDocumentsRequest.newBuilder()
                .setCollection("strict").addDocuments(doc("", "x", "", Map.of())).build())));
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> brainml.indexDocuments(IndexDocumentsRequest.newBuilder()
                .setCollection("strict").addDocuments(doc("1", "x", "", Map.of("bad key!", "v"))).build())));
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> brainml.query(QueryRequest.newBuilder().setCollection("strict")
                .setText("x").setTopK(100_000).build())));
        assertEquals(Status.Code.OUT_OF_RANGE, code(() -> brainml.indexDocuments(IndexDocumentsRequest.newBuilder()
                .setCollection("strict").addDocuments(doc("big", "x".repeat(70_000), "", Map.of())).build())));
        assertTrue(brainml.listCollections(ListCollectionsRequest.getDefaultInstance()).getCollectionsList().stream()
                .anyMatch(c -> c.getName().equals("strict") && c.getDimensions() == 384));
        // role index does not serve the llm role's embeddings
        StatusRuntimeException notHere = assertThrows(StatusRuntimeException.class,
                () -> embeddings.embed(EmbedRequest.newBuilder().addTexts("x").build()));
        assertEquals(Status.Code.UNIMPLEMENTED, notHere.getStatus().getCode());
        assertTrue(notHere.getStatus().getDescription().contains("role llm; this one runs role index"));
    }

    @Test
    void theBusSpeaksTheTypedRequestsAsJson() throws Exception {
        ObjectMapper json = new ObjectMapper();
        JsonNode indexed = json.readTree(plugin.invoke(InvokeRequest.newBuilder().setCapability("brainml.index").setPayloadJson(
                "{\"collection\":\"bus\",\"createCollection\":true,\"documents\":[{\"id\":\"a\",\"text\":\"sunny weather today\"},"
                        + "{\"id\":\"b\",\"text\":\"the stock market fell\"}]}").build()).getPayloadJson());
        assertEquals(2, indexed.get("indexed").asInt());
        JsonNode found = json.readTree(plugin.invoke(InvokeRequest.newBuilder().setCapability("brainml.query")
                .setPayloadJson("{\"collection\":\"bus\",\"text\":\"is it raining?\",\"topK\":1}").build()).getPayloadJson());
        assertEquals("a", found.at("/hits/0/id").asText());
        JsonNode listed = json.readTree(plugin.invoke(InvokeRequest.newBuilder().setCapability("brainml.stats")
                .setPayloadJson("{}").build()).getPayloadJson());
        assertTrue(listed.get("collections").toString().contains("\"bus\""));
        JsonNode dropped = json.readTree(plugin.invoke(InvokeRequest.newBuilder().setCapability("brainml.admin")
                .setPayloadJson("{\"action\":\"drop\",\"collection\":\"bus\"}").build()).getPayloadJson());
        assertEquals("2", dropped.get("droppedDocuments").asText());
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> plugin.invoke(InvokeRequest.newBuilder()
                .setCapability("brainml.admin").setPayloadJson("{\"action\":\"explode\"}").build())));
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> plugin.invoke(InvokeRequest.newBuilder()
                .setCapability("brainml.query").setPayloadJson("{\"collection\":\"bus\",\"nonsense\":1}").build())));
    }

    static Status.Code code(Runnable call) {
        return assertThrows(StatusRuntimeException.class, call::run).getStatus().getCode();
    }
}
