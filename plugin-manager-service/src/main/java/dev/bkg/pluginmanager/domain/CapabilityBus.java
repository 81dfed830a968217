package dev.bkg.pluginmanager.domain;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.bkg.proto.plugin.v1.InvokeRequest;
import dev.bkg.proto.plugin.v1.MutinyPluginGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;

/**
 * The plugin bus: a capability call goes to a running plugin that declares it, over the plugin
 * contract — gRPC {@code bkg.plugin.v1.Plugin/Invoke} or HTTP {@code POST /invoke/{capability}} — at
 * the address its supervisor gives (loopback locally, the plugin's Service in Kubernetes).
 * Unknown capability: NOT_FOUND; provider not running: UNAVAILABLE naming it; the plugin's own
 * client errors keep their code; a capability the plugin does not implement: UNIMPLEMENTED naming it; any
 * other plugin failure: UNKNOWN with the plugin's message.
 */
@ApplicationScoped
public class CapabilityBus {

    static final Duration TIMEOUT = Duration.ofSeconds(120);
    static final int MAX_PAYLOAD_CHARS = 4 * 1024 * 1024;
    /** Payloads up to this size are checked where the call arrives (well under a millisecond). */
    static final int INLINE_CHECK_CHARS = 64 * 1024;

    public record Result(String payloadJson, String pluginId, long durationMs) {
    }

    private final Plugins plugins;
    private final ObjectMapper mapper = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

    CapabilityBus(Plugins plugins) {
        this.plugins = plugins;
    }

    public Uni<Result> invoke(String capability, String payloadJson, String requestId, String principal, String pluginId) {
        List<PluginSupervisor> providers = plugins.providers(capability == null ? "" : capability).stream()
                .filter(p -> pluginId == null || pluginId.isEmpty() || p.spec().id().equals(pluginId)).toList();
        if (providers.isEmpty()) {
            return fail(Status.NOT_FOUND, "no plugin provides capability '" + capability + "'"
                    + (pluginId == null || pluginId.isEmpty() ? "" : " as '" + pluginId + "'"));
        }
        String payload = payloadJson == null || payloadJson.isBlank() ? "{}" : payloadJson;
        if (payload.length() > MAX_PAYLOAD_CHARS) {
            return fail(Status.INVALID_ARGUMENT, "the payload exceeds " + MAX_PAYLOAD_CHARS + " characters");
        }
        if (payload.length() <= INLINE_CHECK_CHARS) {
            String invalid = notJson(payload);
            return invalid != null ? fail(Status.INVALID_ARGUMENT, invalid) : route(providers, capability, payload, requestId, principal);
        }
        // parsing megabytes takes milliseconds: not on the event loop the call came in on
        return Uni.createFrom().item(() -> notJson(payload)).runSubscriptionOn(Infrastructure.getDefaultWorkerPool())
                .chain(invalid -> invalid != null ? fail(Status.INVALID_ARGUMENT, invalid)
                        : route(providers, capability, payload, requestId, principal));
    }

    /** Why the payload is not JSON, or null when it is. */
    private String notJson(String payload) {
        try {
            mapper.readTree(payload);
            return null;
        } catch (JsonProcessingException e) {
            return "the payload is not JSON: " + e.getOriginalMessage();
        }
    }

    private Uni<Result> route(List<PluginSupervisor> providers, String capability, String payload, String requestId,
            String principal) {
        PluginSupervisor provider = providers.stream().filter(p -> p.status().state() == PluginState.RUNNING).findFirst()
                .orElse(null);
        if (provider == null) {
            PluginSupervisor first = providers.get(0);
            PluginStatus status = first.status();
            return fail(Status.UNAVAILABLE, "capability '" + capability + "' is provided by plugin '" + first.spec().id()
                    + "', which is " + status.state() + (first.available() ? "" : " (" + first.unavailableReason() + ")")
                    + "; start it first");
        }
        long started = System.nanoTime();
        PluginSpec spec = provider.spec();
        String host = provider.host();
        Uni<String> reply = spec.transport() == PluginSpec.Transport.GRPC
                ? viaGrpc(spec, host, capability, payload, requestId, principal)
                : viaHttp(spec, host, capability, payload, requestId, principal);
        return reply.map(json -> new Result(json, spec.id(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)));
    }

    private Uni<String> viaGrpc(PluginSpec spec, String host, String capability, String payload, String requestId,
            String principal) {
        // keyed by address too: a Kubernetes plugin's Service may be renamed while the manager runs
        ManagedChannel channel = channels.computeIfAbsent(spec.id() + "@" + host + ":" + spec.port(),
                key -> ManagedChannelBuilder.forAddress(host, spec.port()).usePlaintext().build());
        InvokeRequest request = InvokeRequest.newBuilder().setCapability(capability).setPayloadJson(payload)
                .setRequestId(requestId == null ? "" : requestId).setPrincipal(principal == null ? "" : principal).build();
        return MutinyPluginGrpc.newMutinyStub(channel).withDeadlineAfter(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .invoke(request).map(r -> r.getPayloadJson())
                .onFailure(StatusRuntimeException.class).transform(e -> fromPlugin(spec.id(), capability, Status.fromThrowable(e)));
    }

    private Uni<String> viaHttp(PluginSpec spec, String host, String capability, String payload, String requestId,
            String principal) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + host + ":" + spec.port() + "/invoke/" + capability))
                .timeout(TIMEOUT).header("content-type", "application/json")
                .header("x-request-id", requestId == null ? "" : requestId)
                .header("x-bkg-principal", principal == null ? "" : principal)
                .POST(HttpRequest.BodyPublishers.ofString(payload)).build();
        return Uni.createFrom().completionStage(() -> http.sendAsync(request, HttpResponse.BodyHandlers.ofString()))
                .onFailure().transform(e -> Status.UNAVAILABLE.withDescription("plugin '" + spec.id()
                        + "' did not answer: " + e.getClass().getSimpleName()).asRuntimeException())
                .map(response -> {
                    if (response.statusCode() / 100 == 2) {
                        return response.body();
                    }
                    throw fromPlugin(spec.id(), capability, httpStatus(response.statusCode()).withDescription(errorText(response.body())));
                });
    }

    /** The plugin's client errors keep their meaning (and its words, after its name); anything else is the plugin failing. */
    private static StatusRuntimeException fromPlugin(String pluginId, String capability, Status status) {
        String detail = status.getDescription() == null ? status.getCode().name() : status.getDescription();
        return switch (status.getCode()) {
            // declared but not served (yet): the caller learns which capability, not that the plugin broke
            case UNIMPLEMENTED -> Status.UNIMPLEMENTED.withDescription("plugin '" + pluginId + "' does not implement '"
                    + capability + "': " + detail).asRuntimeException();
            case INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, FAILED_PRECONDITION, UNAUTHENTICATED, RESOURCE_EXHAUSTED ->
                status.withDescription("plugin '" + pluginId + "': " + detail).asRuntimeException();
            case UNAVAILABLE -> Status.UNAVAILABLE.withDescription("plugin '" + pluginId + "' is not reachable: " + detail)
                    .asRuntimeException();
            case DEADLINE_EXCEEDED -> Status.DEADLINE_EXCEEDED.withDescription("plugin '" + pluginId + "' did not answer within "
                    + TIMEOUT.toSeconds() + " s").asRuntimeException();
            default -> Status.UNKNOWN.withDescription("plugin '" + pluginId + "' failed: " + detail).asRuntimeException();
        };
    }

    private static Status httpStatus(int code) {
        return switch (code) {
            case 400, 413, 422 -> Status.INVALID_ARGUMENT;
            case 401 -> Status.UNAUTHENTICATED;
            case 403 -> Status.PERMISSION_DENIED;
            case 404 -> Status.NOT_FOUND;
            case 409 -> Status.FAILED_PRECONDITION;
            case 429 -> Status.RESOURCE_EXHAUSTED;
            case 501 -> Status.UNIMPLEMENTED;
            default -> Status.UNKNOWN;
        };
    }

    private String errorText(String body) {
        try {
            JsonNode node = mapper.readTree(body);
            for (String field : List.of("error", "detail", "message", "title")) {
                if (node != null && node.path(field).isTextual()) {
                    return node.get(field).asText();
                }
            }
        } catch (JsonProcessingException e) {
            // not JSON: the text itself
        }
        return body == null ? "" : body.length() > 500 ? body.substring(0, 500) : body;
    }

    private static <T> Uni<T> fail(Status status, String description) {
        return Uni.createFrom().failure(status.withDescription(description).asRuntimeException());
    }

    @PreDestroy
    void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
