package dev.bkg.gateway.api;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import dev.bkg.gateway.grpc.InferenceClient;
import dev.bkg.gateway.security.RequiresScope;
import dev.bkg.proto.inference.v1.ListLoadedRequest;
import dev.bkg.proto.inference.v1.LoadModelRequest;
import dev.bkg.proto.inference.v1.QuantizeRequest;
import dev.bkg.proto.inference.v1.UnloadModelRequest;
import io.smallrye.mutiny.Uni;

/**
 * The model runner (plugin candle) under {@code /api/candle/models}, as Ollama's ps/load/unload:
 * what is loaded (memory, provider, expiry), load with a keep-alive, unload, and quantise a model
 * into a new int8 one with its size and accuracy report. Bodies and answers are the typed gRPC
 * messages in their JSON form; the model is always the one in the path (id or name). Running a
 * model is the Open Inference Protocol's {@code /v2/models/{name}/infer} ({@link OpenInferenceResource}).
 */
@Path("/api/candle/models")
@Produces(MediaType.APPLICATION_JSON)
public class CandleResource {

    private final InferenceClient inference;

    CandleResource(InferenceClient inference) {
        this.inference = inference;
    }

    @GET
    @RequiresScope("inference")
    public Uni<String> loaded() {
        return inference.candle(s -> s.listLoaded(ListLoadedRequest.getDefaultInstance())).map(ProtoJson::print);
    }

    /** {"keepAliveSeconds"?: 0 (the default) | -1 (until unloaded) | n, "provider"?: "CPU" | "CUDA"} */
    @POST
    @Path("/{model}/load")
    @RequiresScope("inference")
    @Consumes(MediaType.WILDCARD)
    public Uni<String> load(@PathParam("model") String model, String body) {
        LoadModelRequest request = ProtoJson.parse(body, LoadModelRequest.newBuilder()).setModelId(model).build();
        return inference.candle(s -> s.loadModel(request)).map(ProtoJson::print);
    }

    @POST
    @Path("/{model}/unload")
    @RequiresScope("inference")
    public Uni<String> unload(@PathParam("model") String model) {
        return inference.candle(s -> s.unloadModel(UnloadModelRequest.newBuilder().setModelId(model).build()))
                .map(ProtoJson::print);
    }

    /** {"name"?: the new model's name (default "<name>-int8"), "samples"?: inputs of the accuracy check (8)} */
    @POST
    @Path("/{model}/quantize")
    @RequiresScope("inference")
    @Consumes(MediaType.WILDCARD)
    public Uni<String> quantize(@PathParam("model") String model, String body) {
        QuantizeRequest request = ProtoJson.parse(body, QuantizeRequest.newBuilder()).setModelId(model).build();
        return inference.candleQuantize(s -> s.quantize(request)).map(ProtoJson::print);
    }
}
