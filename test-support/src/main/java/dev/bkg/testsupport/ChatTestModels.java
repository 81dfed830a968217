package dev.bkg.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import dev.bkg.proto.model.v1.DownloadModelRequest;
import dev.bkg.proto.model.v1.GetModelRequest;
import dev.bkg.proto.model.v1.HuggingFaceSource;
import dev.bkg.proto.model.v1.Model;
import dev.bkg.proto.model.v1.ModelKind;
import dev.bkg.proto.model.v1.ModelServiceGrpc.ModelServiceBlockingStub;
import dev.bkg.proto.model.v1.ModelStatus;

/**
 * The chat models of the tests, written by {@link DecoderGraphs} in the Hugging Face layout with
 * real tokenizers ({@link LlmTokenizers}), published on a local {@link HuggingFaceRepoServer} and
 * pulled through model-service's real Hugging Face download:
 * <ul>
 * <li>{@link #TINY_QWEN}: Llama/Qwen architecture (rotary, RMSNorm, grouped-query attention: 4
 * heads, 2 kv heads), random weights, Qwen3's tokenizer and chat template, context 4096;</li>
 * <li>{@link #NEXT_TOKEN}: the same architecture with hand-set weights whose greedy next token is
 * always the last token's id + 1, with Qwen3's tokenizer;</li>
 * <li>{@link #TINY_GPT2}: GPT-2 architecture (learned positions, LayerNorm, GELU), random weights,
 * Llama 2's tokenizer (no chat template there: the runtime's ChatML fallback), context 1024;</li>
 * <li>{@link #HALF_CACHE}: the tiny Qwen graph with a float16 KV cache;</li>
 * <li>{@link #NO_CACHE}: a graph without past_key_values inputs ({@link DecoderGraphs#withoutCache()}).</li>
 * </ul>
 */
public final class ChatTestModels {

    public static final String TINY_QWEN = "tiny-qwen";
    public static final String NEXT_TOKEN = "next-token-qwen";
    public static final String TINY_GPT2 = "tiny-gpt2";
    /** Names like a language model's but no KV cache: model-service takes it as llm, the chat runtime refuses it. */
    public static final String NO_CACHE = "no-cache-graph";
    /** {@link #TINY_QWEN}'s graph with its KV cache in float16 ({@link DecoderGraphs#buildWithHalfCache}). */
    public static final String HALF_CACHE = "tiny-qwen-f16-cache";
    /** Qwen's eos ids as its generation_config.json names them: <|im_end|>, <|endoftext|>. */
    static final String QWEN_GENERATION = "{\"bos_token_id\":151643,\"eos_token_id\":[151645,151643]}";
    public static final List<String> FILES = List.of("onnx/model.onnx", "config.json", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json");

    private ChatTestModels() {
    }

    public static DecoderGraphs.Config tinyQwenConfig() {
        return new DecoderGraphs.Config(DecoderGraphs.Architecture.LLAMA, LlmTokenizers.QWEN3_VOCABULARY, 32, 2, 4, 2, 64,
                4096, 7);
    }

    public static DecoderGraphs.Config tinyGpt2Config() {
        return new DecoderGraphs.Config(DecoderGraphs.Architecture.GPT2, LlmTokenizers.LLAMA2_VOCABULARY, 64, 2, 4, 4, 256,
                1024, 11);
    }

    /** Writes the named model's repo into a folder under {@code root} and publishes it as {@code test/<name>}. */
    public static void publish(HuggingFaceRepoServer hub, Path root, String name) {
        try {
            Path dir = Files.createDirectories(root.resolve(name));
            switch (name) {
                case TINY_QWEN -> DecoderGraphs.writeRepo(dir, DecoderGraphs.build(tinyQwenConfig()),
                        DecoderGraphs.configJson(tinyQwenConfig(), 151643, 151645), QWEN_GENERATION,
                        LlmTokenizers.tokenizerJson("qwen3"), LlmTokenizers.tokenizerConfig("qwen3"));
                case NEXT_TOKEN -> DecoderGraphs.writeRepo(dir, DecoderGraphs.nextToken(LlmTokenizers.QWEN3_VOCABULARY, 2),
                        DecoderGraphs.configJson(DecoderGraphs.nextTokenConfig(LlmTokenizers.QWEN3_VOCABULARY, 2), 151643, 151645),
                        QWEN_GENERATION, LlmTokenizers.tokenizerJson("qwen3"), LlmTokenizers.tokenizerConfig("qwen3"));
                case TINY_GPT2 -> DecoderGraphs.writeRepo(dir, DecoderGraphs.build(tinyGpt2Config()),
                        DecoderGraphs.configJson(tinyGpt2Config(), 1, 2), "{\"bos_token_id\":1,\"eos_token_id\":2}",
                        LlmTokenizers.tokenizerJson("llama2"), null);
                case HALF_CACHE -> DecoderGraphs.writeRepo(dir, DecoderGraphs.buildWithHalfCache(tinyQwenConfig()),
                        DecoderGraphs.configJson(tinyQwenConfig(), 151643, 151645), QWEN_GENERATION,
                        LlmTokenizers.tokenizerJson("qwen3"), LlmTokenizers.tokenizerConfig("qwen3"));
                case NO_CACHE -> DecoderGraphs.writeRepo(dir, DecoderGraphs.withoutCache(),
                        DecoderGraphs.configJson(tinyQwenConfig(), 151643, 151645), QWEN_GENERATION,
                        LlmTokenizers.tokenizerJson("qwen3"), LlmTokenizers.tokenizerConfig("qwen3"));
                default -> throw new IllegalArgumentException("no test chat model " + name);
            }
            hub.publish("test/" + name, dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Pulls a published model into model-service as kind llm and waits until it is READY (validated). */
    public static Model pull(ModelServiceBlockingStub models, HuggingFaceRepoServer hub, String name, Duration timeout) {
        List<String> files = name.equals(TINY_GPT2) ? FILES.subList(0, 4) : FILES;
        String id = models.downloadModel(DownloadModelRequest.newBuilder().setName(name).setKind(ModelKind.LLM)
                .setHuggingFace(HuggingFaceSource.newBuilder().setRepo("test/" + name).setEndpoint(hub.endpoint())
                        .addAllFiles(files))
                .build()).getModelId();
        return awaitReady(models, id, "chat model " + name, timeout);
    }

    /** Waits until a model being downloaded is READY; fails when it is FAILED or INVALID, or after the timeout. */
    public static Model awaitReady(ModelServiceBlockingStub models, String id, String what, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Model model = models.getModel(GetModelRequest.newBuilder().setId(id).build()).getModel();
            if (model.getStatus() == ModelStatus.READY) {
                return model;
            }
            if (model.getStatus() == ModelStatus.FAILED || model.getStatus() == ModelStatus.INVALID
                    || System.nanoTime() > deadline) {
                throw new IllegalStateException(what + " did not install: " + model.getStatus() + " " + model.getStatusMessage());
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }
}
