package dev.bkg.pluginmanager.grpc;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

import dev.bkg.pluginmanager.domain.CapabilityBus;
import dev.bkg.pluginmanager.domain.PluginConfigs;
import dev.bkg.pluginmanager.domain.PluginLog;
import dev.bkg.pluginmanager.domain.PluginSpec;
import dev.bkg.pluginmanager.domain.PluginStatus;
import dev.bkg.pluginmanager.domain.PluginSupervisor;
import dev.bkg.pluginmanager.domain.Plugins;
import dev.bkg.pluginmanager.domain.StatusEvents;
import dev.bkg.proto.pluginmanager.v1.*;
import io.grpc.Status;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;

/** The bkg.pluginmanager.v1.PluginManager contract over the domain: mapping only. */
@GrpcService
public class PluginManagerGrpcService extends MutinyPluginManagerGrpc.PluginManagerImplBase {

    static final int DEFAULT_LOG_PAGE = 500;
    static final int MAX_LOG_PAGE = 5000;

    private final Plugins plugins;
    private final PluginConfigs configs;
    private final CapabilityBus bus;
    private final StatusEvents events;

    PluginManagerGrpcService(Plugins plugins, PluginConfigs configs, CapabilityBus bus, StatusEvents events) {
        this.plugins = plugins;
        this.configs = configs;
        this.bus = bus;
        this.events = events;
    }

    @Override
    public Uni<ListPluginsResponse> listPlugins(ListPluginsRequest request) {
        ListPluginsResponse.Builder reply = ListPluginsResponse.newBuilder().addAllRegistryErrors(plugins.registryErrors());
        plugins.all().forEach(p -> reply.addPlugins(info(p, plugins.autostarts())));
        return Uni.createFrom().item(reply.build());
    }

    @Override
    public Uni<GetPluginResponse> getPlugin(GetPluginRequest request) {
        return plugin(request.getPluginId()).map(p -> GetPluginResponse.newBuilder().setPlugin(info(p, plugins.autostarts())).build());
    }

    @Override
    public Uni<GetStatusResponse> getStatus(GetStatusRequest request) {
        return plugin(request.getPluginId()).map(p -> GetStatusResponse.newBuilder().setStatus(status(p.status())).build());
    }

    @Override
    public Uni<StartPluginResponse> startPlugin(StartPluginRequest request) {
        return lifecycle(request.getPluginId(), request.getWait(), p -> {
            if (!p.available()) {
                throw Status.FAILED_PRECONDITION.withDescription("plugin '" + p.spec().id() + "' is not available: "
                        + p.unavailableReason()).asRuntimeException();
            }
            return p.start();
        }).map(s -> StartPluginResponse.newBuilder().setStatus(s).build());
    }

    @Override
    public Uni<StopPluginResponse> stopPlugin(StopPluginRequest request) {
        return lifecycle(request.getPluginId(), request.getWait(), p -> p.stop(request.getForce()))
                .map(s -> StopPluginResponse.newBuilder().setStatus(s).build());
    }

    @Override
    public Uni<RestartPluginResponse> restartPlugin(RestartPluginRequest request) {
        return lifecycle(request.getPluginId(), request.getWait(), p -> {
            if (!p.available()) {
                throw Status.FAILED_PRECONDITION.withDescription("plugin '" + p.spec().id() + "' is not available: "
                        + p.unavailableReason()).asRuntimeException();
            }
            return p.restart();
        }).map(s -> RestartPluginResponse.newBuilder().setStatus(s).build());
    }

    /** Process control blocks briefly (signals, spawning): a worker thread, never the event loop. */
    private Uni<dev.bkg.proto.pluginmanager.v1.PluginStatus> lifecycle(String id, boolean wait,
            java.util.function.Function<PluginSupervisor, CompletableFuture<PluginStatus>> action) {
        return plugin(id).emitOn(Infrastructure.getDefaultWorkerPool()).flatMap(p -> {
            CompletableFuture<PluginStatus> done = action.apply(p);
            if (!wait) {
                return Uni.createFrom().item(status(p.status()));
            }
            return Uni.createFrom().completionStage(done).map(PluginManagerGrpcService::status)
                    .onFailure(CompletionException.class).transform(Throwable::getCause);
        });
    }

    @Override
    public Uni<GetConfigResponse> getConfig(GetConfigRequest request) {
        return plugin(request.getPluginId())
                .map(p -> GetConfigResponse.newBuilder().setConfig(config(configs.current(p.spec()))).build());
    }

    @Override
    public Uni<SetConfigResponse> setConfig(SetConfigRequest request) {
        return plugin(request.getPluginId()).flatMap(p -> {
            List<PluginConfigs.FieldError> errors = configs.validate(p.spec(), request.getConfigJson());
            if (!errors.isEmpty()) {
                SetConfigResponse.Builder rejected = SetConfigResponse.newBuilder().setAccepted(false)
                        .setConfig(config(configs.current(p.spec())));
                errors.forEach(e -> rejected.addErrors(FieldError.newBuilder().setField(e.field()).setMessage(e.message())));
                return Uni.createFrom().item(rejected.build());
            }
            return configs.store(p.spec(), request.getConfigJson(), request.getExpectedVersion(), request.getUpdatedBy())
                    .emitOn(Infrastructure.getDefaultWorkerPool()).map(stored -> {
                        boolean running = p.status().state().processAlive();
                        if (running) {
                            p.restart(); // applied by a restart; the status stream shows its progress
                        }
                        return SetConfigResponse.newBuilder().setAccepted(true).setConfig(config(stored))
                                .setApplied(running ? SetConfigResponse.Applied.RESTARTED : SetConfigResponse.Applied.NEXT_START)
                                .build();
                    });
        });
    }

    @Override
    public Uni<GetConfigHistoryResponse> getConfigHistory(GetConfigHistoryRequest request) {
        int limit = request.getLimit() <= 0 ? 20 : Math.min(request.getLimit(), 200);
        return plugin(request.getPluginId()).flatMap(p -> configs.history(p.spec().id(), limit)).map(versions -> {
            GetConfigHistoryResponse.Builder reply = GetConfigHistoryResponse.newBuilder();
            versions.forEach(v -> reply.addVersions(config(v)));
            return reply.build();
        });
    }

    @Override
    public Uni<ListCapabilitiesResponse> listCapabilities(ListCapabilitiesRequest request) {
        Supplier<ListCapabilitiesResponse> list = () -> {
            ListCapabilitiesResponse.Builder reply = ListCapabilitiesResponse.newBuilder();
            for (PluginSupervisor p : plugins.all()) {
                if (!request.getPluginId().isEmpty() && !request.getPluginId().equals(p.spec().id())) {
                    continue;
                }
                for (String capability : p.spec().capabilities()) {
                    reply.addCapabilities(CapabilityInfo.newBuilder().setCapability(capability).setPluginId(p.spec().id())
                            .setDescription(p.spec().description()).setAvailable(p.available())
                            .setPluginState(state(p.status().state())));
                }
            }
            return reply.build();
        };
        if (!request.getPluginId().isEmpty()) {
            return plugin(request.getPluginId()).map(p -> list.get());
        }
        return Uni.createFrom().item(list);
    }

    @Override
    public Uni<InvokeCapabilityResponse> invokeCapability(InvokeCapabilityRequest request) {
        return bus.invoke(request.getCapability(), request.getPayloadJson(), request.getRequestId(), request.getPrincipal(),
                request.getPluginId()).map(r -> InvokeCapabilityResponse.newBuilder().setPayloadJson(r.payloadJson())
                        .setPluginId(r.pluginId()).setDurationMs(r.durationMs()).build());
    }

    @Override
    public Uni<GetLogsResponse> getLogs(GetLogsRequest request) {
        int limit = request.getLimit() <= 0 ? DEFAULT_LOG_PAGE : Math.min(request.getLimit(), MAX_LOG_PAGE);
        long after;
        try {
            after = request.getPageToken().isEmpty() ? 0 : Long.parseLong(request.getPageToken());
        } catch (NumberFormatException e) {
            return Uni.createFrom().failure(Status.INVALID_ARGUMENT.withDescription("page_token is not one this service gave")
                    .asRuntimeException());
        }
        return plugin(request.getPluginId()).map(p -> {
            PluginLog.Page page = p.log().page(after, request.getSinceEpochMs(), limit);
            GetLogsResponse.Builder reply = GetLogsResponse.newBuilder().setDropped(page.dropped());
            page.lines().forEach(l -> reply.addLines(line(p.spec().id(), l)));
            if (page.more()) {
                reply.setNextPageToken(String.valueOf(page.lines().get(page.lines().size() - 1).seq()));
            }
            return reply.build();
        });
    }

    @Override
    public Multi<LogLine> streamLogs(StreamLogsRequest request) {
        int tail = Math.max(0, Math.min(request.getTail(), MAX_LOG_PAGE));
        return plugin(request.getPluginId()).onItem().transformToMulti(p -> p.log()
                .follow(tail, request.getAfterSeq()).map(l -> line(p.spec().id(), l)));
    }

    @Override
    public Multi<StatusEvent> streamStatus(StreamStatusRequest request) {
        String id = request.getPluginId();
        Uni<List<PluginSupervisor>> watched = id.isEmpty() ? Uni.createFrom().item(List.copyOf(plugins.all()))
                : plugin(id).map(List::of);
        return watched.onItem().transformToMulti(list -> {
            // subscribe to changes before reading the current states, so that no change falls in between
            Multi<StatusEvent> changes = events.changes().select().where(c -> id.isEmpty() || c.status().pluginId().equals(id))
                    .map(c -> StatusEvent.newBuilder().setStatus(status(c.status())).setPreviousState(state(c.previous()))
                            .setTimestampEpochMs(c.timestampMs()).build());
            Multi<StatusEvent> current = Multi.createFrom().iterable(list).map(p -> StatusEvent.newBuilder()
                    .setStatus(status(p.status())).setTimestampEpochMs(System.currentTimeMillis()).build());
            return Multi.createBy().merging().streams(current, changes);
        });
    }

    private Uni<PluginSupervisor> plugin(String id) {
        return plugins.find(id).map(p -> Uni.createFrom().item(p)).orElseGet(() -> Uni.createFrom()
                .failure(Status.NOT_FOUND.withDescription("no plugin '" + id + "'").asRuntimeException()));
    }

    /** {@code autostarts}: whether this plugin manager starts autostart plugins at all (bkg.plugins.autostart). */
    static PluginInfo info(PluginSupervisor p, boolean autostarts) {
        PluginSpec s = p.spec();
        return PluginInfo.newBuilder().setId(s.id()).setName(s.id()).setDescription(s.description())
                .setEntrypoint(s.entrypoint()).setAutostart(s.autostart() && autostarts).addAllCapabilities(s.capabilities())
                .setHealthcheck(Healthcheck.newBuilder().setPath(s.healthPath())
                        .setIntervalSeconds((int) s.healthInterval().toSeconds()))
                .setPort(s.port()).setTransport(s.transport() == PluginSpec.Transport.GRPC ? Transport.GRPC : Transport.HTTP)
                .setRestartPolicy(RestartPolicy.newBuilder().setMaxRestarts(s.restart().maxRestarts())
                        .setBackoffBaseMs(s.restart().backoffBase().toMillis())
                        .setBackoffCapMs(s.restart().backoffCap().toMillis()))
                .setStopGraceMs(s.stopGrace().toMillis())
                .setConfigSchemaJson(s.configSchema() == null ? "" : s.configSchema().toString())
                .setAvailable(p.available()).setUnavailableReason(p.unavailableReason())
                .setStatus(status(p.status())).build();
    }

    static dev.bkg.proto.pluginmanager.v1.PluginStatus status(PluginStatus s) {
        return dev.bkg.proto.pluginmanager.v1.PluginStatus.newBuilder().setPluginId(s.pluginId()).setState(state(s.state()))
                .setPid(s.pid()).setSinceEpochMs(s.sinceMs()).setRestarts(s.restarts()).setLastExitCode(s.lastExitCode())
                .setMessage(s.message()).setNextRestartEpochMs(s.nextRestartMs()).build();
    }

    static PluginState state(dev.bkg.pluginmanager.domain.PluginState state) {
        return state == null ? PluginState.PLUGIN_STATE_UNSPECIFIED : PluginState.valueOf(state.name());
    }

    static PluginConfig config(PluginConfigs.Config c) {
        return PluginConfig.newBuilder().setPluginId(c.pluginId()).setConfigJson(c.json()).setVersion(c.version())
                .setUpdatedEpochMs(c.updatedAt() == null ? 0 : c.updatedAt().toEpochMilli())
                .setUpdatedBy(c.updatedBy() == null ? "" : c.updatedBy()).build();
    }

    static LogLine line(String pluginId, PluginLog.Line l) {
        return LogLine.newBuilder().setPluginId(pluginId).setSeq(l.seq()).setTimestampEpochMs(l.timestampMs())
                .setStream(LogStream.valueOf(l.stream().name())).setLevel(l.level()).setText(l.text()).build();
    }
}
