package dev.bkg.inference.grpc;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import dev.bkg.inference.chat.ChatModels;
import dev.bkg.inference.domain.Embeddings;
import dev.bkg.inference.domain.InferenceSettings;
import dev.bkg.inference.domain.OrtRuntime;
import dev.bkg.inference.runner.RunnerModels;
import dev.bkg.proto.inference.v1.ExecutionProvider;
import dev.bkg.proto.telemetry.v1.Sample;
import dev.bkg.telemetryreporter.ServiceFigures;
import dev.bkg.telemetryreporter.SourceName;
import dev.bkg.telemetryreporter.TelemetryCollector;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * What inference does, for the dashboard and for Prometheus: embeddings per second, tokens per
 * second, the mean batch the batcher formed, the texts waiting; chat tokens generated per second,
 * generations in the batch and waiting, chat models loaded; the runner's models, weights held and
 * requests per second; and the execution provider in use
 * (telemetry figure provider_cuda: 1 on CUDA, 0 on CPU; Prometheus bkg_inference_provider_info).
 */
@ApplicationScoped
public class InferenceFigures implements TelemetryCollector {

    private final String service;
    private final Embeddings embeddings;
    private final ChatModels chats;
    private final OrtRuntime runtime;
    private final RunnerModels runner;
    /** The runner's figures come from the process in role runner only (the others load no runner models). */
    private final boolean runs;
    private long[] last;
    private long lastChatTokens;
    private long lastRunnerInferences;
    private long lastNanos;

    InferenceFigures(SourceName source, Embeddings embeddings, ChatModels chats, OrtRuntime runtime, RunnerModels runner,
            InferenceSettings settings, MeterRegistry registry) {
        this.service = source.value();
        this.runs = settings.role().equals("runner");
        this.embeddings = embeddings;
        this.chats = chats;
        this.runtime = runtime;
        this.runner = runner;
        FunctionCounter.builder("bkg.embeddings.texts", embeddings, e -> e.totals()[0])
                .description("texts embedded").register(registry);
        FunctionCounter.builder("bkg.embeddings.batches", embeddings, e -> e.totals()[1])
                .description("ONNX Runtime runs of embedding batches").register(registry);
        FunctionCounter.builder("bkg.embeddings.tokens", embeddings, e -> e.totals()[2])
                .description("tokens embedded (padding not counted)").register(registry);
        Gauge.builder("bkg.embeddings.queue.depth", embeddings, Embeddings::waiting)
                .description("texts waiting for a batch").register(registry);
        FunctionCounter.builder("bkg.chat.tokens", chats, c -> c.totals()[0])
                .description("chat tokens generated").register(registry);
        FunctionCounter.builder("bkg.chat.generations", chats, c -> c.totals()[1])
                .description("chat generations finished").register(registry);
        Gauge.builder("bkg.chat.active", chats, c -> c.totals()[2])
                .description("chat generations in a decode batch").register(registry);
        Gauge.builder("bkg.chat.queue.depth", chats, c -> c.totals()[3])
                .description("chat generations waiting for a place in the batch").register(registry);
        Gauge.builder("bkg.chat.models.loaded", chats, c -> c.totals()[4])
                .description("chat models loaded").register(registry);
        if (runs) {
            runnerMeters(runner, registry);
        }
        Gauge.builder("bkg.inference.provider.info", () -> 1).tag("provider", runtime.provider().name())
                .description("the execution provider ONNX Runtime runs on").register(registry);
    }

    private static void runnerMeters(RunnerModels runner, MeterRegistry registry) {
        Gauge.builder("bkg.runner.models.loaded", runner, r -> r.totals()[0])
                .description("models the runner (candle) has loaded").register(registry);
        Gauge.builder("bkg.runner.memory", runner, r -> r.totals()[1]).baseUnit("bytes")
                .description("weights of the models the runner has loaded").register(registry);
        FunctionCounter.builder("bkg.runner.inferences", runner, r -> r.totals()[2])
                .description("requests the runner answered").register(registry);
        FunctionCounter.builder("bkg.runner.loads", runner, r -> r.totals()[3])
                .description("models the runner loaded").register(registry);
        FunctionCounter.builder("bkg.runner.unloads", runner, r -> r.totals()[4])
                .description("models the runner unloaded (asked, keep-alive or memory budget)").register(registry);
    }

    @Override
    public synchronized void collect(long now, List<Sample> out) {
        long[] totals = embeddings.totals();
        long[] chat = chats.totals();
        long[] held = runner.totals();
        long nanos = System.nanoTime();
        if (last != null && nanos > lastNanos) {
            double seconds = (nanos - lastNanos) / 1e9;
            long texts = totals[0] - last[0];
            long batches = totals[1] - last[1];
            out.add(TelemetryCollector.sample(service, ServiceFigures.KIND, "embeddings_per_second", texts / seconds, now));
            out.add(TelemetryCollector.sample(service, ServiceFigures.KIND, "embedding_tokens_per_second",
                    (totals[2] - last[2]) / seconds, now));
            out.add(TelemetryCollector.sample(service, ServiceFigures.KIND, "embedding_batch_size",
                    batches == 0 ? 0 : (double) texts / batches, now));
            out.add(TelemetryCollector.sample(service, ServiceFigures.KIND, "chat_tokens_per_second",
                    (chat[0] - lastChatTokens) / seconds, now));
            if (runs) {
                out.add(TelemetryCollector.sample(service, ServiceFigures.KIND, "runner_inferences_per_second",
                        (held[2] - lastRunnerInferences) / seconds, now));
            }
        }
        if (runs) {
            out.add(TelemetryCollector.sample(service, ServiceFigures.KIND, "runner_models_loaded", held[0], now));
            out.add(TelemetryCollector.sample(service, ServiceFigures.KIND, "runner_memory_bytes", held[1], now));
            out.add(TelemetryCollector.sample(service, ServiceFigures.KIND, "runner_queue_depth", held[5], now));
        }
        out.add(TelemetryCollector.sample(service, ServiceFigures.KIND, "chat_active", chat[2], now));
        out.add(TelemetryCollector.sample(service, ServiceFigures.KIND, "chat_queue_depth", chat[3], now));
        out.add(TelemetryCollector.sample(service, ServiceFigures.KIND, "chat_models_loaded", chat[4], now));
        out.add(TelemetryCollector.sample(service, ServiceFigures.KIND, "embedding_queue_depth", embeddings.waiting(), now));
        out.add(TelemetryCollector.sample(service, ServiceFigures.KIND, "provider_cuda",
                runtime.provider() == ExecutionProvider.CUDA ? 1 : 0, now));
        last = totals;
        lastChatTokens = chat[0];
        lastRunnerInferences = held[2];
        lastNanos = nanos;
    }
}
