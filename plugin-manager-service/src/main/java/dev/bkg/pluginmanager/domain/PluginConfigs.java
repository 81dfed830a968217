package dev.bkg.pluginmanager.domain;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;

import org.hibernate.exception.ConstraintViolationException;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;

import dev.bkg.pluginmanager.store.PluginConfigVersion;
import io.grpc.Status;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.smallrye.mutiny.Uni;

/**
 * Plugin configs: validated against the plugin's JSON Schema, stored as numbered versions in
 * PostgreSQL, kept in memory for the supervisors, and handed to the plugin process at start as
 * {@code BKG_PLUGIN_CONFIG} (the whole JSON) plus one variable per top-level property whose schema
 * names one with {@code "x-env"}.
 */
@ApplicationScoped
public class PluginConfigs {

    public record Config(String pluginId, String json, int version, Instant updatedAt, String updatedBy) {
    }

    public record FieldError(String field, String message) {
    }

    private final ObjectMapper mapper = new ObjectMapper();
    private final Map<String, Config> current = new ConcurrentHashMap<>();

    /** Loads the current version of every plugin's config (at boot). */
    public Uni<Void> load() {
        return Panache.withSession(PluginConfigVersion::currentOfEach).invoke(rows -> rows.forEach(row -> current
                .put(row.pluginId, new Config(row.pluginId, row.configJson, row.version, row.updatedAt, row.updatedBy))))
                .replaceWithVoid();
    }

    /** The current config; version 0 with the schema's defaults when none was ever set. */
    public Config current(PluginSpec spec) {
        Config config = current.get(spec.id());
        return config != null ? config : new Config(spec.id(), defaults(spec).toString(), 0, null, "");
    }

    public List<FieldError> validate(PluginSpec spec, String json) {
        JsonNode node;
        try {
            node = mapper.readTree(json);
        } catch (JsonProcessingException e) {
            return List.of(new FieldError("", "not JSON: " + e.getOriginalMessage()));
        }
        if (node == null || !node.isObject()) {
            return List.of(new FieldError("", "the config must be a JSON object"));
        }
        if (spec.configSchema() == null) {
            return node.isEmpty() ? List.of() : List.of(new FieldError("", "plugin '" + spec.id() + "' takes no config"));
        }
        JsonSchema schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(spec.configSchema());
        List<FieldError> errors = new ArrayList<>();
        for (ValidationMessage m : schema.validate(node)) {
            String pointer = m.getInstanceLocation() == null ? "" : m.getInstanceLocation().toString();
            errors.add(new FieldError(toPointer(pointer, m), m.getMessage()));
        }
        return errors;
    }

    /** Stores a valid config as the next version; ABORTED when {@code expectedVersion} is stale. */
    public Uni<Config> store(PluginSpec spec, String json, int expectedVersion, String updatedBy) {
        String normalised;
        try {
            normalised = mapper.writeValueAsString(mapper.readTree(json));
        } catch (JsonProcessingException e) {
            return Uni.createFrom().failure(Status.INVALID_ARGUMENT.withDescription("not JSON").asRuntimeException());
        }
        return Panache.withTransaction(() -> PluginConfigVersion.newestFirst(spec.id(), 1).flatMap(rows -> {
            int latest = rows.isEmpty() ? 0 : rows.get(0).version;
            if (expectedVersion > 0 && expectedVersion != latest) {
                return Uni.createFrom().failure(Status.ABORTED.withDescription("the config is at version " + latest
                        + ", not " + expectedVersion + ": reload it and try again").asRuntimeException());
            }
            PluginConfigVersion row = new PluginConfigVersion();
            row.pluginId = spec.id();
            row.version = latest + 1;
            row.configJson = normalised;
            row.updatedAt = Instant.now();
            row.updatedBy = updatedBy == null || updatedBy.isBlank() ? "unknown" : updatedBy;
            return row.persist().replaceWith(row);
        })).onFailure(ConstraintViolationException.class).transform(e -> Status.ABORTED
                .withDescription("the config was changed concurrently: reload it and try again").asRuntimeException())
                .map(row -> {
                    Config config = new Config(row.pluginId, row.configJson, row.version, row.updatedAt, row.updatedBy);
                    current.put(spec.id(), config);
                    return config;
                });
    }

    public Uni<List<Config>> history(String pluginId, int limit) {
        return Panache.withSession(() -> PluginConfigVersion.newestFirst(pluginId, limit)).map(rows -> rows.stream()
                .map(r -> new Config(r.pluginId, r.configJson, r.version, r.updatedAt, r.updatedBy)).toList());
    }

    /** What the plugin process gets from its config. */
    public Map<String, String> environment(PluginSpec spec) {
        Map<String, String> env = new LinkedHashMap<>();
        String json = current(spec).json();
        env.put("BKG_PLUGIN_CONFIG", json);
        if (spec.configSchema() == null) {
            return env;
        }
        try {
            JsonNode config = mapper.readTree(json);
            JsonNode properties = spec.configSchema().path("properties");
            for (Iterator<Map.Entry<String, JsonNode>> it = properties.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> property = it.next();
                JsonNode value = config.get(property.getKey());
                String variable = property.getValue().path("x-env").asText("");
                if (!variable.isEmpty() && value != null && !value.isNull()) {
                    env.put(variable, value.isValueNode() ? value.asText() : value.toString());
                }
            }
        } catch (JsonProcessingException e) {
            // stored configs are normalised JSON; nothing to map otherwise
        }
        return env;
    }

    private ObjectNode defaults(PluginSpec spec) {
        ObjectNode config = mapper.createObjectNode();
        if (spec.configSchema() != null) {
            spec.configSchema().path("properties").fields().forEachRemaining(p -> {
                if (p.getValue().has("default")) {
                    config.set(p.getKey(), p.getValue().get("default"));
                }
            });
        }
        return config;
    }

    /** "$.threads" → "/threads"; a missing required property points at where it is missing. */
    private static String toPointer(String path, ValidationMessage m) {
        String pointer = path.replaceFirst("^\\$", "").replaceAll("\\.([^.\\[]+)", "/$1").replaceAll("\\[(\\d+)]", "/$1");
        if ("required".equals(m.getType()) && m.getProperty() != null) {
            pointer = pointer + "/" + m.getProperty();
        }
        return pointer;
    }
}
