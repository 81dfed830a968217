package dev.bkg.inference.runner;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.jboss.logging.Logger;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.bkg.inference.domain.Refusal;
import dev.bkg.proto.inference.v1.ExecutionProvider;
import dev.bkg.proto.model.v1.Model;

/**
 * One model loaded for the runner: its ONNX Runtime session, its signature, and one thread that
 * runs its requests in arrival order. Requests waiting together whose inputs differ only in the
 * first dimension share one run when the model's batch dimension is dynamic (stacked, run,
 * split back), so that many small concurrent calls cost about one.
 */
final class RunnerModel {

    private static final Logger LOG = Logger.getLogger(RunnerModel.class);

    record Call(List<HostTensor> inputs, List<String> outputs, CompletableFuture<Result> done, long queuedNanos) {
    }

    record Result(RunnerModel model, List<HostTensor> outputs, long runMicros, long queueMicros, int batchRequests) {
    }

    final Model model;
    final String graphFile;
    final ExecutionProvider provider;
    final long memoryBytes;
    final long loadMillis;
    final long loadedAtMillis = System.currentTimeMillis();
    final Map<String, TensorInfo> inputs;
    final Map<String, TensorInfo> outputs;
    final boolean dynamicBatch;
    final AtomicLong inferences = new AtomicLong();
    volatile long lastUsedMillis = loadedAtMillis;
    /** -1: until unloaded. */
    volatile long keepAliveMillis;

    private final OrtEnvironment env;
    private final OrtSession session;
    private final int maxBatch;
    private final LinkedBlockingQueue<Call> queue = new LinkedBlockingQueue<>();
    private final Thread worker;
    private volatile boolean closed;

    RunnerModel(Model model, String graphFile, OrtEnvironment env, OrtSession session, ExecutionProvider provider,
            long memoryBytes, long loadMillis, long keepAliveMillis, int maxBatch) throws OrtException {
        this.model = model;
        this.graphFile = graphFile;
        this.env = env;
        this.session = session;
        this.provider = provider;
        this.memoryBytes = memoryBytes;
        this.loadMillis = loadMillis;
        this.keepAliveMillis = keepAliveMillis;
        this.maxBatch = maxBatch;
        this.inputs = tensors(session.getInputInfo(), "input");
        this.outputs = tensors(session.getOutputInfo(), "output");
        this.dynamicBatch = !inputs.isEmpty() && inputs.values().stream().allMatch(RunnerModel::batchable)
                && outputs.values().stream().allMatch(RunnerModel::batchable);
        this.worker = new Thread(this::work, "runner-" + model.getName());
        worker.setDaemon(true);
        worker.start();
    }

    private static Map<String, TensorInfo> tensors(Map<String, NodeInfo> infos, String what) {
        Map<String, TensorInfo> out = new LinkedHashMap<>();
        infos.forEach((name, info) -> {
            if (!(info.getInfo() instanceof TensorInfo t) || HostTensor.elementType(t) == null) {
                throw new Refusal(Refusal.Reason.INVALID, "the graph's " + what + " '" + name + "' is " + info.getInfo()
                        + "; the runner takes tensors of FLOAT, FLOAT16, DOUBLE, INT64, INT32, INT8, UINT8, BOOL or STRING");
            }
            out.put(name, t);
        });
        return out;
    }

    private static boolean batchable(TensorInfo t) {
        return t.getShape().length > 0 && t.getShape()[0] < 0 && t.type != ai.onnxruntime.OnnxJavaType.STRING;
    }

    /** The expected signature of one input, as messages name it: FLOAT [-1, 3]. */
    static String signature(TensorInfo t) {
        return HostTensor.elementType(t) + " " + Arrays.toString(t.getShape());
    }

    /** Checks a request against the signature and queues it. */
    CompletableFuture<Result> submit(List<HostTensor> given, List<String> wanted) {
        Map<String, HostTensor> byName = new HashMap<>();
        for (HostTensor t : given) {
            TensorInfo expected = inputs.get(t.name());
            if (expected == null) {
                throw HostTensor.invalid("model '" + model.getName() + "' has no input '" + t.name() + "'; its inputs: "
                        + describe(inputs));
            }
            if (byName.put(t.name(), t) != null) {
                throw HostTensor.invalid("input '" + t.name() + "' is given twice");
            }
            long[] shape = expected.getShape();
            boolean fits = HostTensor.elementType(expected) == t.type() && shape.length == t.shape().length;
            for (int i = 0; fits && i < shape.length; i++) {
                fits = shape[i] < 0 || shape[i] == t.shape()[i];
            }
            if (!fits) {
                throw HostTensor.invalid("input '" + t.name() + "' is " + t.type() + " " + Arrays.toString(t.shape())
                        + "; model '" + model.getName() + "' expects " + signature(expected));
            }
        }
        List<String> missing = inputs.keySet().stream().filter(n -> !byName.containsKey(n)).toList();
        if (!missing.isEmpty()) {
            throw HostTensor.invalid("inputs missing: " + missing + "; model '" + model.getName() + "' needs " + describe(inputs));
        }
        List<String> names = wanted.isEmpty() ? List.copyOf(outputs.keySet()) : List.copyOf(new LinkedHashSet<>(wanted));
        for (String name : names) {
            if (!outputs.containsKey(name)) {
                throw HostTensor.invalid("model '" + model.getName() + "' has no output '" + name + "'; its outputs: "
                        + describe(outputs));
            }
        }
        // the inputs in the signature's order, so that calls with the same shapes stack input by input
        List<HostTensor> ordered = inputs.keySet().stream().map(byName::get).toList();
        Call call = new Call(ordered, names, new CompletableFuture<>(), System.nanoTime());
        if (closed) {
            throw new Refusal(Refusal.Reason.NOT_READY, "model '" + model.getName() + "' is being unloaded; retry");
        }
        queue.add(call);
        lastUsedMillis = System.currentTimeMillis();
        return call.done();
    }

    private static String describe(Map<String, TensorInfo> tensors) {
        List<String> parts = new ArrayList<>();
        tensors.forEach((name, t) -> parts.add(name + " " + signature(t)));
        return String.join(", ", parts);
    }

    int waiting() {
        return queue.size();
    }

    /** Stops taking requests; the worker finishes the run in progress, fails what waits and closes the session. */
    void close() {
        closed = true;
        worker.interrupt();
    }

    private void work() {
        try {
            while (!closed) {
                Call first = queue.poll(1, TimeUnit.SECONDS);
                if (first == null) {
                    continue;
                }
                List<Call> calls = new ArrayList<>();
                calls.add(first);
                queue.drainTo(calls);
                // calls that can stack share a run; the rest run alone, all in arrival order
                Map<String, List<Call>> groups = new LinkedHashMap<>();
                for (Call call : calls) {
                    groups.computeIfAbsent(dynamicBatch ? stackKey(call) : String.valueOf(System.identityHashCode(call)),
                            k -> new ArrayList<>()).add(call);
                }
                for (List<Call> group : groups.values()) {
                    for (int from = 0; from < group.size(); from += maxBatch) {
                        run(group.subList(from, Math.min(group.size(), from + maxBatch)));
                    }
                }
            }
        } catch (InterruptedException e) {
            // closing
        } finally {
            List<Call> left = new ArrayList<>();
            queue.drainTo(left);
            left.forEach(c -> c.done().completeExceptionally(new Refusal(Refusal.Reason.NOT_READY,
                    "model '" + model.getName() + "' was unloaded; retry")));
            try {
                session.close();
            } catch (OrtException e) {
                LOG.warnf("closing the session of %s: %s", model.getName(), e.getMessage());
            }
        }
    }

    /** Calls stack when their inputs agree in all but the first dimension and they ask for the same outputs. */
    private static String stackKey(Call call) {
        StringBuilder key = new StringBuilder(String.join(",", call.outputs()));
        for (HostTensor t : call.inputs()) {
            key.append('|').append(Arrays.toString(Arrays.copyOfRange(t.shape(), 1, t.shape().length)));
        }
        return key.toString();
    }

    private void run(List<Call> calls) {
        long started = System.nanoTime();
        try {
            if (calls.size() == 1) {
                Call call = calls.get(0);
                List<HostTensor> out = execute(call.inputs(), call.outputs());
                finish(call, out, started, 1);
                return;
            }
            List<HostTensor> stacked = new ArrayList<>();
            for (int i = 0; i < calls.get(0).inputs().size(); i++) {
                int input = i;
                stacked.add(HostTensor.stack(calls.stream().map(c -> c.inputs().get(input)).toList()));
            }
            long rows = stacked.get(0).shape()[0];
            List<HostTensor> out = execute(stacked, calls.get(0).outputs());
            if (out.stream().anyMatch(t -> t.shape().length == 0 || t.shape()[0] != rows)) {
                // the graph mixes rows after all (its outputs do not keep the batch): each call alone
                calls.forEach(c -> run(List.of(c)));
                return;
            }
            long from = 0;
            for (Call call : calls) {
                long mine = call.inputs().get(0).shape()[0];
                long at = from;
                finish(call, out.stream().map(t -> t.rows(at, mine)).toList(), started, calls.size());
                from += mine;
            }
        } catch (Refusal e) {
            calls.forEach(c -> c.done().completeExceptionally(e));
        } catch (OrtException e) {
            // ONNX Runtime's own words (a shape the graph's nodes refuse, …) reach the caller
            Refusal refusal = HostTensor.invalid("ONNX Runtime cannot run model '" + model.getName() + "': " + e.getMessage());
            calls.forEach(c -> c.done().completeExceptionally(refusal));
        } catch (RuntimeException | OutOfMemoryError e) {
            LOG.errorf(e, "running %s", model.getName());
            calls.forEach(c -> c.done().completeExceptionally(e));
        }
    }

    private void finish(Call call, List<HostTensor> out, long started, int batch) {
        inferences.incrementAndGet();
        lastUsedMillis = System.currentTimeMillis();
        call.done().complete(new Result(this, out, (System.nanoTime() - started) / 1000, (started - call.queuedNanos()) / 1000, batch));
    }

    private List<HostTensor> execute(List<HostTensor> given, List<String> wanted) throws OrtException {
        Map<String, OnnxTensor> feed = new LinkedHashMap<>();
        try {
            for (HostTensor t : given) {
                feed.put(t.name(), t.toOnnx(env));
            }
            try (OrtSession.Result result = session.run(feed, new LinkedHashSet<>(wanted))) {
                List<HostTensor> out = new ArrayList<>();
                for (String name : wanted) {
                    OnnxValue value = result.get(name).orElseThrow();
                    if (!(value instanceof OnnxTensor tensor)) {
                        throw HostTensor.invalid("output '" + name + "' is not a tensor; ask for other outputs");
                    }
                    out.add(HostTensor.fromOnnx(name, tensor));
                }
                return out;
            }
        } finally {
            feed.values().forEach(OnnxTensor::close);
        }
    }
}
