package dev.bkg.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.google.protobuf.DescriptorProtos;

import dev.bkg.proto.face.v1.FaceServiceGrpc;
import dev.bkg.proto.face.v1.ListSubjectsRequest;
import dev.bkg.proto.inference.v1.ChatChunk;
import dev.bkg.proto.inference.v1.ChatMessage;
import dev.bkg.proto.inference.v1.ChatRequest;
import dev.bkg.proto.inference.v1.ChatServiceGrpc;
import dev.bkg.proto.inference.v1.EmbedRequest;
import dev.bkg.proto.inference.v1.EmbedResponse;
import dev.bkg.proto.inference.v1.EmbeddingServiceGrpc;
import dev.bkg.proto.inference.v1.IndexServiceGrpc;
import dev.bkg.proto.inference.v1.ListCollectionsRequest;
import dev.bkg.proto.inference.v1.ListLoadedRequest;
import dev.bkg.proto.inference.v1.RunnerServiceGrpc;
import dev.bkg.proto.model.v1.DeleteModelRequest;
import dev.bkg.proto.model.v1.DownloadModelRequest;
import dev.bkg.proto.model.v1.DownloadModelResponse;
import dev.bkg.proto.model.v1.DownloadProgress;
import dev.bkg.proto.model.v1.GetModelRequest;
import dev.bkg.proto.model.v1.HuggingFaceSource;
import dev.bkg.proto.model.v1.ListModelsRequest;
import dev.bkg.proto.model.v1.ModelKind;
import dev.bkg.proto.model.v1.ModelServiceGrpc;
import dev.bkg.proto.model.v1.WatchDownloadRequest;
import dev.bkg.proto.pluginmanager.v1.GetPluginRequest;
import dev.bkg.proto.pluginmanager.v1.ListPluginsRequest;
import dev.bkg.proto.pluginmanager.v1.PluginInfo;
import dev.bkg.proto.pluginmanager.v1.PluginManagerGrpc;
import dev.bkg.proto.pluginmanager.v1.PluginManagerGrpc.PluginManagerBlockingStub;
import dev.bkg.proto.pluginmanager.v1.SetConfigRequest;
import dev.bkg.proto.pluginmanager.v1.StartPluginRequest;
import dev.bkg.proto.pluginmanager.v1.StatusEvent;
import dev.bkg.proto.pluginmanager.v1.StreamStatusRequest;
import dev.bkg.testsupport.ChatTestModels;
import dev.bkg.testsupport.HuggingFaceRepoServer;
import grpc.health.v1.HealthOuterClass.HealthCheckRequest;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse;
import grpc.health.v1.HealthGrpc;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;

/**
 * The gateway's public gRPC API, called as an outside program would: plain grpc-java on the
 * gateway's port — the plugin manager, embeddings, chat, the runner, the index, faces and models,
 * server reflection and the health service.
 */
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
        return as(credential, PluginManagerGrpc::newBlockingStub);
    }

    /** A stub of any public service carrying {@code credential} (null: none) as a bearer token. */
    <S extends AbstractStub<S>> S as(String credential, Function<Channel, S> stub) {
        Metadata headers = new Metadata();
        if (credential != null) {
            headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + credential);
        }
        return stub.apply(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                .withDeadlineAfter(60, TimeUnit.SECONDS);
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

    @Test
    void reflectionListsEveryPublicServiceAndHealthAnswersWithoutACredential() throws Exception {
        List<String> services = new ArrayList<>();
        ServerReflectionResponse described = reflect(ServerReflectionRequest.newBuilder().setListServices("").build(),
                ServerReflectionRequest.newBuilder().setFileContainingSymbol("bkg.inference.v1.EmbeddingService").build(),
                services);
        for (String service : List.of("bkg.pluginmanager.v1.PluginManager", "bkg.inference.v1.EmbeddingService",
                "bkg.inference.v1.ChatService", "bkg.inference.v1.RunnerService", "bkg.inference.v1.IndexService",
                "bkg.face.v1.FaceService", "bkg.model.v1.ModelService", "grpc.health.v1.Health")) {
            assertTrue(services.contains(service), service + " not in " + services);
        }
        // what a generic client (grpcurl) builds its calls from: the service's file descriptor
        DescriptorProtos.FileDescriptorProto file = DescriptorProtos.FileDescriptorProto
                .parseFrom(described.getFileDescriptorResponse().getFileDescriptorProto(0));
        assertEquals("bkg.inference.v1", file.getPackage());
        assertTrue(file.getServiceList().stream().anyMatch(s -> s.getName().equals("EmbeddingService")), file.getName());

        assertEquals(HealthCheckResponse.ServingStatus.SERVING, HealthGrpc.newBlockingStub(channel)
                .withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance()).getStatus());
    }

    /** Sends {@code list} then {@code describe} on one reflection stream; the listed names go to {@code services}. */
    private ServerReflectionResponse reflect(ServerReflectionRequest list, ServerReflectionRequest describe, List<String> services)
            throws Exception {
        BlockingQueue<Object> answers = new LinkedBlockingQueue<>();
        StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel)
                .withDeadlineAfter(10, TimeUnit.SECONDS).serverReflectionInfo(new StreamObserver<>() {
                    public void onNext(ServerReflectionResponse value) {
                        answers.add(value);
                    }

                    public void onError(Throwable t) {
                        answers.add(t);
                    }

                    public void onCompleted() {
                    }
                });
        requests.onNext(list);
        requests.onNext(describe);
        requests.onCompleted();
        Object listed = answers.poll(10, TimeUnit.SECONDS);
        Object file = answers.poll(10, TimeUnit.SECONDS);
        assertTrue(listed instanceof ServerReflectionResponse && file instanceof ServerReflectionResponse, listed + " / " + file);
        ((ServerReflectionResponse) listed).getListServicesResponse().getServiceList().forEach(s -> services.add(s.getName()));
        return (ServerReflectionResponse) file;
    }

    @Test
    void everyPublicServiceRefusesACallerWithoutACredentialOrTheScope() {
        String reader = AuthResourceTest.createKey(AuthResourceTest.admin(),
                Map.of("name", "grpc-plugins-only", "scopes", List.of("plugins:read"))).then().statusCode(201).extract().path("key");
        for (String credential : java.util.Arrays.asList(null, reader)) {
            Status.Code expected = credential == null ? Status.Code.UNAUTHENTICATED : Status.Code.PERMISSION_DENIED;
            assertEquals(expected, codeOf(() -> as(credential, EmbeddingServiceGrpc::newBlockingStub)
                    .embed(EmbedRequest.newBuilder().addTexts("hello").build())));
            assertEquals(expected, codeOf(() -> as(credential, ChatServiceGrpc::newBlockingStub)
                    .chatStream(ChatRequest.getDefaultInstance()).hasNext()));
            assertEquals(expected, codeOf(() -> as(credential, RunnerServiceGrpc::newBlockingStub)
                    .listLoaded(ListLoadedRequest.getDefaultInstance())));
            assertEquals(expected, codeOf(() -> as(credential, IndexServiceGrpc::newBlockingStub)
                    .listCollections(ListCollectionsRequest.getDefaultInstance())));
            assertEquals(expected, codeOf(() -> as(credential, FaceServiceGrpc::newBlockingStub)
                    .listSubjects(ListSubjectsRequest.getDefaultInstance())));
            assertEquals(expected, codeOf(() -> as(credential, ModelServiceGrpc::newBlockingStub)
                    .listModels(ListModelsRequest.getDefaultInstance())));
        }
        String modelReader = AuthResourceTest.createKey(AuthResourceTest.admin(),
                Map.of("name", "grpc-models-read", "scopes", List.of("models:read"))).then().statusCode(201).extract().path("key");
        assertEquals(Status.Code.PERMISSION_DENIED, codeOf(() -> as(modelReader, ModelServiceGrpc::newBlockingStub)
                .deleteModel(DeleteModelRequest.newBuilder().setId("all-minilm-l6-v2").build())));
    }

    @Test
    void embeddingsModelsAndFacesAnswerWithTheBackendsOwnResultsAndStatuses() {
        String key = AuthResourceTest.createKey(AuthResourceTest.admin(), Map.of("name", "grpc-client",
                "scopes", List.of("inference", "models:read", "face"))).then().statusCode(201).extract().path("key");
        EmbedResponse embedded = as(key, EmbeddingServiceGrpc::newBlockingStub).embed(EmbedRequest.newBuilder()
                .addTexts("A man is eating food.").addTexts("A man is eating bread.").setNormalize(true).build());
        assertEquals("all-minilm-l6-v2", embedded.getModel());
        assertEquals(384, embedded.getEmbeddings(0).getValuesCount());
        assertEquals(2, embedded.getEmbeddingsCount());
        assertTrue(as(key, ModelServiceGrpc::newBlockingStub).listModels(ListModelsRequest.getDefaultInstance())
                .getModelsList().stream().anyMatch(m -> m.getName().equals("all-minilm-l6-v2")));
        assertEquals(Status.Code.NOT_FOUND, codeOf(() -> as(key, ModelServiceGrpc::newBlockingStub)
                .getModel(GetModelRequest.newBuilder().setId("no-such-model").build())));
        assertEquals(Status.Code.INVALID_ARGUMENT, codeOf(() -> as(key, EmbeddingServiceGrpc::newBlockingStub)
                .embed(EmbedRequest.getDefaultInstance())));
        assertEquals(Status.Code.NOT_FOUND, codeOf(() -> as(key, ChatServiceGrpc::newBlockingStub)
                .chatStream(ChatRequest.newBuilder().setModel("no-such-model")
                        .addMessages(ChatMessage.newBuilder().setRole("user").setContent("hi")).build()).hasNext()));
        // no face-service in this test's mesh: the caller is told to retry, as REST answers 503
        assertEquals(Status.Code.UNAVAILABLE, codeOf(() -> as(key, FaceServiceGrpc::newBlockingStub)
                .listSubjects(ListSubjectsRequest.getDefaultInstance())));
    }

    /** A whole workflow of a gRPC client: pull a chat model, follow its download, stream a reply, delete it. */
    @Test
    void aChatModelIsPulledWatchedStreamedAndDeletedOverGrpc() throws Exception {
        String key = AuthResourceTest.createKey(AuthResourceTest.admin(), Map.of("name", "grpc-chat",
                "scopes", List.of("inference", "models:read", "models:write"))).then().statusCode(201).extract().path("key");
        try (HuggingFaceRepoServer hub = new HuggingFaceRepoServer()) {
            ChatTestModels.publish(hub, Files.createTempDirectory("bkg-grpc-hub"), ChatTestModels.NEXT_TOKEN);
            ModelServiceGrpc.ModelServiceBlockingStub models = as(key, ModelServiceGrpc::newBlockingStub);
            DownloadModelResponse started = models.downloadModel(DownloadModelRequest.newBuilder().setName("grpc-next-token")
                    .setKind(ModelKind.LLM).setHuggingFace(HuggingFaceSource.newBuilder().setRepo("test/" + ChatTestModels.NEXT_TOKEN)
                            .setEndpoint(hub.endpoint()).addAllFiles(ChatTestModels.FILES)).build());
            DownloadProgress.State last = DownloadProgress.State.STATE_UNSPECIFIED;
            Iterator<DownloadProgress> progress = models.watchDownload(WatchDownloadRequest.newBuilder().setJobId(started.getJobId()).build());
            while (progress.hasNext()) {
                last = progress.next().getState();
            }
            assertEquals(DownloadProgress.State.DONE, last);
            try {
                List<ChatChunk> chunks = new ArrayList<>();
                as(key, ChatServiceGrpc::newBlockingStub).chatStream(ChatRequest.newBuilder().setModel("grpc-next-token")
                        .addMessages(ChatMessage.newBuilder().setRole("user").setContent("Hello")).setMaxTokens(6)
                        .setTemperature(0).build()).forEachRemaining(chunks::add);
                assertEquals("assistant", chunks.get(0).getRole());
                List<ChatChunk> tokens = chunks.stream().filter(c -> c.getTokenId() != 0).toList();
                assertEquals(6, tokens.size(), chunks.toString());
                for (int i = 1; i < tokens.size(); i++) { // the model always emits the next token id
                    assertEquals(tokens.get(i - 1).getTokenId() + 1, tokens.get(i).getTokenId());
                }
                ChatChunk end = chunks.get(chunks.size() - 1);
                assertEquals("length", end.getFinishReason());
                assertEquals(6, end.getUsage().getCompletionTokens());
            } finally {
                models.deleteModel(DeleteModelRequest.newBuilder().setId(started.getModelId()).setForce(true).build());
            }
            assertEquals(Status.Code.NOT_FOUND, codeOf(() -> models.getModel(GetModelRequest.newBuilder()
                    .setId(started.getModelId()).build())));
        }
    }
}
