package dev.bkg.inference.chat;

import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * Turns generated token ids into text as they come, the way Hugging Face's text-generation-inference
 * does: it decodes a short window of ids before and after the new token and emits the difference,
 * holding text back while it ends in U+FFFD (a multi-byte character not complete yet, common with
 * byte-level BPE), so a character is never split. Stop sequences are found in the text and held
 * back while the text's end could still become one; what comes out never contains them.
 */
final class TextStream {

    private final Function<long[], String> decoder;
    private final List<String> stops;
    private final int longestStop;
    private long[] ids = new long[64];
    private int size;
    private int prefixOffset;
    private int readOffset;
    /** Decoded text not emitted yet because it could be the start of a stop sequence. */
    private final StringBuilder held = new StringBuilder();
    private boolean stopped;

    TextStream(Function<long[], String> decoder, List<String> stops) {
        this.decoder = decoder;
        this.stops = stops.stream().filter(s -> !s.isEmpty()).toList();
        this.longestStop = this.stops.stream().mapToInt(String::length).max().orElse(0);
    }

    /** The text that may be shown after this token ("" while a character or a possible stop is incomplete). */
    String push(long id) {
        if (size == ids.length) {
            ids = Arrays.copyOf(ids, size * 2);
        }
        ids[size++] = id;
        String before = decode(prefixOffset, readOffset);
        String after = decode(prefixOffset, size);
        if (after.length() <= before.length() || after.endsWith("\uFFFD") || !after.startsWith(before)) {
            return "";
        }
        prefixOffset = readOffset;
        readOffset = size;
        held.append(after, before.length(), after.length());
        return release();
    }

    /** True once a stop sequence appeared: the reply ends there. */
    boolean stopped() {
        return stopped;
    }

    /** What is left to show when the reply ends for another reason (held text that did not become a stop). */
    String flush() {
        if (!stopped && readOffset < size) {
            // the last tokens' text, even if it ends in a replacement character: nothing more will complete it
            String before = decode(prefixOffset, readOffset);
            String after = decode(prefixOffset, size);
            if (after.startsWith(before)) {
                held.append(after, before.length(), after.length());
            }
            readOffset = size;
        }
        String out = stopped ? "" : release();
        String rest = stopped ? "" : held.toString();
        held.setLength(0);
        return out + rest;
    }

    private String decode(int from, int to) {
        return from >= to ? "" : decoder.apply(Arrays.copyOfRange(ids, from, to));
    }

    private String release() {
        int cut = -1;
        for (String stop : stops) {
            int at = held.indexOf(stop);
            if (at >= 0 && (cut < 0 || at < cut)) {
                cut = at;
            }
        }
        if (cut >= 0) {
            stopped = true;
            String out = held.substring(0, cut);
            held.setLength(0);
            return out;
        }
        // keep the longest tail that is the beginning of some stop sequence
        int keep = 0;
        for (int length = Math.min(longestStop - 1, held.length()); length > 0; length--) {
            String tail = held.substring(held.length() - length);
            if (stops.stream().anyMatch(s -> s.startsWith(tail))) {
                keep = length;
                break;
            }
        }
        String out = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return out;
    }
}
