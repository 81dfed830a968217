package dev.bkg.launcher.cli;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;

/** {@code ./bkg ps} (the loaded chat models, like Ollama's ps) and {@code ./bkg models} (the catalog). */
final class ListCommands {

    private ListCommands() {
    }

    /** {@code GET /api/chat/models}: the loaded ones only; nothing loaded prints the header alone. */
    static int ps(List<String> args, CliContext ctx) {
        Args a = Args.parse(args, Set.of(), Set.of());
        if (!a.positional().isEmpty()) {
            throw CliException.usage("usage: ./bkg ps");
        }
        JsonNode reply = new GatewayClient(ctx).get("/api/chat/models");
        long now = System.currentTimeMillis();
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode m : reply.path("models")) {
            if (!m.path("loaded").asBoolean(false)) {
                continue;
            }
            long expires = m.path("expiresEpochMs").asLong(0);
            rows.add(List.of(
                    m.path("name").asText("") + (m.path("default").asBoolean(false) ? " (default)" : ""),
                    Human.shortId(m.path("id").asText(null), 12),
                    Human.bytes(m.has("memoryBytes") ? m.get("memoryBytes").asLong() : -1),
                    m.path("provider").asText(""),
                    m.has("contextLength") ? m.get("contextLength").asText() : "",
                    expires > 0 ? Human.fromNow(expires, now) : "",
                    m.path("active").asLong(0) + "/" + m.path("queued").asLong(0)));
        }
        Human.table(ctx.out(), List.of("NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL", "ACTIVE/QUEUED"), rows);
        return 0;
    }

    /** {@code GET /api/models[?kind=]}: every model of the catalog, whatever its state. */
    static int models(List<String> args, CliContext ctx) {
        Args a = Args.parse(args, Set.of("--kind"), Set.of());
        if (!a.positional().isEmpty()) {
            throw CliException.usage("usage: ./bkg models [--kind llm|embedding|face-detector|face-embedder|generic]");
        }
        String query = a.value("--kind") == null ? "" : "?kind=" + URLEncoder.encode(a.value("--kind"), StandardCharsets.UTF_8);
        JsonNode reply = new GatewayClient(ctx).get("/api/models" + query);
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode m : reply.path("models")) {
            long size = m.path("totalSizeBytes").asLong(0);
            rows.add(List.of(
                    m.path("name").asText(""),
                    Human.shortId(m.path("id").asText(null), 12),
                    m.path("kind").asText(""),
                    m.path("status").asText("").toLowerCase(Locale.ROOT),
                    size > 0 ? Human.bytes(size) : "",
                    m.path("source").asText("")));
        }
        Human.table(ctx.out(), List.of("NAME", "ID", "KIND", "STATUS", "SIZE", "SOURCE"), rows);
        return 0;
    }
}
