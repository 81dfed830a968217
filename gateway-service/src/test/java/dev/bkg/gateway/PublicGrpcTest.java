package dev.bkg.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.bkg.proto.pluginmanager.v1.GetPluginRequest;
import dev.bkg.proto.pluginmanager.v1.ListPluginsRequest;
import dev.bkg.proto.pluginmanager.v1.PluginInfo;
import dev.bkg.proto.pluginmanager.v1.PluginManagerGrpc;
import dev.bkg.proto.pluginmanager.v1.PluginManagerGrpc.PluginManagerBlockingStub;
import dev.bkg.proto.pluginmanager.v1.SetConfigRequest;
import dev.bkg.proto.pluginmanager.v1.StartPluginRequest;
import dev.bkg.proto.pluginmanager.v1.StatusEvent;
import dev.bkg.proto.pluginmanager.v1.StreamStatusRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;

/** The gateway's public gRPC API, called as an outside program would: plain grpc-java on the gateway's port. */
@QuarkusTest
@WithTestResource(Backends.class)
@TestProfile(AuthResourceTest.ShortCache.class)
class PublicGrpcTest {

    ManagedChannel channel;

    @BeforeEach
    void connect() {
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", RestAssured.port).usePlaintext().build();
    }

    @AfterEach
    void disconnect() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    PluginManagerBlockingStub as(String credential) {
        Metadata headers = new Metadata();
        if (credential != null) {
            headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + credential);
        }
        return PluginManagerGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                .withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    static Status.Code codeOf(Runnable call) {
        return assertThrows(StatusRuntimeException.class, call::run).getStatus().getCode();
    }

    @Test
    void everyCallNeedsAValidCredential() {
        assertEquals(Status.Code.UNAUTHENTICATED, codeOf(() -> as(null).listPlugins(ListPluginsRequest.getDefaultInstance())));
        assertEquals(Status.Code.UNAUTHENTICATED,
                codeOf(() -> as("bkg_000000000000_nope").listPlugins(ListPluginsRequest.getDefaultInstance())));
        Iterator<StatusEvent> anonymous = as(null).streamStatus(StreamStatusRequest.getDefaultInstance());
        assertEquals(Status.Code.UNAUTHENTICATED, codeOf(anonymous::hasNext));
    }

    @Test
    void scopesDecideWhatACallerMayDo() {
        String reader = AuthResourceTest.createKey(AuthResourceTest.admin(),
                Map.of("name", "grpc-reader", "scopes", List.of("plugins:read"))).then().statusCode(201).extract().path("key");
        List<String> ids = as(reader).listPlugins(ListPluginsRequest.getDefaultInstance()).getPluginsList().stream()
                .map(PluginInfo::getId).toList();
        assertTrue(ids.contains("repoagent"), ids.toString());
        assertEquals(Status.Code.PERMISSION_DENIED,
                codeOf(() -> as(reader).startPlugin(StartPluginRequest.newBuilder().setPluginId("repoagent").build())));
        assertEquals(Status.Code.PERMISSION_DENIED, codeOf(() -> as(reader).setConfig(SetConfigRequest.newBuilder()
                .setPluginId("repoagent").setConfigJson("{}").build())));
    }

    @Test
    void callsAreForwardedWithThePluginManagersOwnStatusesAndStreams() {
        String admin = AuthResourceTest.admin();
        assertEquals(Status.Code.NOT_FOUND,
                codeOf(() -> as(admin).getPlugin(GetPluginRequest.newBuilder().setPluginId("nope").build())));
        assertEquals("repoagent", as(admin).getPlugin(GetPluginRequest.newBuilder().setPluginId("repoagent").build())
                .getPlugin().getId());
        Iterator<StatusEvent> events = as(admin).streamStatus(StreamStatusRequest.newBuilder().setPluginId("repoagent").build());
        assertEquals("repoagent", events.next().getStatus().getPluginId());
        // the config's author is the authenticated caller, whatever the request claims
        var set = as(admin).setConfig(SetConfigRequest.newBuilder().setPluginId("repoagent")
                .setConfigJson("{\"maxBodyBytes\": 131072}").setUpdatedBy("someone-else").build());
        assertTrue(set.getAccepted());
        assertEquals("user:admin", set.getConfig().getUpdatedBy());
    }
}
