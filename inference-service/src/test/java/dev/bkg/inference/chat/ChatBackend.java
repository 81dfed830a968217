package dev.bkg.inference.chat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import dev.bkg.proto.model.v1.ModelServiceGrpc;
import dev.bkg.testsupport.ChatTestModels;
import dev.bkg.testsupport.HuggingFaceRepoServer;
import dev.bkg.testsupport.ModelServiceBackend;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;

/** model-service as a real process, with the test chat models pulled into it from a local Hugging Face-like server. */
public class ChatBackend extends ModelServiceBackend {

    private HuggingFaceRepoServer hub;

    @Override
    public Map<String, String> start() {
        Map<String, String> config = new HashMap<>(super.start());
        hub = new HuggingFaceRepoServer();
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", model.port).usePlaintext().build();
        try {
            Path repos = Files.createTempDirectory("bkg-chat-repos");
            var models = ModelServiceGrpc.newBlockingStub(channel);
            for (String name : new String[] {ChatTestModels.NO_CACHE, ChatTestModels.HALF_CACHE, ChatTestModels.TINY_QWEN,
                ChatTestModels.NEXT_TOKEN, ChatTestModels.TINY_GPT2}) {
                ChatTestModels.publish(hub, repos, name);
                ChatTestModels.pull(models, hub, name, Duration.ofSeconds(120));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            channel.shutdownNow();
        }
        return config;
    }

    @Override
    public void stop() {
        if (hub != null) {
            hub.close();
        }
        super.stop();
    }
}
