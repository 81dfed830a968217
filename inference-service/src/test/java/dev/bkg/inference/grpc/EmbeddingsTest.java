package dev.bkg.inference.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.bkg.testsupport.ModelServiceBackend;
import dev.bkg.proto.inference.v1.EmbedRequest;
import dev.bkg.proto.inference.v1.EmbedResponse;
import dev.bkg.proto.inference.v1.EmbeddingModel;
import dev.bkg.proto.inference.v1.EmbeddingServiceGrpc.EmbeddingServiceBlockingStub;
import dev.bkg.proto.inference.v1.ExecutionProvider;
import dev.bkg.proto.inference.v1.ListEmbeddingModelsRequest;
import dev.bkg.proto.inference.v1.ListLoadedRequest;
import dev.bkg.proto.inference.v1.RunnerServiceGrpc.RunnerServiceBlockingStub;
import dev.bkg.proto.plugin.v1.InvokeRequest;
import dev.bkg.proto.plugin.v1.PluginGrpc.PluginBlockingStub;
import dev.bkg.testsupport.Readiness;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Embeddings through the real gRPC API with the built-in MiniLM fetched from a real model-service:
 * meaning ranks as it should, dynamic batching changes no number, truncation is reported, limits
 * and overload are refused with the limit named, and native memory settles under many batches.
 */
@QuarkusTest
@WithTestResource(ModelServiceBackend.class)
class EmbeddingsTest {

    @GrpcClient("self")
    EmbeddingServiceBlockingStub embeddings;

    @GrpcClient("self")
    RunnerServiceBlockingStub runner;

    @GrpcClient("self")
    PluginBlockingStub plugin;

    @BeforeEach
    void awaitTheDefaultModel() {
        Readiness.awaitStatus(200, Duration.ofSeconds(120));
    }

    EmbedResponse embed(List<String> texts) {
        return embeddings.embed(EmbedRequest.newBuilder().addAllTexts(texts).setNormalize(true).setTruncate(true).build());
    }

    static double cosine(List<Float> a, List<Float> b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.size(); i++) {
            dot += a.get(i) * b.get(i);
            na += a.get(i) * a.get(i);
            nb += b.get(i) * b.get(i);
        }
        return dot / Math.sqrt(na * nb);
    }

    @Test
    void sentencesOfTheSameMeaningAreCloser() {
        EmbedResponse reply = embed(List.of("A man is eating food.", "A man is eating bread.", "A girl is carrying a baby."));
        assertEquals("all-minilm-l6-v2", reply.getModel());
        assertEquals(384, reply.getDimensions());
        assertEquals(3, reply.getEmbeddingsCount());
        List<Float> food = reply.getEmbeddings(0).getValuesList();
        double bread = cosine(food, reply.getEmbeddings(1).getValuesList());
        double baby = cosine(food, reply.getEmbeddings(2).getValuesList());
        System.out.printf("cosine food/bread %.3f, food/baby %.3f%n", bread, baby);
        assertTrue(bread > 0.6 && baby < 0.2 && bread - baby > 0.5, bread + " vs " + baby);
        double norm = food.stream().mapToDouble(v -> v * v).sum();
        assertEquals(1.0, norm, 1e-4, "normalised");
        // [CLS] a man is eating food . [SEP]
        assertEquals(8, reply.getEmbeddings(0).getTokenCount());
        assertEquals(reply.getEmbeddingsList().stream().mapToInt(e -> e.getTokenCount()).sum(),
                reply.getUsage().getPromptTokens());
    }

    @jakarta.inject.Inject
    dev.bkg.inference.domain.Embeddings domain;

    @Test
    void batchedAndAloneGiveTheSameVectors() throws Exception {
        List<String> texts = IntStream.range(0, 40).mapToObj(i -> "sentence number " + i + " " + "with more words ".repeat(i % 7))
                .toList();
        EmbedResponse together = embed(texts);
        ExecutorService clients = Executors.newFixedThreadPool(8);
        try {
            List<CompletableFuture<EmbedResponse>> alone = new ArrayList<>();
            for (String text : texts) {
                alone.add(CompletableFuture.supplyAsync(() -> embed(List.of(text)), clients));
            }
            double worst = 0;
            for (int i = 0; i < texts.size(); i++) {
                List<Float> a = together.getEmbeddings(i).getValuesList();
                List<Float> b = alone.get(i).get().getEmbeddings(0).getValuesList();
                for (int d = 0; d < a.size(); d++) {
                    worst = Math.max(worst, Math.abs(a.get(d) - b.get(d)));
                }
            }
            System.out.printf("largest difference batched vs alone: %.2e; most batches at once: %d%n", worst,
                    domain.mostRunsAtOnce());
            assertTrue(worst <= 1e-5, "batched and unbatched equal to 1e-5: " + worst);
            assertEquals(2, domain.mostRunsAtOnce(), "the two workers (bkg.inference.embedding.workers) ran batches side by side");
        } finally {
            clients.shutdown();
        }
    }

    @Test
    void longTextsAreTruncatedOnlyWhenAllowedAndSaySo() {
        String longText = "word ".repeat(500);
        EmbedResponse cut = embed(List.of(longText));
        assertTrue(cut.getEmbeddings(0).getTruncated());
        assertEquals(128, cut.getEmbeddings(0).getTokenCount(), "MiniLM's tokenizer.json truncates at 128");
        StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> embeddings.embed(
                EmbedRequest.newBuilder().addTexts("short").addTexts(longText).setTruncate(false).build()));
        assertEquals(Status.Code.OUT_OF_RANGE, refused.getStatus().getCode());
        assertEquals("input 1 is longer than the 128 tokens model 'all-minilm-l6-v2' reads; send it shorter or allow truncation",
                refused.getStatus().getDescription());
        assertFalse(embed(List.of("short")).getEmbeddings(0).getTruncated());
    }

    @Test
    void badInputIsRefusedWithTheLimitNamed() {
        assertEquals(Status.Code.INVALID_ARGUMENT, code(EmbedRequest.newBuilder().build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, code(EmbedRequest.newBuilder().addTexts("").build()));
        StatusRuntimeException many = assertThrows(StatusRuntimeException.class, () -> embeddings.embed(EmbedRequest
                .newBuilder().addAllTexts(IntStream.range(0, 10_000).mapToObj(i -> "t").toList()).build()));
        assertEquals(Status.Code.OUT_OF_RANGE, many.getStatus().getCode());
        assertTrue(many.getStatus().getDescription().contains("at most 2048"), many.getStatus().getDescription());
        StatusRuntimeException huge = assertThrows(StatusRuntimeException.class,
                () -> embeddings.embed(EmbedRequest.newBuilder().addTexts("x".repeat(1 << 20)).build()));
        assertEquals(Status.Code.OUT_OF_RANGE, huge.getStatus().getCode());
        assertTrue(huge.getStatus().getDescription().contains("at most 65536"), huge.getStatus().getDescription());
        StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class,
                () -> embeddings.embed(EmbedRequest.newBuilder().setModel("no-such-model").addTexts("x").build()));
        assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());
        StatusRuntimeException wrongKind = assertThrows(StatusRuntimeException.class,
                () -> embeddings.embed(EmbedRequest.newBuilder().setModel("mobileface").addTexts("x").build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, wrongKind.getStatus().getCode());
        assertEquals("model 'mobileface' is a face-embedder model, not an embedding model", wrongKind.getStatus().getDescription());
    }

    Status.Code code(EmbedRequest request) {
        return assertThrows(StatusRuntimeException.class, () -> embeddings.embed(request)).getStatus().getCode();
    }

    @Test
    void aFullQueueRefusesWholeRequestsAsOverload() throws Exception {
        List<String> texts = IntStream.range(0, 2048).mapToObj(i -> "t" + i).toList();
        ExecutorService clients = Executors.newFixedThreadPool(6);
        try {
            List<CompletableFuture<Status.Code>> outcomes = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                outcomes.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        embed(texts);
                        return Status.Code.OK;
                    } catch (StatusRuntimeException e) {
                        assertTrue(e.getStatus().getDescription().contains("overloaded"), e.getStatus().getDescription());
                        return e.getStatus().getCode();
                    }
                }, clients));
            }
            List<Status.Code> codes = new ArrayList<>();
            for (var outcome : outcomes) {
                codes.add(outcome.get());
            }
            assertTrue(codes.contains(Status.Code.OK), codes.toString());
            assertTrue(codes.contains(Status.Code.RESOURCE_EXHAUSTED), "6 × 2048 texts exceed the queue of 4096: " + codes);
            assertEquals(6, codes.stream().filter(c -> c == Status.Code.OK || c == Status.Code.RESOURCE_EXHAUSTED).count());
        } finally {
            clients.shutdown();
        }
        assertEquals(1, embed(List.of("after the storm")).getEmbeddingsCount(), "serves again once the queue drains");
    }

    @Test
    void theCatalogShowsTheLoadedDefaultModelAndItsProvider() {
        EmbeddingModel minilm = embeddings.listEmbeddingModels(ListEmbeddingModelsRequest.getDefaultInstance()).getModelsList()
                .stream().filter(m -> m.getName().equals("all-minilm-l6-v2")).findFirst().orElseThrow();
        assertTrue(minilm.getIsDefault());
        assertTrue(minilm.getLoaded());
        assertEquals(384, minilm.getDimensions());
        assertEquals(ExecutionProvider.CPU, minilm.getProvider(), "no GPU on this machine: CPU, said plainly");
    }

    @Test
    void anotherRolesServiceIsUnimplementedAndTheBusEmbeds() throws Exception {
        StatusRuntimeException other = assertThrows(StatusRuntimeException.class,
                () -> runner.listLoaded(ListLoadedRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNIMPLEMENTED, other.getStatus().getCode(), "the runner role's service is not served here");

        JsonNode reply = new ObjectMapper().readTree(plugin.invoke(InvokeRequest.newBuilder().setCapability("llm.embed")
                .setPayloadJson("{\"input\":[\"hello\",\"world\"]}").build()).getPayloadJson());
        assertEquals(2, reply.get("embeddings").size());
        assertEquals(384, reply.get("embeddings").get(0).size());
        assertEquals(6, reply.at("/usage/prompt_tokens").asInt());
        StatusRuntimeException notJson = assertThrows(StatusRuntimeException.class, () -> plugin.invoke(
                InvokeRequest.newBuilder().setCapability("llm.embed").setPayloadJson("{\"input\": 5}").build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, notJson.getStatus().getCode());
    }

    @jakarta.inject.Inject
    InferenceFigures figures;

    static double metric(String page, String name) {
        return page.lines().filter(l -> l.startsWith(name + "{")).mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
    }

    @Test
    void theWorkIsCountedForPrometheusAndReportedAsTelemetry() {
        String before = io.restassured.RestAssured.get("/q/metrics").asString();
        embed(IntStream.range(0, 20).mapToObj(i -> "counted text " + i).toList());
        String after = io.restassured.RestAssured.get("/q/metrics").asString();
        assertEquals(20, metric(after, "bkg_embeddings_texts_total") - metric(before, "bkg_embeddings_texts_total"), 1e-9);
        assertTrue(metric(after, "bkg_embeddings_tokens_total") - metric(before, "bkg_embeddings_tokens_total") >= 20 * 5);
        assertTrue(after.contains("bkg_inference_provider_info{provider=\"CPU\",service=\"inference-service\"} 1.0"),
                after.lines().filter(l -> l.startsWith("bkg_inference")).toList().toString());

        List<dev.bkg.proto.telemetry.v1.Sample> samples = new ArrayList<>();
        figures.collect(System.currentTimeMillis(), samples);
        figures.collect(System.currentTimeMillis(), samples);
        List<String> metrics = samples.stream().map(s -> s.getMetric()).distinct().sorted().toList();
        assertEquals(List.of("chat_active", "chat_models_loaded", "chat_queue_depth", "chat_tokens_per_second",
                "embedding_batch_size", "embedding_queue_depth", "embedding_tokens_per_second", "embeddings_per_second",
                "provider_cuda"), metrics);
        assertTrue(samples.stream().filter(s -> s.getMetric().equals("provider_cuda")).allMatch(s -> s.getValue() == 0));
        assertTrue(samples.stream().allMatch(s -> s.getSource().equals("inference-service") && s.getKind().equals("service")));
    }

    /** Tensors are released: after warming up, thousands more batches leave native memory where it was. */
    @Test
    void nativeMemorySettlesUnderManyBatches() throws Exception {
        List<String> batch = IntStream.range(0, 32).mapToObj(i -> "memory check sentence " + i + " of a batch").toList();
        // warm-up: two workers split each request differently, so it takes some batches to meet the shapes
        for (int i = 0; i < 100; i++) {
            embed(batch);
        }
        long before = outsideTheHeap();
        for (int i = 0; i < 300; i++) {
            embed(batch);
        }
        long after = outsideTheHeap();
        System.out.printf("memory outside the Java heap: %d MB before, %d MB after 300 batches of 32%n", before >> 20,
                after >> 20);
        if (after - before >= 64L << 20) {
            // the allocator's arenas may still be growing (it depends on which threads ran what); a leak keeps on
            // growing (one unreleased output of a batch is ~6 MB), so 300 more batches tell the two apart
            before = after;
            for (int i = 0; i < 300; i++) {
                embed(batch);
            }
            after = outsideTheHeap();
            System.out.printf("and %d MB after 300 more%n", after >> 20);
        }
        assertTrue(after - before < 64L << 20, "native memory grew by " + ((after - before) >> 20) + " MB");
    }

    /** This process's resident memory minus the committed Java heap. */
    static long outsideTheHeap() throws Exception {
        System.gc();
        Thread.sleep(200);
        long rss = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmRSS:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("\\D+", "")) * 1024).findFirst().orElseThrow();
        return rss - java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted();
    }
}
