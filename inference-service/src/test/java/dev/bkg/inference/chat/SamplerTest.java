package dev.bkg.inference.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The sampler's filters and penalties on hand-made logits, where each answer is known. */
class SamplerTest {

    static Sampler.Settings settings(float temperature, float topP, int topK, float minP, float repetition, float presence,
            float frequency, long seed) {
        return new Sampler.Settings(temperature, topP, topK, minP, repetition, presence, frequency, seed);
    }

    static float[] logits() {
        return new float[] {1.0f, 3.0f, 2.9f, 0.5f, -1.0f};
    }

    @Test
    void temperatureZeroIsGreedyAndTopKOneToo() {
        assertEquals(1, new Sampler(settings(0, 1, 0, 0, 1, 0, 0, 1), new long[0]).next(logits()));
        for (long seed = 0; seed < 50; seed++) {
            assertEquals(1, new Sampler(settings(1.5f, 1, 1, 0, 1, 0, 0, seed), new long[0]).next(logits()));
        }
    }

    @Test
    void topPAndMinPKeepOnlyTheLikelyTokens() {
        Map<Integer, Integer> drawn = new HashMap<>();
        for (long seed = 0; seed < 400; seed++) {
            // min_p 0.5: only tokens at least half as likely as the best (1 and 2) remain
            drawn.merge(new Sampler(settings(1, 1, 0, 0.5f, 1, 0, 0, seed), new long[0]).next(logits()), 1, Integer::sum);
        }
        assertEquals(java.util.Set.of(1, 2), drawn.keySet(), drawn.toString());
        drawn.clear();
        // top_p 0.6: token 1 (p 0.47) and token 2 (0.42) make the nucleus, renormalised to 0.525 / 0.475
        Sampler nucleus = new Sampler(settings(1, 0.6f, 0, 0, 1, 0, 0, 3), new long[0]);
        for (int i = 0; i < 4000; i++) {
            drawn.merge(nucleus.next(logits()), 1, Integer::sum);
        }
        assertEquals(java.util.Set.of(1, 2), drawn.keySet(), drawn.toString());
        assertEquals(0.525, drawn.get(1) / 4000.0, 0.04, drawn.toString());
    }

    @Test
    void theSameSeedDrawsTheSameTokens() {
        Sampler a = new Sampler(settings(1, 1, 0, 0, 1, 0, 0, 7), new long[0]);
        Sampler b = new Sampler(settings(1, 1, 0, 0, 1, 0, 0, 7), new long[0]);
        for (int i = 0; i < 50; i++) {
            assertEquals(a.next(logits()), b.next(logits()));
        }
    }

    @Test
    void penaltiesTurnGreedyAwayFromTokensAlreadySeen() {
        // repetition (CTRL): token 1 is in the prompt, its logit 3.0 / 1.1 falls below token 2's 2.9
        assertEquals(2, new Sampler(settings(0, 1, 0, 0, 1.1f, 0, 0, 1), new long[] {1}).next(logits()));
        // presence (OpenAI): once generated, token 1 loses 0.2 and token 2 wins the next step
        Sampler presence = new Sampler(settings(0, 1, 0, 0, 1, 0.2f, 0, 1), new long[0]);
        assertEquals(1, presence.next(logits()));
        assertEquals(2, presence.next(logits()));
        // frequency: each occurrence costs 0.06 — token 1 wins twice (3.0, then 2.94), then 2.88 < 2.9: token 2
        Sampler frequency = new Sampler(settings(0, 1, 0, 0, 1, 0, 0.06f, 1), new long[0]);
        assertEquals(1, frequency.next(logits()));
        assertEquals(1, frequency.next(logits()));
        assertEquals(2, frequency.next(logits()));
    }
}
