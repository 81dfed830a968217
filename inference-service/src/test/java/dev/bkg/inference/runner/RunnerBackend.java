package dev.bkg.inference.runner;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Map;

import dev.bkg.proto.model.v1.ModelServiceGrpc;
import dev.bkg.testsupport.LocalFileServer;
import dev.bkg.testsupport.ModelServiceBackend;
import dev.bkg.testsupport.RunnerTestModels;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;

/** model-service as a real process (MiniLM built in), with the runner's small test graphs installed from a local server. */
public class RunnerBackend extends ModelServiceBackend {

    private LocalFileServer files;

    @Override
    public Map<String, String> start() {
        Map<String, String> config = super.start();
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", model.port).usePlaintext().build();
        try {
            files = new LocalFileServer();
            RunnerTestModels.install(ModelServiceGrpc.newBlockingStub(channel), files, Duration.ofSeconds(60));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            channel.shutdownNow();
        }
        return config;
    }

    @Override
    public void stop() {
        if (files != null) {
            files.close();
        }
        super.stop();
    }
}
