package dev.bkg.launcher.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code ./bkg pull <owner/repo>[@revision] [--name NAME] [--file F]... [--onnx F] [--endpoint URL]}:
 * downloads a chat model (kind llm) in the Hugging Face layout through {@code POST /api/models/download},
 * draws the download's progress ({@code GET /api/models/{id}/progress}, NDJSON) and waits until the
 * model is READY (exit 0) or FAILED / INVALID (exit 1).
 */
final class PullCommand {

    static final List<String> DEFAULT_FILES = List.of("onnx/model.onnx", "config.json", "generation_config.json",
            "tokenizer.json", "tokenizer_config.json");
    static final Duration READY_WAIT = Duration.ofMinutes(30);
    static final long POLL_MS = 500;
    static final int BAR_WIDTH = 30;

    private PullCommand() {
    }

    static int run(List<String> args, CliContext ctx) {
        Args a = Args.parse(args, Set.of("--name", "--file", "--onnx", "--endpoint"), Set.of());
        if (a.positional().size() != 1) {
            throw CliException.usage("usage: ./bkg pull <owner/repo>[@revision] [--name NAME] [--file F]... [--onnx F]"
                    + " [--endpoint URL]");
        }
        String spec = a.positional().get(0).trim();
        String repo = spec;
        String revision = null;
        int at = spec.indexOf('@');
        if (at >= 0) {
            repo = spec.substring(0, at);
            revision = spec.substring(at + 1);
            if (revision.isEmpty()) {
                throw CliException.usage("nothing after '@' in " + spec + ": give a revision (a branch, tag or commit)");
            }
        }
        if (repo.isEmpty() || repo.startsWith("/") || repo.endsWith("/") || repo.chars().anyMatch(Character::isWhitespace)) {
            throw CliException.usage("'" + spec + "' is not a Hugging Face repository (owner/repo[@revision])");
        }
        String name = a.value("--name") != null ? a.value("--name") : repo.substring(repo.lastIndexOf('/') + 1).toLowerCase(Locale.ROOT);
        List<String> files = new ArrayList<>(a.values("--file").isEmpty() ? DEFAULT_FILES : a.values("--file"));
        if (a.value("--onnx") != null) {
            // the graph only: e.g. onnx/model_quantized.onnx instead of onnx/model.onnx
            files.removeIf(f -> f.endsWith(".onnx"));
            files.add(0, a.value("--onnx"));
        }
        String endpoint = a.value("--endpoint") != null ? a.value("--endpoint") : ctx.env("BKG_HF_ENDPOINT");

        ObjectNode body = GatewayClient.JSON.createObjectNode().put("name", name).put("kind", "llm");
        ObjectNode hf = body.putObject("huggingFace").put("repo", repo);
        if (revision != null) {
            hf.put("revision", revision);
        }
        if (endpoint != null) {
            hf.put("endpoint", endpoint);
        }
        ArrayNode list = hf.putArray("files");
        files.forEach(list::add);

        GatewayClient gateway = new GatewayClient(ctx);
        JsonNode started = gateway.call("POST", "/api/models/download", body);
        String modelId = started.path("modelId").asText("");
        if (modelId.isEmpty()) {
            throw new CliException(1, "the download answer names no model: " + started);
        }
        PrintStream out = ctx.out();
        out.println("pulling " + repo + (revision == null ? "" : "@" + revision) + " as " + name
                + (started.path("joinedExisting").asBoolean(false) ? " (joining the download already under way)" : ""));
        out.flush();
        String failure = follow(gateway, modelId, repo, ctx);
        return awaitReady(gateway, modelId, name, failure, ctx);
    }

    /**
     * Draws the download's progress until its stream ends; a stream that cannot be read is only a
     * warning. Answers the message of a failed or cancelled download, else null.
     */
    private static String follow(GatewayClient gateway, String modelId, String label, CliContext ctx) {
        Bar bar = new Bar(ctx.out(), ctx.outputIsTerminal(), label);
        HttpResponse<InputStream> response;
        try {
            response = gateway.stream("GET", "/api/models/" + path(modelId) + "/progress", null, "application/x-ndjson");
        } catch (CliException e) {
            if (e.exitCode() == 3) {
                throw e;
            }
            ctx.err().println("bkg: cannot follow the download (" + e.getMessage() + "); waiting for the model");
            return null;
        }
        String failure = null;
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode progress;
                try {
                    progress = GatewayClient.JSON.readTree(line);
                } catch (IOException e) {
                    continue;
                }
                bar.update(progress);
                String state = progress.path("state").asText("");
                if (state.equals("FAILED") || state.equals("CANCELLED")) {
                    failure = progress.path("message").asText(state.toLowerCase(Locale.ROOT));
                    break;
                }
                if (state.equals("DONE")) {
                    break;
                }
            }
        } catch (IOException e) {
            bar.finish();
            ctx.err().println("bkg: the progress stream broke off (" + e.getMessage() + "); waiting for the model");
            return failure;
        }
        bar.finish();
        return failure;
    }

    /** Polls the model until it is READY (0) or FAILED / INVALID (1). */
    private static int awaitReady(GatewayClient gateway, String modelId, String name, String failure, CliContext ctx) {
        long deadline = System.nanoTime() + READY_WAIT.toNanos();
        String status = "";
        while (System.nanoTime() < deadline) {
            JsonNode model = gateway.get("/api/models/" + path(modelId));
            status = model.path("status").asText("");
            switch (status) {
                case "READY" -> {
                    long size = model.path("totalSizeBytes").asLong(-1);
                    ctx.out().println("ready: " + model.path("name").asText(name) + " (" + Human.bytes(size) + ")");
                    ctx.out().flush();
                    return 0;
                }
                case "FAILED", "INVALID", "DELETING" -> {
                    String why = model.path("statusMessage").asText("");
                    if (why.isBlank()) {
                        why = model.path("validation").path("message").asText("");
                    }
                    if (why.isBlank() && failure != null) {
                        why = failure;
                    }
                    ctx.err().println("bkg: " + model.path("name").asText(name) + " is " + status.toLowerCase(Locale.ROOT)
                            + (why.isBlank() ? "" : ": " + why));
                    return 1;
                }
                default -> sleep(POLL_MS);
            }
        }
        ctx.err().println("bkg: gave up waiting: " + name + " is still " + status.toLowerCase(Locale.ROOT)
                + " after " + READY_WAIT.toMinutes() + " minutes; see ./bkg models");
        return 1;
    }

    private static String path(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(1, "interrupted");
        }
    }

    /**
     * On a terminal one line redrawn in place ({@code \r}); otherwise a line at each 10 % step (or at
     * each new file while the total is unknown), so that logs stay short.
     */
    static final class Bar {

        private final PrintStream out;
        private final boolean terminal;
        private final String label;
        private boolean drawn;
        private int lastStep = -1;
        private String lastKey = "";

        Bar(PrintStream out, boolean terminal, String label) {
            this.out = out;
            this.terminal = terminal;
            this.label = label;
        }

        void update(JsonNode p) {
            String state = p.path("state").asText("");
            String file = p.hasNonNull("currentFile") ? p.get("currentFile").asText() : label;
            String verb = switch (state) {
                case "QUEUED" -> "waiting for";
                case "VERIFYING" -> "verifying";
                case "FAILED" -> "failed:";
                case "CANCELLED" -> "cancelled:";
                case "DONE" -> "pulled";
                default -> "pulling";
            };
            long done = Math.max(0, p.path("bytesDone").asLong(0));
            long total = p.hasNonNull("bytesTotal") ? p.get("bytesTotal").asLong(-1) : -1;
            if (state.equals("DONE") && total < 0) {
                total = done;
            }
            String rate = state.equals("RUNNING") ? Human.rate(p.path("rateBytesPerSecond").asDouble(0)) : "";
            int percent = total > 0 ? (int) Math.min(100, done * 100 / total) : -1;
            if (terminal) {
                StringBuilder line = new StringBuilder("\r").append(verb).append(' ').append(file);
                if (percent >= 0) {
                    int filled = percent * BAR_WIDTH / 100;
                    line.append("  [").append("#".repeat(filled)).append("-".repeat(BAR_WIDTH - filled)).append("]  ")
                            .append(String.format(Locale.ROOT, "%3d%%", percent)).append("  ").append(Human.bytesOf(done, total));
                } else {
                    line.append("  ").append(Human.bytes(done));
                }
                if (!rate.isEmpty()) {
                    line.append("  ").append(rate);
                }
                out.print(line.append("\033[K"));
                out.flush();
                drawn = true;
            } else {
                // a line when the step, the state or (with no total) the file changes
                int step = percent < 0 ? -1 : percent / 10;
                String key = state + (percent < 0 ? file : "");
                if (step > lastStep || !key.equals(lastKey)) {
                    String amount = percent >= 0 ? String.format(Locale.ROOT, "%3d%%  %s", percent, Human.bytesOf(done, total))
                            : Human.bytes(done);
                    out.println(verb + " " + file + "  " + amount + (rate.isEmpty() ? "" : "  " + rate));
                    out.flush();
                }
                lastStep = Math.max(lastStep, step);
                lastKey = key;
            }
        }

        void finish() {
            if (drawn) {
                out.println();
                out.flush();
                drawn = false;
            }
        }
    }
}
