package dev.bkg.pluginmanager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.bkg.proto.pluginmanager.v1.*;
import dev.bkg.testsupport.EmbeddedPostgresTestResource;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/** The capability bus to real plugin processes (HTTP contract: tiny and repoagent) and plugin configs. */
@QuarkusTest
@WithTestResource(EmbeddedPostgresTestResource.class)
@WithTestResource(TestRegistry.class)
class CapabilityBusAndConfigTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @GrpcClient("pluginmanager")
    PluginManagerGrpc.PluginManagerBlockingStub manager;

    @Test
    void capabilitiesGoToTheRunningProviderAndFailuresKeepTheirMeaning() throws Exception {
        assertEquals(Status.Code.NOT_FOUND, invokeFails("no.such", "{}").getCode());
        manager.stopPlugin(StopPluginRequest.newBuilder().setPluginId("tiny").setWait(true).build());
        Status stopped = invokeFails("tiny.echo", "{}");
        assertEquals(Status.Code.UNAVAILABLE, stopped.getCode());
        assertTrue(stopped.getDescription().contains("plugin 'tiny'"), stopped.getDescription());

        manager.startPlugin(StartPluginRequest.newBuilder().setPluginId("tiny").setWait(true).build());
        InvokeCapabilityResponse echo = manager.invokeCapability(InvokeCapabilityRequest.newBuilder()
                .setCapability("tiny.echo").setPayloadJson("{\"n\": 42}").setPrincipal("user:admin").build());
        assertEquals("tiny", echo.getPluginId());
        assertEquals(42, JSON.readTree(echo.getPayloadJson()).path("echo").path("n").asInt());

        Status failed = invokeFails("tiny.fail", "{}");
        assertEquals(Status.Code.UNKNOWN, failed.getCode());
        assertEquals("plugin 'tiny' failed: tiny failed on purpose", failed.getDescription());
        assertEquals(Status.Code.INVALID_ARGUMENT, invokeFails("tiny.bad", "{}").getCode());
        assertEquals(Status.Code.INVALID_ARGUMENT, invokeFails("tiny.echo", "{not json").getCode());
        // declared, not served: UNIMPLEMENTED naming the capability (the gateway's 501), not a plugin failure
        Status later = invokeFails("tiny.later", "{}");
        assertEquals(Status.Code.UNIMPLEMENTED, later.getCode());
        assertEquals("plugin 'tiny' does not implement 'tiny.later': not built yet", later.getDescription());
    }

    @Test
    void repoagentAnalysesARealRepositoryAndAppliesAPatchButRefusesTraversal() throws Exception {
        Path repo = Files.createDirectories(TestRegistry.HOME.resolve("repo"));
        Files.writeString(repo.resolve("Main.java"), "class Main {\n  // TODO one\n  // FIXME two\n}\n");
        Files.writeString(repo.resolve("notes.md"), "# notes\nTODO three\n");
        manager.startPlugin(StartPluginRequest.newBuilder().setPluginId("repoagent").setWait(true).build());

        JsonNode analysis = invoke("repo.analyze", "{\"path\": \"" + repo + "\"}");
        assertEquals(2, analysis.path("files").asInt());
        assertEquals(6, analysis.path("lines").asInt());
        assertEquals(2, analysis.path("todo").asInt());
        assertEquals(1, analysis.path("fixme").asInt());
        assertEquals("Java", analysis.path("languages").get(0).path("language").asText());

        String diff = "--- a/notes.md\n+++ b/notes.md\n@@ -1,2 +1,2 @@\n # notes\n-TODO three\n+done three\n";
        JsonNode dry = invoke("repo.patch", JSON.writeValueAsString(java.util.Map.of("path", repo.toString(), "diff", diff)));
        assertFalse(dry.path("applied").asBoolean());
        assertEquals("# notes\nTODO three\n", Files.readString(repo.resolve("notes.md")), "a dry run writes nothing");
        JsonNode applied = invoke("repo.patch", JSON.writeValueAsString(
                java.util.Map.of("path", repo.toString(), "diff", diff, "dryRun", false)));
        assertTrue(applied.path("applied").asBoolean());
        assertEquals("# notes\ndone three\n", Files.readString(repo.resolve("notes.md")));

        String traversal = "--- a/../escape.txt\n+++ b/../escape.txt\n@@ -0,0 +1 @@\n+owned\n";
        Status refused = invokeFails("repo.patch", JSON.writeValueAsString(
                java.util.Map.of("path", repo.toString(), "diff", traversal, "dryRun", false)));
        assertEquals(Status.Code.PERMISSION_DENIED, refused.getCode());
        assertFalse(Files.exists(TestRegistry.HOME.resolve("escape.txt")));
        Status outside = invokeFails("repo.analyze", "{\"path\": \"/etc\"}");
        assertEquals(Status.Code.PERMISSION_DENIED, outside.getCode());
        assertEquals("plugin 'repoagent': path '/etc' is outside the allowed roots", outside.getDescription());
        manager.stopPlugin(StopPluginRequest.newBuilder().setPluginId("repoagent").setWait(true).build());
    }

    @Test
    void configIsValidatedStoredWithHistoryAndAppliedByARestart() throws Exception {
        manager.startPlugin(StartPluginRequest.newBuilder().setPluginId("tiny").setWait(true).build());
        PluginConfig before = manager.getConfig(GetConfigRequest.newBuilder().setPluginId("tiny").build()).getConfig();
        assertEquals("{\"repeat\":1}", before.getConfigJson(), "defaults from the schema");

        SetConfigResponse rejected = manager.setConfig(SetConfigRequest.newBuilder().setPluginId("tiny")
                .setConfigJson("{\"repeat\": 99, \"colour\": \"red\"}").build());
        assertFalse(rejected.getAccepted());
        List<String> fields = rejected.getErrorsList().stream().map(FieldError::getField).toList();
        assertTrue(fields.contains("/repeat"), fields.toString());
        assertTrue(rejected.getErrorsList().stream().anyMatch(e -> e.getMessage().contains("colour")), rejected.toString());

        long pidBefore = manager.getStatus(GetStatusRequest.newBuilder().setPluginId("tiny").build()).getStatus().getPid();
        SetConfigResponse accepted = manager.setConfig(SetConfigRequest.newBuilder().setPluginId("tiny")
                .setConfigJson("{\"greeting\": \"hej\", \"repeat\": 2}").setUpdatedBy("user:admin").build());
        assertTrue(accepted.getAccepted(), accepted.toString());
        assertEquals(SetConfigResponse.Applied.RESTARTED, accepted.getApplied());
        int version = accepted.getConfig().getVersion();
        assertTrue(version >= 1);

        long deadline = System.currentTimeMillis() + 15_000;
        PluginStatus status;
        do {
            Thread.sleep(100);
            status = manager.getStatus(GetStatusRequest.newBuilder().setPluginId("tiny").build()).getStatus();
        } while ((status.getState() != PluginState.RUNNING || status.getPid() == pidBefore) && System.currentTimeMillis() < deadline);
        assertNotEquals(pidBefore, status.getPid(), "restarted with the new config");
        assertEquals("hej", invoke("tiny.echo", "{}").path("greeting").asText(), "the config reached the process");

        Status stale = assertThrows(StatusRuntimeException.class, () -> manager.setConfig(SetConfigRequest.newBuilder()
                .setPluginId("tiny").setConfigJson("{}").setExpectedVersion(version - 1 == 0 ? 99 : version - 1).build()))
                .getStatus();
        assertEquals(Status.Code.ABORTED, stale.getCode());
        List<PluginConfig> history = manager.getConfigHistory(GetConfigHistoryRequest.newBuilder().setPluginId("tiny").build())
                .getVersionsList();
        assertEquals(version, history.get(0).getVersion());
        assertEquals("user:admin", history.get(0).getUpdatedBy());
        manager.stopPlugin(StopPluginRequest.newBuilder().setPluginId("tiny").setWait(true).build());
    }

    JsonNode invoke(String capability, String payload) throws Exception {
        return JSON.readTree(manager.invokeCapability(InvokeCapabilityRequest.newBuilder().setCapability(capability)
                .setPayloadJson(payload).build()).getPayloadJson());
    }

    Status invokeFails(String capability, String payload) {
        return assertThrows(StatusRuntimeException.class, () -> manager.invokeCapability(InvokeCapabilityRequest.newBuilder()
                .setCapability(capability).setPayloadJson(payload).build())).getStatus();
    }
}
