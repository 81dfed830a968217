package dev.bkg.launcher.cli;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code ./bkg keys create <name> [--scopes a,b] [--expires-days N]}, {@code keys list [--all]},
 * {@code keys revoke <id>}: API keys through {@code /api/auth/keys}. {@code create} prints the key
 * alone on standard output (so that {@code KEY=$(./bkg keys create ci)} works) and the rest on
 * standard error: the key is shown this once.
 */
final class KeysCommand {

    /** What a key for chatting and looking at models needs, when --scopes is not given. */
    static final List<String> DEFAULT_SCOPES = List.of("inference", "models:read");
    static final String USAGE = "usage: ./bkg keys create <name> [--scopes a,b] [--expires-days N] | keys list [--all]"
            + " | keys revoke <id>";

    private KeysCommand() {
    }

    static int run(List<String> args, CliContext ctx) {
        if (args.isEmpty()) {
            throw CliException.usage(USAGE);
        }
        List<String> rest = args.subList(1, args.size());
        return switch (args.get(0)) {
            case "create" -> create(rest, ctx);
            case "list", "ls" -> list(rest, ctx);
            case "revoke", "rm" -> revoke(rest, ctx);
            default -> throw CliException.usage(USAGE);
        };
    }

    private static int create(List<String> args, CliContext ctx) {
        Args a = Args.parse(args, Set.of("--scopes", "--expires-days"), Set.of());
        if (a.positional().size() != 1) {
            throw CliException.usage("usage: ./bkg keys create <name> [--scopes a,b] [--expires-days N]");
        }
        List<String> scopes = a.value("--scopes") == null ? DEFAULT_SCOPES
                : Arrays.stream(a.value("--scopes").split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
        if (scopes.isEmpty()) {
            throw CliException.usage("--scopes names at least one scope");
        }
        ObjectNode body = GatewayClient.JSON.createObjectNode().put("name", a.positional().get(0));
        ArrayNode list = body.putArray("scopes");
        scopes.forEach(list::add);
        Integer days = a.positiveInt("--expires-days");
        if (days != null) {
            body.put("expiresAt", Instant.now().plus(Duration.ofDays(days)).truncatedTo(ChronoUnit.SECONDS).toString());
        }
        JsonNode created = new GatewayClient(ctx).call("POST", "/api/auth/keys", body);
        JsonNode info = created.path("info");
        String key = created.path("key").asText("");
        if (key.isEmpty()) {
            throw new CliException(1, "the answer carries no key: " + created);
        }
        ctx.err().println("created key " + created.path("id").asText("?") + " \"" + info.path("name").asText(a.positional().get(0))
                + "\" (scopes " + String.join(", ", texts(info.path("scopes"))) + "; expires "
                + Human.dateTime(info.path("expiresAt").asText(null), "never") + ")");
        ctx.err().flush();
        ctx.out().println(key);
        ctx.out().flush();
        ctx.err().println("This key is shown only once: keep it now. Use it as BKG_API_KEY=... or the header x-api-key.");
        ctx.err().flush();
        return 0;
    }

    private static int list(List<String> args, CliContext ctx) {
        Args a = Args.parse(args, Set.of(), Set.of("--all"));
        if (!a.positional().isEmpty()) {
            throw CliException.usage("usage: ./bkg keys list [--all]");
        }
        JsonNode keys = new GatewayClient(ctx).get("/api/auth/keys" + (a.flag("--all") ? "?all=true" : ""));
        Instant now = Instant.now();
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode k : keys.isArray() ? keys : keys.path("keys")) {
            String expiresAt = k.path("expiresAt").asText(null);
            String state = k.path("revoked").asBoolean(false) ? "revoked"
                    : expired(expiresAt, now) ? "expired" : "active";
            rows.add(List.of(
                    k.path("id").asText(""),
                    k.path("name").asText(""),
                    k.path("prefix").asText(""),
                    String.join(",", texts(k.path("scopes"))),
                    k.path("owner").asText(""),
                    Human.dateTime(k.path("created").asText(null), "-"),
                    Human.dateTime(expiresAt, "never"),
                    Human.dateTime(k.path("lastUsed").asText(null), "never"),
                    state));
        }
        Human.table(ctx.out(), List.of("ID", "NAME", "PREFIX", "SCOPES", "OWNER", "CREATED", "EXPIRES", "LAST USED", "STATE"), rows);
        return 0;
    }

    private static int revoke(List<String> args, CliContext ctx) {
        Args a = Args.parse(args, Set.of(), Set.of());
        if (a.positional().size() != 1) {
            throw CliException.usage("usage: ./bkg keys revoke <id>");
        }
        String id = a.positional().get(0);
        JsonNode key = new GatewayClient(ctx).call("DELETE",
                "/api/auth/keys/" + URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20"), null);
        ctx.out().println("revoked key " + key.path("id").asText(id)
                + (key.hasNonNull("name") ? " \"" + key.get("name").asText() + "\"" : ""));
        return 0;
    }

    private static boolean expired(String expiresAt, Instant now) {
        try {
            return expiresAt != null && Instant.parse(expiresAt).isBefore(now);
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
