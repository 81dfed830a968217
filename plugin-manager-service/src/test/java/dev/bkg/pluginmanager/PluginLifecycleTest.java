package dev.bkg.pluginmanager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.junit.jupiter.api.Test;

import dev.bkg.pluginmanager.domain.PluginSupervisor;
import dev.bkg.pluginmanager.domain.Plugins;
import dev.bkg.proto.pluginmanager.v1.*;
import dev.bkg.testsupport.EmbeddedPostgresTestResource;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/** The local process runtime with real processes: lifecycle, health, crashes, stop, logs, registry. */
@QuarkusTest
@WithTestResource(EmbeddedPostgresTestResource.class)
@WithTestResource(TestRegistry.class)
class PluginLifecycleTest {

    @GrpcClient("pluginmanager")
    PluginManagerGrpc.PluginManagerBlockingStub manager;

    @GrpcClient("pluginmanager")
    MutinyPluginManagerGrpc.MutinyPluginManagerStub streams;

    @jakarta.inject.Inject
    Plugins plugins;

    @Test
    void theRegistryLoadsGoodEntriesAndReportsBadOnesByNameAndField() {
        ListPluginsResponse list = manager.listPlugins(ListPluginsRequest.getDefaultInstance());
        List<String> ids = list.getPluginsList().stream().map(PluginInfo::getId).toList();
        assertEquals(List.of("tiny", "stubborn", "broken", "flood", "repoagent", "missing"), ids);
        PluginInfo missing = list.getPluginsList().get(5);
        assertFalse(missing.getAvailable());
        assertTrue(missing.getUnavailableReason().contains("plugins/not-written-yet/run does not exist"), missing.getUnavailableReason());
        assertEquals(PluginState.STOPPED, missing.getStatus().getState());
        assertEquals(2, list.getRegistryErrorsCount(), list.getRegistryErrorsList().toString());
        assertTrue(list.getRegistryErrors(0).contains("plugin 'Bad Name': field 'name'"), list.getRegistryErrors(0));
        assertTrue(list.getRegistryErrors(1).contains("plugin 'noport': field 'port' is required"), list.getRegistryErrors(1));

        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> manager.startPlugin(StartPluginRequest.newBuilder().setPluginId("missing").build()));
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        e = assertThrows(StatusRuntimeException.class,
                () -> manager.getPlugin(GetPluginRequest.newBuilder().setPluginId("nope").build()));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    }

    @Test
    void startIsIdempotentHealthDecidesRunningOrUnhealthyAndLogsAreCaptured() throws Exception {
        Files.deleteIfExists(TestRegistry.HEALTH_FILE);
        PluginStatus started = start("tiny");
        assertEquals(PluginState.RUNNING, started.getState());
        assertTrue(started.getPid() > 0);
        assertEquals(started.getPid(), start("tiny").getPid(), "a second start is a no-op");

        List<LogLine> lines = manager.getLogs(GetLogsRequest.newBuilder().setPluginId("tiny").build()).getLinesList();
        LogLine hello = lines.stream().filter(l -> l.getText().contains("tiny starting")).findFirst().orElseThrow();
        assertEquals(LogStream.STDOUT, hello.getStream());
        assertEquals("INFO", hello.getLevel());
        assertTrue(lines.stream().anyMatch(l -> l.getStream() == LogStream.STDERR && l.getLevel().equals("WARN")));
        for (int i = 1; i < lines.size(); i++) {
            assertTrue(lines.get(i).getSeq() > lines.get(i - 1).getSeq(), "lines in order");
        }

        Files.writeString(TestRegistry.HEALTH_FILE, "fail");
        awaitState("tiny", s -> s.getState() == PluginState.UNHEALTHY, Duration.ofSeconds(10));
        Files.writeString(TestRegistry.HEALTH_FILE, "ok");
        awaitState("tiny", s -> s.getState() == PluginState.RUNNING, Duration.ofSeconds(10));
        stop("tiny");
    }

    @Test
    void aKilledPluginIsRestartedWithGrowingBackoffThenCrashedAtTheCap() throws Exception {
        Files.deleteIfExists(TestRegistry.HEALTH_FILE);
        long pid = start("tiny").getPid();
        List<Long> delays = new ArrayList<>();
        // BACKOFF lasts 300 ms: a poll can miss it on a busy machine, the status stream cannot
        java.util.concurrent.BlockingQueue<PluginStatus> backoffs = new java.util.concurrent.LinkedBlockingQueue<>();
        java.util.concurrent.CountDownLatch subscribed = new java.util.concurrent.CountDownLatch(1);
        io.smallrye.mutiny.subscription.Cancellable watching = streams
                .streamStatus(StreamStatusRequest.newBuilder().setPluginId("tiny").build())
                .invoke(event -> subscribed.countDown())
                .select().where(event -> event.getStatus().getState() == PluginState.BACKOFF)
                .subscribe().with(event -> backoffs.add(event.getStatus()), failure -> { });
        // the stream opens with the current status: only then can no BACKOFF slip by unseen
        assertTrue(subscribed.await(15, TimeUnit.SECONDS), "the status stream answers");
        for (int crash = 1; crash <= 2; crash++) {
            ProcessHandle.of(pid).orElseThrow().destroyForcibly();
            PluginStatus backoff = backoffs.poll(15, TimeUnit.SECONDS);
            assertTrue(backoff != null, "no BACKOFF event after crash " + crash);
            assertEquals(crash, backoff.getRestarts());
            delays.add(backoff.getNextRestartEpochMs() - backoff.getSinceEpochMs());
            long previous = pid;
            PluginStatus running = awaitState("tiny", s -> s.getState() == PluginState.RUNNING && s.getPid() != previous,
                    Duration.ofSeconds(15));
            pid = running.getPid();
        }
        watching.cancel();
        assertTrue(delays.get(1) > delays.get(0) * 3 / 2, "the backoff grows: " + delays);
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        PluginStatus crashed = awaitState("tiny", s -> s.getState() == PluginState.CRASHED, Duration.ofSeconds(5));
        assertTrue(crashed.getMessage().contains("gave up after 2 restarts"), crashed.getMessage());
        assertEquals(137, crashed.getLastExitCode());
        assertEquals(PluginState.RUNNING, start("tiny").getState(), "a manual start after CRASHED works");
        stop("tiny");
    }

    @Test
    void aPluginIgnoringSigtermIsKilledAfterItsGracePeriodWithItsChildren() throws Exception {
        start("stubborn");
        Files.deleteIfExists(TestRegistry.HEALTH_FILE);
        long pid = start("tiny").getPid();
        List<ProcessHandle> children = ProcessHandle.of(pid).orElseThrow().descendants().toList();
        assertFalse(children.isEmpty(), "tiny starts a child process");
        stop("tiny");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (children.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(children.stream().noneMatch(ProcessHandle::isAlive), "the child went with its plugin");

        long t0 = System.nanoTime();
        java.util.concurrent.CompletableFuture<PluginStatus> stopping = java.util.concurrent.CompletableFuture
                .supplyAsync(() -> stop("stubborn"));
        // while it ignores SIGTERM for its grace period, listing and status answer at once
        awaitState("stubborn", s -> s.getState() == PluginState.STOPPING, Duration.ofSeconds(5));
        long slowest = 0;
        while (!stopping.isDone()) {
            long t = System.nanoTime();
            manager.listPlugins(ListPluginsRequest.getDefaultInstance());
            manager.getStatus(GetStatusRequest.newBuilder().setPluginId("stubborn").build());
            slowest = Math.max(slowest, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t));
            Thread.sleep(20);
        }
        assertTrue(slowest < 1000, "list and status took up to " + slowest + " ms while a stop was waiting");
        PluginStatus stopped = stopping.get(30, TimeUnit.SECONDS);
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertEquals(PluginState.STOPPED, stopped.getState());
        // never before the grace period; after it, SIGKILL (a slow machine may take a while to reap it)
        assertTrue(tookMs >= 1400, "killed before its grace period: " + tookMs + " ms");
        assertTrue(logTexts("stubborn").stream().anyMatch(t -> t.contains("SIGKILL")));
        assertEquals(PluginState.STOPPED, stop("stubborn").getState(), "a second stop is a no-op");
    }

    @Test
    void statusAndListNeverWaitForASupervisorAtWork() throws Exception {
        PluginSupervisor tiny = plugins.find("tiny").orElseThrow();
        // the supervisor's lock held as by a start, a stop or a slow kill: readers must not wait for it
        synchronized (tiny) {
            java.util.concurrent.CompletableFuture<PluginStatus> status = java.util.concurrent.CompletableFuture
                    .supplyAsync(() -> manager.getStatus(GetStatusRequest.newBuilder().setPluginId("tiny").build()).getStatus());
            java.util.concurrent.CompletableFuture<ListPluginsResponse> list = java.util.concurrent.CompletableFuture
                    .supplyAsync(() -> manager.listPlugins(ListPluginsRequest.getDefaultInstance()));
            assertEquals("tiny", status.get(5, TimeUnit.SECONDS).getPluginId());
            assertEquals(6, list.get(5, TimeUnit.SECONDS).getPluginsCount());
        }
    }

    @Test
    void aPluginThatExitsAtOnceIsCrashedWithTheReasonAndItsLastLines() {
        PluginStatus status = manager.startPlugin(StartPluginRequest.newBuilder().setPluginId("broken").setWait(true).build())
                .getStatus();
        assertEquals(PluginState.CRASHED, status.getState());
        assertEquals(3, status.getLastExitCode());
        assertTrue(status.getMessage().contains("cannot start: the tiny plugin was told to fail"), status.getMessage());
    }

    @Test
    void aFloodingPluginKeepsMemoryAndDiskBounded() throws Exception {
        start("flood");
        awaitLog("flood", t -> t.contains("tiny starting"), Duration.ofSeconds(30));
        GetLogsResponse page = manager.getLogs(GetLogsRequest.newBuilder().setPluginId("flood").setLimit(5000).build());
        assertTrue(page.getLinesCount() <= 1000, "the ring holds at most its capacity");
        assertTrue(page.getDropped() > 50_000, "dropped " + page.getDropped());
        long onDisk = 0;
        try (var files = Files.list(TestRegistry.HOME.resolve("logs/plugins"))) {
            for (Path f : files.filter(f -> f.getFileName().toString().startsWith("flood.log")).toList()) {
                onDisk += Files.size(f);
            }
        }
        assertTrue(onDisk > 0 && onDisk <= 3 * 200_000 + 20_000, "log files are capped: " + onDisk + " bytes");
        stop("flood");
    }

    PluginStatus start(String id) {
        return manager.startPlugin(StartPluginRequest.newBuilder().setPluginId(id).setWait(true).build()).getStatus();
    }

    PluginStatus stop(String id) {
        return manager.stopPlugin(StopPluginRequest.newBuilder().setPluginId(id).setWait(true).build()).getStatus();
    }

    List<String> logTexts(String id) {
        return manager.getLogs(GetLogsRequest.newBuilder().setPluginId(id).setLimit(5000).build()).getLinesList().stream()
                .map(LogLine::getText).toList();
    }

    void awaitLog(String id, Predicate<String> line, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (logTexts(id).stream().anyMatch(line)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no such log line of " + id + " within " + timeout);
    }

    PluginStatus awaitState(String id, Predicate<PluginStatus> condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        PluginStatus last = null;
        while (System.nanoTime() < deadline) {
            last = manager.getStatus(GetStatusRequest.newBuilder().setPluginId(id).build()).getStatus();
            if (condition.test(last)) {
                return last;
            }
            Thread.sleep(50);
        }
        throw new AssertionError(id + " did not reach the expected state within " + timeout + "; last: " + last);
    }
}
