package dev.bkg.auth;

import static dev.bkg.auth.AuthGrpcServiceTest.WAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.bkg.proto.plugin.v1.DescribeRequest;
import dev.bkg.proto.plugin.v1.InvokeRequest;
import dev.bkg.proto.plugin.v1.MutinyPluginGrpc.MutinyPluginStub;
import dev.bkg.testsupport.EmbeddedPostgresTestResource;
import dev.bkg.testsupport.Readiness;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** The apikeys plugin contract (what the capability bus calls): auth.* on JSON payloads, acting for the principal. */
@QuarkusTest
@WithTestResource(EmbeddedPostgresTestResource.class)
class ApikeysPluginTest {

    @GrpcClient("apikeys")
    MutinyPluginStub plugin;

    @BeforeEach
    void ready() {
        Readiness.awaitStatus(200, WAIT);
    }

    JsonObject invoke(String capability, JsonObject payload, String principal) {
        return new JsonObject(plugin.invoke(InvokeRequest.newBuilder().setCapability(capability)
                .setPayloadJson(payload.encode()).setPrincipal(principal).setRequestId("test").build())
                .await().atMost(WAIT).getPayloadJson());
    }

    Status fails(String capability, String payload, String principal) {
        return assertThrows(StatusRuntimeException.class, () -> plugin.invoke(InvokeRequest.newBuilder()
                .setCapability(capability).setPayloadJson(payload).setPrincipal(principal).build())
                .await().atMost(WAIT)).getStatus();
    }

    @Test
    void describesTheSeedsFiveCapabilities() {
        List<String> names = plugin.describe(DescribeRequest.getDefaultInstance()).await().atMost(WAIT)
                .getCapabilitiesList().stream().map(c -> c.getName()).toList();
        assertEquals(List.of("auth.login", "auth.createKey", "auth.revokeKey", "auth.listKeys", "auth.validate"), names);
    }

    @Test
    void loginAndValidateOverTheBus() {
        JsonObject login = invoke("auth.login", new JsonObject().put("username", "admin")
                .put("password", AdminBootstrapTest.PASSWORD), "");
        assertTrue(login.getJsonArray("scopes").contains("admin"));
        JsonObject valid = invoke("auth.validate", new JsonObject().put("credential", login.getString("token")), "");
        assertEquals(true, valid.getBoolean("valid"));
        assertEquals("user:admin", valid.getString("subject"));
        JsonObject invalid = invoke("auth.validate", new JsonObject().put("credential", "bkg_0000_nope"), "");
        assertEquals(false, invalid.getBoolean("valid"));
        assertEquals(Status.Code.UNAUTHENTICATED, fails("auth.login", "{\"username\":\"admin\",\"password\":\"wrong\"}", "").getCode());
    }

    @Test
    void keysAreCreatedListedAndRevokedForThePrincipalWithoutEscalation() {
        JsonObject created = invoke("auth.createKey", new JsonObject().put("name", "bus-manager")
                .put("scopes", new JsonArray().add("keys:manage").add("inference")), "user:admin");
        String managerKeyId = created.getString("id");
        assertTrue(created.getString("key").startsWith("bkg_" + managerKeyId + "_"));
        String asManager = "key:" + managerKeyId;

        // a key may only grant what it holds
        Status escalation = fails("auth.createKey", "{\"name\":\"stronger\",\"scopes\":[\"admin\"]}", asManager);
        assertEquals(Status.Code.PERMISSION_DENIED, escalation.getCode());
        assertTrue(escalation.getDescription().contains("'admin'"), escalation.getDescription());
        JsonObject weaker = invoke("auth.createKey", new JsonObject().put("name", "weaker")
                .put("scopes", new JsonArray().add("inference")), asManager);

        JsonArray keys = invoke("auth.listKeys", new JsonObject(), asManager).getJsonArray("keys");
        assertTrue(keys.stream().map(k -> ((JsonObject) k).getString("id")).toList().contains(weaker.getString("id")));
        assertFalse(keys.encode().contains(weaker.getString("key")), "never the secret");
        assertEquals(Status.Code.PERMISSION_DENIED, fails("auth.listKeys", "{\"all\": true}", asManager).getCode());

        JsonObject revoked = invoke("auth.revokeKey", new JsonObject().put("id", weaker.getString("id")), asManager);
        assertEquals(true, revoked.getBoolean("revoked"));
        // a key without keys:manage may not manage keys; a revoked key is no caller at all
        assertEquals(Status.Code.PERMISSION_DENIED, fails("auth.listKeys", "{}",
                "key:" + invoke("auth.createKey", new JsonObject().put("name", "plain")
                        .put("scopes", new JsonArray().add("inference")), "user:admin").getString("id")).getCode());
        assertEquals(Status.Code.UNAUTHENTICATED, fails("auth.listKeys", "{}", "key:" + weaker.getString("id")).getCode());
    }

    @Test
    void badCallsGetClearStatuses() {
        assertEquals(Status.Code.UNAUTHENTICATED, fails("auth.createKey", "{\"name\":\"x\",\"scopes\":[\"inference\"]}", "").getCode());
        assertEquals(Status.Code.UNAUTHENTICATED, fails("auth.listKeys", "{}", "user:nobody").getCode());
        assertEquals(Status.Code.INVALID_ARGUMENT, fails("auth.createKey", "{not json", "user:admin").getCode());
        assertEquals(Status.Code.INVALID_ARGUMENT, fails("auth.createKey", "{\"nmae\":\"typo\"}", "user:admin").getCode());
        assertEquals(Status.Code.INVALID_ARGUMENT, fails("auth.revokeKey", "{}", "user:admin").getCode());
        assertEquals(Status.Code.NOT_FOUND, fails("auth.revokeKey", "{\"id\":\"ffffffffffff\"}", "user:admin").getCode());
        assertEquals(Status.Code.UNIMPLEMENTED, fails("auth.deleteEverything", "{}", "user:admin").getCode());
    }
}
