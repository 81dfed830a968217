package dev.bkg.inference.chat;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Picks the next token from a row of logits: penalties first (repetition over prompt and reply,
 * CTRL style; presence and frequency over the reply, OpenAI style), then greedy at temperature 0,
 * else temperature, top-k, min-p and top-p (nucleus) before one draw from a seeded generator —
 * the same seed and request give the same reply.
 */
final class Sampler {

    /** What a request asked for, defaults already applied. */
    record Settings(float temperature, float topP, int topK, float minP, float repetitionPenalty, float presencePenalty,
            float frequencyPenalty, long seed) {
    }

    private final Settings settings;
    private final SplittableRandom random;
    /** Every token seen (prompt and reply), for the repetition penalty. */
    private final java.util.Set<Integer> seen = new java.util.HashSet<>();
    /** How often each token was generated, for presence and frequency penalties. */
    private final Map<Integer, Integer> generated = new HashMap<>();

    Sampler(Settings settings, long[] prompt) {
        this.settings = settings;
        this.random = new SplittableRandom(settings.seed());
        if (settings.repetitionPenalty() != 1f) {
            for (long id : prompt) {
                seen.add((int) id);
            }
        }
    }

    /** The next token; logits may be changed in place. */
    int next(float[] logits) {
        penalize(logits);
        int token = settings.temperature() <= 0f ? argmax(logits) : draw(logits);
        accept(token);
        return token;
    }

    private void accept(int token) {
        if (settings.repetitionPenalty() != 1f) {
            seen.add(token);
        }
        if (settings.presencePenalty() != 0f || settings.frequencyPenalty() != 0f) {
            generated.merge(token, 1, Integer::sum);
        }
    }

    private void penalize(float[] logits) {
        float penalty = settings.repetitionPenalty();
        if (penalty != 1f) {
            for (int id : seen) {
                if (id >= 0 && id < logits.length) {
                    logits[id] = logits[id] > 0 ? logits[id] / penalty : logits[id] * penalty;
                }
            }
        }
        for (Map.Entry<Integer, Integer> entry : generated.entrySet()) {
            int id = entry.getKey();
            if (id >= 0 && id < logits.length) {
                logits[id] -= settings.presencePenalty() + settings.frequencyPenalty() * entry.getValue();
            }
        }
    }

    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    private int draw(float[] logits) {
        float max = logits[argmax(logits)];
        float temperature = settings.temperature();
        // weights relative to the top token, packed with their ids into longs (a positive float's bits
        // sort like the float), so that ordering 150k candidates is one primitive sort
        double floor = Math.max(settings.minP(), 1e-9);
        long[] packed = new long[logits.length];
        int count = 0;
        for (int i = 0; i < logits.length; i++) {
            float w = (float) Math.exp((logits[i] - max) / temperature);
            if (w >= floor) {
                packed[count++] = ((long) Float.floatToRawIntBits(w) << 32) | i;
            }
        }
        Arrays.sort(packed, 0, count);
        // from here on, index 0 is the most likely candidate
        int kept = settings.topK() > 0 ? Math.min(count, settings.topK()) : count;
        double total = 0;
        for (int i = 0; i < kept; i++) {
            total += weight(packed, count, i);
        }
        if (settings.topP() > 0f && settings.topP() < 1f) {
            double cumulative = 0;
            int nucleus = 0;
            while (nucleus < kept) {
                cumulative += weight(packed, count, nucleus) / total;
                nucleus++;
                if (cumulative >= settings.topP()) {
                    break;
                }
            }
            kept = nucleus;
            total = 0;
            for (int i = 0; i < kept; i++) {
                total += weight(packed, count, i);
            }
        }
        double target = random.nextDouble() * total;
        for (int i = 0; i < kept; i++) {
            target -= weight(packed, count, i);
            if (target <= 0) {
                return id(packed, count, i);
            }
        }
        return id(packed, count, kept - 1);
    }

    /** The i-th most likely candidate's weight (the array is sorted ascending). */
    private static float weight(long[] packed, int count, int i) {
        return Float.intBitsToFloat((int) (packed[count - 1 - i] >>> 32));
    }

    private static int id(long[] packed, int count, int i) {
        return (int) packed[count - 1 - i];
    }
}
