package dev.bkg.pluginmanager.domain;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;

import dev.bkg.pluginmanager.domain.PluginSpec.RestartPolicy;
import dev.bkg.pluginmanager.domain.PluginSpec.Transport;

/**
 * Reads plugins.json (the seed's format — name, description, entrypoint, autostart, capabilities,
 * healthcheck — plus port, portEnv, transport, env, restart, stopGraceSeconds,
 * startTimeoutSeconds, configSchema). A bad entry is reported by plugin name and field and left
 * out; the others load. {@code ${VAR}} and {@code ${VAR:-default}} in entrypoint and env values
 * come from the manager's environment.
 */
public final class RegistryLoader {

    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,39}");
    private static final Pattern CAPABILITY = Pattern.compile("[a-z][a-zA-Z0-9]*(\\.[a-zA-Z][a-zA-Z0-9]*)+");
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?}");
    private static final Set<String> FIELDS = Set.of("name", "description", "entrypoint", "autostart", "capabilities",
            "healthcheck", "port", "portEnv", "transport", "env", "restart", "stopGraceSeconds",
            "startTimeoutSeconds", "configSchema");

    public record Result(List<PluginSpec> plugins, List<String> errors) {
    }

    private final Function<String, String> environment;
    private final Path workdir;
    private final ObjectMapper json = new ObjectMapper();

    public RegistryLoader(Function<String, String> environment, Path workdir) {
        this.environment = environment;
        this.workdir = workdir;
    }

    public Result load(Path file) {
        JsonNode root;
        try {
            root = json.readTree(Files.readString(file));
        } catch (IOException e) {
            return new Result(List.of(), List.of(file + ": cannot be read as JSON: " + e.getMessage()));
        }
        JsonNode entries = root != null && root.isObject() ? root.get("plugins") : root;
        if (entries == null || !entries.isArray()) {
            return new Result(List.of(), List.of(file + ": expected {\"plugins\": [...]} or an array of plugins"));
        }
        List<PluginSpec> plugins = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        Set<String> names = new HashSet<>();
        int index = 0;
        for (JsonNode entry : entries) {
            String label = entry.path("name").isTextual() ? "plugin '" + entry.get("name").asText() + "'" : "plugin #" + index;
            try {
                PluginSpec spec = parse(entry);
                if (!names.add(spec.id())) {
                    throw new InvalidEntry("name", "is declared twice");
                }
                plugins.add(spec);
            } catch (InvalidEntry e) {
                errors.add(label + ": field '" + e.field + "' " + e.getMessage());
            }
            index++;
        }
        return new Result(plugins, errors);
    }

    private PluginSpec parse(JsonNode entry) {
        if (!entry.isObject()) {
            throw new InvalidEntry("(entry)", "must be an object");
        }
        for (Iterator<String> it = entry.fieldNames(); it.hasNext();) {
            String field = it.next();
            if (!FIELDS.contains(field)) {
                throw new InvalidEntry(field, "is not a known field (known: " + String.join(", ", FIELDS.stream().sorted().toList()) + ")");
            }
        }
        String name = text(entry, "name", true);
        if (!NAME.matcher(name).matches()) {
            throw new InvalidEntry("name", "must be lower-case letters, digits and '-', starting with a letter (at most 40)");
        }
        String entrypoint = text(entry, "entrypoint", true);
        List<String> capabilities = new ArrayList<>();
        JsonNode caps = entry.path("capabilities");
        if (!caps.isMissingNode()) {
            if (!caps.isArray()) {
                throw new InvalidEntry("capabilities", "must be an array of names like \"repo.analyze\"");
            }
            for (JsonNode cap : caps) {
                if (!cap.isTextual() || !CAPABILITY.matcher(cap.asText()).matches()) {
                    throw new InvalidEntry("capabilities", "has " + cap + ", not a name like \"repo.analyze\"");
                }
                capabilities.add(cap.asText());
            }
        }
        JsonNode health = entry.path("healthcheck");
        String healthPath = health.isMissingNode() ? "/health" : text(health, "path", true, "healthcheck.path");
        if (!healthPath.startsWith("/")) {
            throw new InvalidEntry("healthcheck.path", "must start with '/'");
        }
        int interval = integer(health, "intervalSeconds", 10, 1, 3600, "healthcheck.intervalSeconds");
        int port = integer(entry, "port", -1, 1, 65535, "port");
        if (port < 0) {
            throw new InvalidEntry("port", "is required (1–65535)");
        }
        String portEnv = entry.has("portEnv") ? text(entry, "portEnv", true) : null;
        if (portEnv != null && environment.apply(portEnv) != null) {
            try {
                port = Integer.parseInt(environment.apply(portEnv).trim());
            } catch (NumberFormatException e) {
                throw new InvalidEntry("portEnv", "names " + portEnv + ", which is not a port number");
            }
        }
        Transport transport;
        String transportText = entry.has("transport") ? text(entry, "transport", true) : "http";
        try {
            transport = Transport.valueOf(transportText.toUpperCase());
        } catch (IllegalArgumentException e) {
            throw new InvalidEntry("transport", "must be \"grpc\" or \"http\"");
        }
        Map<String, String> env = new LinkedHashMap<>();
        JsonNode envNode = entry.path("env");
        if (!envNode.isMissingNode()) {
            if (!envNode.isObject()) {
                throw new InvalidEntry("env", "must be an object of strings");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = envNode.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isValueNode()) {
                    throw new InvalidEntry("env." + e.getKey(), "must be a string");
                }
                String value = interpolate(e.getValue().asText());
                if (!value.isEmpty()) { // an unset ${VAR} leaves the variable out
                    env.put(e.getKey(), value);
                }
            }
        }
        JsonNode restartNode = entry.path("restart");
        int maxRestarts = integer(restartNode, "maxRestarts", 5, 0, 1000, "restart.maxRestarts");
        int base = integer(restartNode, "backoffBaseMs", 10_000, 1, 3_600_000, "restart.backoffBaseMs");
        int cap = integer(restartNode, "backoffCapMs", 300_000, 1, 86_400_000, "restart.backoffCapMs");
        if (cap < base) {
            throw new InvalidEntry("restart.backoffCapMs", "must not be below restart.backoffBaseMs");
        }
        Duration grace = seconds(entry, "stopGraceSeconds", 10);
        Duration startTimeout = seconds(entry, "startTimeoutSeconds", 60);
        JsonNode schema = entry.get("configSchema");
        if (schema != null) {
            if (!schema.isObject()) {
                throw new InvalidEntry("configSchema", "must be a JSON Schema object");
            }
            try {
                JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(schema);
            } catch (RuntimeException e) {
                throw new InvalidEntry("configSchema", "is not a valid JSON Schema: " + e.getMessage());
            }
        }
        List<String> command = List.of(interpolate(entrypoint).trim().split("\\s+"));
        if (command.get(0).equals("java")) { // plugins in Java run on the manager's own JVM
            command = new ArrayList<>(command);
            command.set(0, ProcessHandle.current().info().command().orElse("java"));
        }
        String unavailable = unavailableReason(command);
        return new PluginSpec(name, entry.path("description").asText(""), entrypoint, List.copyOf(command), workdir,
                entry.path("autostart").asBoolean(false), List.copyOf(capabilities), healthPath,
                Duration.ofSeconds(interval), port, transport, Map.copyOf(env),
                new RestartPolicy(maxRestarts, Duration.ofMillis(base), Duration.ofMillis(cap)), grace, startTimeout,
                schema, unavailable == null, unavailable == null ? "" : unavailable);
    }

    /** Why the command cannot run here (its program or one of its files is missing), or null. */
    private String unavailableReason(List<String> command) {
        String program = command.get(0);
        if (program.contains("/")) {
            Path path = workdir.resolve(program);
            if (!Files.isRegularFile(path)) {
                return program + " does not exist";
            }
            if (!Files.isExecutable(path)) {
                return program + " is not executable";
            }
        } else if (!onPath(program)) {
            return program + " is not installed (not found on PATH)";
        }
        for (String arg : command.subList(1, command.size())) {
            if (!arg.startsWith("-") && (arg.endsWith(".jar") || arg.endsWith(".py") || arg.endsWith(".js"))
                    && !Files.isRegularFile(workdir.resolve(arg))) {
                return arg + " does not exist" + (arg.endsWith(".jar") ? " (build it: ./mvnw install -DskipTests)" : "");
            }
        }
        return null;
    }

    private boolean onPath(String program) {
        String path = environment.apply("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    String interpolate(String value) {
        Matcher m = VARIABLE.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String v = environment.apply(m.group(1));
            if (v == null || v.isEmpty()) {
                v = m.group(3) == null ? "" : m.group(3);
            }
            m.appendReplacement(out, Matcher.quoteReplacement(v));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String text(JsonNode node, String field, boolean required) {
        return text(node, field, required, field);
    }

    private static String text(JsonNode node, String field, boolean required, String label) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            if (required) {
                throw new InvalidEntry(label, "is required");
            }
            return null;
        }
        if (!value.isTextual() || value.asText().isBlank()) {
            throw new InvalidEntry(label, "must be a non-empty string");
        }
        return value.asText();
    }

    private static int integer(JsonNode node, String field, int fallback, int min, int max, String label) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return fallback;
        }
        if (!value.canConvertToInt() || !value.isIntegralNumber() || value.asInt() < min || value.asInt() > max) {
            throw new InvalidEntry(label, "must be an integer from " + min + " to " + max);
        }
        return value.asInt();
    }

    private static Duration seconds(JsonNode node, String field, double fallback) {
        JsonNode value = node.get(field);
        double seconds = value == null || value.isNull() ? fallback : value.isNumber() ? value.asDouble() : -1;
        if (seconds < 0 || seconds > 3600) {
            throw new InvalidEntry(field, "must be a number of seconds from 0 to 3600");
        }
        return Duration.ofMillis(Math.round(seconds * 1000));
    }

    static final class InvalidEntry extends RuntimeException {
        final String field;

        InvalidEntry(String field, String message) {
            super(message, null, false, false);
            this.field = field;
        }
    }
}
