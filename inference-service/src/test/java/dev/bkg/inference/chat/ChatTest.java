package dev.bkg.inference.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.bkg.proto.inference.v1.ChatChunk;
import dev.bkg.proto.inference.v1.ChatMessage;
import dev.bkg.proto.inference.v1.ChatModelInfo;
import dev.bkg.proto.inference.v1.ChatRequest;
import dev.bkg.proto.inference.v1.ChatResponse;
import dev.bkg.proto.inference.v1.ChatServiceGrpc.ChatServiceBlockingStub;
import dev.bkg.proto.inference.v1.ListChatModelsRequest;
import dev.bkg.proto.plugin.v1.InvokeRequest;
import dev.bkg.proto.plugin.v1.PluginGrpc.PluginBlockingStub;
import dev.bkg.testsupport.ChatTestModels;
import dev.bkg.testsupport.LlmTokenizers;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Chat generation through the real gRPC API on generated decoder graphs of real architectures
 * with real tokenizers and chat templates, pulled from a local hub through model-service: the KV
 * cache gives exactly the tokens of full recomputation, alone and in a shared batch; a model with
 * known weights gives the known reply; stops, limits, cancellation and bad input behave.
 */
@QuarkusTest
@WithTestResource(ChatBackend.class)
class ChatTest {

    @GrpcClient("self")
    ChatServiceBlockingStub chat;

    @GrpcClient("self")
    PluginBlockingStub plugin;

    static ChatRequest.Builder greedy(String model, String prompt, int maxTokens) {
        return ChatRequest.newBuilder().setModel(model).setTemperature(0).setMaxTokens(maxTokens).setIgnoreEos(true)
                .addMessages(ChatMessage.newBuilder().setRole("system").setContent("You are terse."))
                .addMessages(ChatMessage.newBuilder().setRole("user").setContent(prompt));
    }

    /** The generated token ids of a streamed reply (the first chunk carries none, the last the finish). */
    List<Long> tokens(ChatRequest request) {
        List<Long> ids = new ArrayList<>();
        Iterator<ChatChunk> stream = chat.chatStream(request);
        ChatChunk first = stream.next();
        assertEquals("assistant", first.getRole());
        assertTrue(first.getUsage().getPromptTokens() > 0);
        while (stream.hasNext()) {
            ChatChunk chunk = stream.next();
            if (chunk.getFinishReason().isEmpty()) {
                ids.add(chunk.getTokenId());
            }
        }
        return ids;
    }

    @Test
    void theKvCacheGivesExactlyTheTokensOfFullRecomputation() {
        for (String model : List.of(ChatTestModels.TINY_QWEN, ChatTestModels.TINY_GPT2)) {
            ChatRequest cached = greedy(model, "Tell me about the weather in Lyon today.", 24).build();
            List<Long> withCache = tokens(cached);
            List<Long> recomputed = tokens(cached.toBuilder().setUseKvCache(false).build());
            assertEquals(24, withCache.size());
            assertEquals(recomputed, withCache, model + ": decoding with the KV cache differs from recomputation");
            assertTrue(withCache.stream().distinct().count() > 3, model + " should not repeat one token: " + withCache);
        }
    }

    @Test
    void concurrentChatsShareDecodeStepsAndEachGetsItsOwnReply() throws Exception {
        String[] prompts = {"Hi", "What is the capital of France, and why is it famous?", "Count to ten.",
            "Write a haiku about rain falling on a quiet city street at night, please.", "ok", "Explain KV caches.",
            "Bonjour, ça va ?", "数学は好きですか"};
        List<List<Long>> alone = new ArrayList<>();
        for (String prompt : prompts) {
            alone.add(tokens(greedy(ChatTestModels.TINY_QWEN, prompt, 48).setUseKvCache(false).build()));
        }
        ExecutorService pool = Executors.newFixedThreadPool(prompts.length);
        try {
            List<CompletableFuture<List<Long>>> together = new ArrayList<>();
            for (String prompt : prompts) {
                together.add(CompletableFuture.supplyAsync(() -> tokens(greedy(ChatTestModels.TINY_QWEN, prompt, 48).build()), pool));
            }
            for (int i = 0; i < prompts.length; i++) {
                assertEquals(alone.get(i), together.get(i).get(120, TimeUnit.SECONDS), "prompt " + i + " batched differs from alone");
            }
        } finally {
            pool.shutdownNow();
        }
        ChatModelInfo info = chat.listChatModels(ListChatModelsRequest.getDefaultInstance()).getModelsList().stream()
                .filter(m -> m.getName().equals(ChatTestModels.TINY_QWEN)).findFirst().orElseThrow();
        assertTrue(info.getLoaded());
        assertTrue(info.getPeakBatch() >= 2, "concurrent chats should have shared a decode step; peak " + info.getPeakBatch());
        assertTrue(info.getMemoryBytes() > 0);
        assertEquals(4096, info.getContextLength());
        assertEquals("llama", info.getArchitecture());
    }

    @Test
    void aFloat16KvCacheServesBatchedExactlyAsAlone() throws Exception {
        // the cache is rounded to float16 between steps, so it is compared with itself: batched rows are
        // byte copies of the same values, padding adds exactly nothing
        String[] prompts = {"Hi", "What is the capital of France?", "Write a haiku about rain, please.", "ok"};
        List<List<Long>> alone = new ArrayList<>();
        for (String prompt : prompts) {
            alone.add(tokens(greedy(ChatTestModels.HALF_CACHE, prompt, 48).build()));
            // the first token comes from the prefill, which reads no cache: the same as full recomputation
            assertEquals(tokens(greedy(ChatTestModels.HALF_CACHE, prompt, 1).setUseKvCache(false).build()),
                    alone.get(alone.size() - 1).subList(0, 1));
        }
        ExecutorService pool = Executors.newFixedThreadPool(prompts.length);
        try {
            List<CompletableFuture<List<Long>>> together = new ArrayList<>();
            for (String prompt : prompts) {
                together.add(CompletableFuture.supplyAsync(() -> tokens(greedy(ChatTestModels.HALF_CACHE, prompt, 48).build()),
                        pool));
            }
            for (int i = 0; i < prompts.length; i++) {
                assertEquals(alone.get(i), together.get(i).get(120, TimeUnit.SECONDS), "prompt " + i);
            }
        } finally {
            pool.shutdownNow();
        }
        ChatModelInfo info = chat.listChatModels(ListChatModelsRequest.getDefaultInstance()).getModelsList().stream()
                .filter(m -> m.getName().equals(ChatTestModels.HALF_CACHE)).findFirst().orElseThrow();
        assertTrue(info.getPeakBatch() >= 2, "the chats should have shared decode steps; peak " + info.getPeakBatch());
    }

    @Test
    void handSetWeightsGiveTheKnownReplyAsText() throws Exception {
        ChatResponse reply = chat.chat(greedy(ChatTestModels.NEXT_TOKEN, "Hello", 12).build());
        assertEquals("length", reply.getFinishReason());
        assertEquals(12, reply.getUsage().getCompletionTokens());
        try (HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(LlmTokenizers.tokenizerJson("qwen3"),
                java.util.Map.of("addSpecialTokens", "false"))) {
            // the prompt ends with Qwen's "<|im_start|>assistant\n": the reply is the ids after "\n"'s
            long newline = tokenizer.encode("\n").getIds()[0];
            long[] expected = new long[12];
            for (int i = 0; i < 12; i++) {
                expected[i] = newline + 1 + i;
            }
            assertEquals(tokenizer.decode(expected, true), reply.getMessage().getContent());
        }
        List<Long> ids = tokens(greedy(ChatTestModels.NEXT_TOKEN, "Hello", 5).build());
        for (int i = 1; i < ids.size(); i++) {
            assertEquals(ids.get(i - 1) + 1, ids.get(i));
        }
    }

    @Test
    void stopSequencesEndTheReplyBeforeThem() {
        String full = chat.chat(greedy(ChatTestModels.NEXT_TOKEN, "Hello", 12).build()).getMessage().getContent();
        String stop = full.substring(5, 8);
        ChatResponse stopped = chat.chat(greedy(ChatTestModels.NEXT_TOKEN, "Hello", 12).addStop(stop).build());
        assertEquals("stop", stopped.getFinishReason());
        assertEquals(full.substring(0, full.indexOf(stop)), stopped.getMessage().getContent());
    }

    @Test
    void theSameSeedGivesTheSameReplyAndAnotherSeedAnother() {
        ChatRequest sampled = ChatRequest.newBuilder().setModel(ChatTestModels.TINY_QWEN).setMaxTokens(16).setIgnoreEos(true)
                .setTemperature(1.0f).setTopP(0.95f).setTopK(50).setSeed(42)
                .addMessages(ChatMessage.newBuilder().setRole("user").setContent("Say something")).build();
        List<Long> first = tokens(sampled);
        assertEquals(first, tokens(sampled));
        assertNotEquals(first, tokens(sampled.toBuilder().setSeed(43).build()));
    }

    @Test
    void aClientThatGoesAwayStopsItsGeneration() throws Exception {
        Context.CancellableContext context = Context.current().withCancellation();
        int[] received = {0};
        context.run(() -> {
            Iterator<ChatChunk> stream = chat.chatStream(greedy(ChatTestModels.TINY_QWEN, "Go on forever", 4000).build());
            while (stream.hasNext() && received[0] < 5) {
                stream.next();
                received[0]++;
            }
        });
        context.cancel(null);
        assertEquals(5, received[0]);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            ChatModelInfo info = chat.listChatModels(ListChatModelsRequest.getDefaultInstance()).getModelsList().stream()
                    .filter(m -> m.getName().equals(ChatTestModels.TINY_QWEN)).findFirst().orElseThrow();
            if (info.getActive() == 0) {
                break;
            }
            assertTrue(System.nanoTime() < deadline, "the generation still runs after its client went away");
            Thread.sleep(50);
        }
    }

    @Test
    void badRequestsAreRefusedWithTheReason() {
        StatusRuntimeException empty = assertThrows(StatusRuntimeException.class,
                () -> chat.chat(ChatRequest.newBuilder().setModel(ChatTestModels.TINY_QWEN).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, empty.getStatus().getCode());
        assertTrue(empty.getStatus().getDescription().contains("messages"));
        StatusRuntimeException role = assertThrows(StatusRuntimeException.class, () -> chat.chat(ChatRequest.newBuilder()
                .setModel(ChatTestModels.TINY_QWEN).addMessages(ChatMessage.newBuilder().setRole("wizard").setContent("x")).build()));
        assertTrue(role.getStatus().getDescription().contains("wizard"), role.getStatus().getDescription());
        StatusRuntimeException temperature = assertThrows(StatusRuntimeException.class,
                () -> chat.chat(greedy(ChatTestModels.TINY_QWEN, "x", 4).setTemperature(-1).build()));
        assertTrue(temperature.getStatus().getDescription().contains("temperature"));
        StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class,
                () -> chat.chat(greedy("no-such-model", "x", 4).build()));
        assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());
        StatusRuntimeException embedding = assertThrows(StatusRuntimeException.class,
                () -> chat.chat(greedy("all-minilm-l6-v2", "x", 4).build()));
        assertTrue(embedding.getStatus().getDescription().contains("not a chat"), embedding.getStatus().getDescription());
        StatusRuntimeException noCache = assertThrows(StatusRuntimeException.class,
                () -> chat.chat(greedy(ChatTestModels.NO_CACHE, "x", 4).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, noCache.getStatus().getCode());
        assertTrue(noCache.getStatus().getDescription().contains("past_key_values"), noCache.getStatus().getDescription());
        // GPT-2's context here is 1024 tokens: a longer prompt is refused with both lengths named
        StatusRuntimeException tooLong = assertThrows(StatusRuntimeException.class,
                () -> chat.chat(greedy(ChatTestModels.TINY_GPT2, "word ".repeat(1500), 4).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, tooLong.getStatus().getCode());
        assertTrue(tooLong.getStatus().getDescription().contains("1024"), tooLong.getStatus().getDescription());
    }

    @Test
    void llmChatAnswersOnTheBus() {
        String reply = plugin.invoke(InvokeRequest.newBuilder().setCapability("llm.chat")
                .setPayloadJson("{\"model\":\"" + ChatTestModels.NEXT_TOKEN + "\",\"messages\":[{\"role\":\"user\",\"content\":"
                        + "\"Hello\"}],\"maxTokens\":4,\"temperature\":0}")
                .build()).getPayloadJson();
        assertTrue(reply.contains("\"finishReason\": \"length\""), reply);
        assertTrue(reply.contains("\"completionTokens\": 4"), reply);
    }

    @Test
    void beyondTheBatchAndTheQueueChatsAreRefusedAsOverload() throws Exception {
        // a batch of 8 and a queue of 8 in tests: of 24 long chats sent at once, some are refused at once
        ExecutorService pool = Executors.newFixedThreadPool(24);
        try {
            List<CompletableFuture<String>> outcomes = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                outcomes.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return tokens(greedy(ChatTestModels.TINY_QWEN, "Count slowly", 300).build()).size() == 300 ? "done"
                                : "short";
                    } catch (StatusRuntimeException e) {
                        return e.getStatus().getCode() + ": " + e.getStatus().getDescription();
                    }
                }, pool));
            }
            List<String> results = new ArrayList<>();
            for (CompletableFuture<String> outcome : outcomes) {
                results.add(outcome.get(180, TimeUnit.SECONDS));
            }
            long done = results.stream().filter("done"::equals).count();
            long refused = results.stream().filter(r -> r.startsWith("RESOURCE_EXHAUSTED") && r.contains("queue-capacity")).count();
            assertEquals(24, done + refused, results.toString());
            assertTrue(done >= 8 && refused >= 1, results.toString());
        } finally {
            pool.shutdownNow();
        }
    }
}
