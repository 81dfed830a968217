package dev.bkg.launcher.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code ./bkg chat [model] [prompt] [--system TEXT] [--temperature T] [--max-tokens N]}: a chat in
 * the terminal over {@code POST /v1/chat/completions} with {@code "stream": true}, the reply printed
 * as its server-sent events arrive. With a prompt argument, or with standard input that is not a
 * terminal (read whole as one message), it answers once and exits; otherwise it reads messages at a
 * {@code >>> } prompt until end of input or {@code /bye}. With no model the mesh's default chat
 * model answers. The reply goes to standard output, the statistics line to standard error.
 */
final class ChatCommand {

    private static final String HELP = """
            Available commands:
              /clear    forget the conversation so far (the system prompt stays)
              /bye      leave (end of input does the same)
              /?        this help
            A message may span lines between \"\"\" and \"\"\".""";

    private final CliContext ctx;
    private final GatewayClient gateway;
    private final String model;
    private final String system;
    private final Double temperature;
    private final Integer maxTokens;
    private final List<ObjectNode> history = new ArrayList<>();

    private ChatCommand(CliContext ctx, String model, String system, Double temperature, Integer maxTokens) {
        this.ctx = ctx;
        this.gateway = new GatewayClient(ctx);
        this.model = model;
        this.system = system;
        this.temperature = temperature;
        this.maxTokens = maxTokens;
        clear();
    }

    static int run(List<String> args, CliContext ctx) {
        Args a = Args.parse(args, Set.of("--system", "--temperature", "--max-tokens"), Set.of());
        if (a.positional().size() > 2) {
            throw CliException.usage("usage: ./bkg chat [model] [\"a prompt\"] [--system TEXT] [--temperature T]"
                    + " [--max-tokens N] (quote the prompt)");
        }
        Double temperature = a.number("--temperature");
        if (temperature != null && (temperature < 0 || temperature > 2)) {
            throw CliException.usage("--temperature must be within [0, 2]");
        }
        String model = a.positional().isEmpty() ? null : a.positional().get(0);
        String prompt = a.positional().size() < 2 ? null : a.positional().get(1);
        ChatCommand chat = new ChatCommand(ctx, model, a.value("--system"), temperature, a.positiveInt("--max-tokens"));
        if (prompt != null) {
            return chat.once(prompt);
        }
        if (!ctx.inputIsTerminal()) {
            String message;
            try {
                message = new String(ctx.in().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new CliException(1, "cannot read standard input: " + e.getMessage());
            }
            if (message.isBlank()) {
                throw CliException.usage("nothing to send: standard input was empty (give a prompt: ./bkg chat <model> \"...\")");
            }
            return chat.once(message.strip());
        }
        return chat.interactive();
    }

    private int once(String message) {
        history.add(message("user", message));
        turn();
        return 0;
    }

    /** The read-answer loop; refusals that another message cannot cure (409, 401, 403, 404, unreachable) end it. */
    private int interactive() {
        PrintStream out = ctx.out();
        BufferedReader in = new BufferedReader(new InputStreamReader(ctx.in(), StandardCharsets.UTF_8));
        while (true) {
            out.print(">>> ");
            out.flush();
            String line = readMessage(in, out);
            if (line == null) {
                out.println();
                out.flush();
                return 0;
            }
            String command = line.strip();
            if (command.isEmpty()) {
                continue;
            }
            if (command.equals("/bye") || command.equals("/exit")) {
                return 0;
            }
            if (command.equals("/clear")) {
                clear();
                out.println("Cleared session context");
                continue;
            }
            if (command.equals("/?") || command.equals("/help")) {
                out.println(HELP);
                continue;
            }
            if (command.startsWith("/") && !command.contains(" ") && !command.contains("\n")) {
                out.println("Unknown command '" + command + "'. Type /? for help");
                continue;
            }
            history.add(message("user", line));
            try {
                turn();
            } catch (CliException e) {
                history.remove(history.size() - 1);
                int status = e.httpStatus();
                if (e.exitCode() != 1 || status == 401 || status == 403 || status == 404 || status == 409) {
                    throw e;
                }
                ctx.err().println("bkg: " + e.getMessage());
                ctx.err().flush();
            }
            out.println();
        }
    }

    /** A line, or the lines between a pair of {@code """}; null at the end of input. */
    private static String readMessage(BufferedReader in, PrintStream out) {
        try {
            String line = in.readLine();
            if (line == null || !line.strip().startsWith("\"\"\"")) {
                return line;
            }
            StringBuilder text = new StringBuilder(line.strip().substring(3));
            while (!(text.length() > 0 && text.toString().endsWith("\"\"\""))) {
                out.print("... ");
                out.flush();
                String next = in.readLine();
                if (next == null) {
                    break;
                }
                text.append('\n').append(next);
            }
            String message = text.toString();
            return message.endsWith("\"\"\"") ? message.substring(0, message.length() - 3) : message;
        } catch (IOException e) {
            throw new CliException(1, "cannot read standard input: " + e.getMessage());
        }
    }

    private void clear() {
        history.clear();
        if (system != null) {
            history.add(message("system", system));
        }
    }

    private static ObjectNode message(String role, String content) {
        return GatewayClient.JSON.createObjectNode().put("role", role).put("content", content);
    }

    /** Sends the conversation, prints the reply as it streams in, and keeps it in the history. */
    private void turn() {
        ObjectNode body = GatewayClient.JSON.createObjectNode();
        if (model != null) {
            body.put("model", model);
        }
        ArrayNode messages = body.putArray("messages");
        history.forEach(messages::add);
        body.put("stream", true);
        if (temperature != null) {
            body.put("temperature", temperature);
        }
        if (maxTokens != null) {
            body.put("max_tokens", maxTokens);
        }
        HttpResponse<InputStream> response = gateway.stream("POST", "/v1/chat/completions", body, "text/event-stream");
        Reply reply = new Reply(ctx.out());
        // the decoder keeps a character's bytes that arrive in two pieces until it is whole
        try (BufferedReader events = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            StringBuilder data = new StringBuilder();
            String line;
            while (!reply.done && (line = events.readLine()) != null) {
                if (line.isEmpty()) {
                    reply.event(data);
                } else if (line.startsWith("data:")) {
                    String value = line.substring(5);
                    if (data.length() > 0) {
                        data.append('\n');
                    }
                    data.append(value.startsWith(" ") ? value.substring(1) : value);
                }
                // comments (":...") and other fields (event:, id:, retry:) carry nothing here
            }
            if (!reply.done) {
                reply.event(data);
            }
        } catch (IOException e) {
            reply.endLine();
            throw new CliException(1, "the answer broke off: " + e.getMessage());
        }
        reply.endLine();
        if (reply.error != null) {
            throw new CliException(1, reply.error);
        }
        if (!reply.done) {
            throw new CliException(1, "the answer ended before its last event");
        }
        history.add(message("assistant", reply.text.toString()));
        String stats = reply.stats();
        if (stats != null) {
            ctx.err().println(ctx.outputIsTerminal() ? "\033[2m" + stats + "\033[0m" : stats);
            ctx.err().flush();
        }
    }

    /** One streamed reply: its text so far, the last chunk's usage and timings, an error event. */
    private static final class Reply {

        private final PrintStream out;
        final StringBuilder text = new StringBuilder();
        boolean done;
        String error;
        String finishReason;
        JsonNode usage;
        JsonNode timings;

        Reply(PrintStream out) {
            this.out = out;
        }

        void event(StringBuilder data) {
            String payload = data.toString();
            data.setLength(0);
            if (payload.isBlank()) {
                return;
            }
            if (payload.strip().equals("[DONE]")) {
                done = true;
                return;
            }
            JsonNode chunk;
            try {
                chunk = GatewayClient.JSON.readTree(payload);
            } catch (IOException e) {
                return;
            }
            if (chunk.has("error")) {
                JsonNode e = chunk.get("error");
                error = e.isTextual() ? e.asText() : e.path("message").asText(e.toString());
                done = true;
                return;
            }
            JsonNode choice = chunk.path("choices").path(0);
            JsonNode content = choice.path("delta").path("content");
            if (content.isTextual() && !content.asText().isEmpty()) {
                out.print(content.asText());
                out.flush();
                text.append(content.asText());
            }
            if (choice.hasNonNull("finish_reason")) {
                finishReason = choice.get("finish_reason").asText();
            }
            if (chunk.has("usage")) {
                usage = chunk.get("usage");
            }
            if (chunk.has("timings")) {
                timings = chunk.get("timings");
            }
        }

        void endLine() {
            if (text.length() > 0 && text.charAt(text.length() - 1) != '\n') {
                out.println();
            }
            out.flush();
        }

        /** "(12 tokens, 35.2 tokens/s, first token 84 ms)"; null without usage. */
        String stats() {
            if (usage == null && timings == null) {
                return null;
            }
            List<String> parts = new ArrayList<>();
            if (usage != null && usage.has("completion_tokens")) {
                long tokens = usage.get("completion_tokens").asLong();
                parts.add(tokens + (tokens == 1 ? " token" : " tokens"));
            }
            if (timings != null && timings.has("tokens_per_second")) {
                parts.add(String.format(Locale.ROOT, "%.1f tokens/s", timings.get("tokens_per_second").asDouble()));
            }
            if (timings != null && timings.has("time_to_first_token_ms")) {
                parts.add("first token " + timings.get("time_to_first_token_ms").asLong() + " ms");
            }
            String line = "(" + String.join(", ", parts);
            if ("length".equals(finishReason)) {
                line += "; stopped at the token limit";
            }
            return line + ")";
        }
    }
}
