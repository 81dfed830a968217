package dev.bkg.gateway.api;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;


import dev.bkg.gateway.grpc.InferenceClient;
import dev.bkg.gateway.security.RequiresScope;
import dev.bkg.proto.inference.v1.CompactRequest;
import dev.bkg.proto.inference.v1.CreateCollectionRequest;
import dev.bkg.proto.inference.v1.DeleteDocumentsRequest;
import dev.bkg.proto.inference.v1.DropCollectionRequest;
import dev.bkg.proto.inference.v1.IndexDocumentsRequest;
import dev.bkg.proto.inference.v1.ListCollectionsRequest;
import dev.bkg.proto.inference.v1.QueryRequest;
import dev.bkg.proto.inference.v1.ReindexRequest;
import dev.bkg.proto.inference.v1.StatsRequest;
import dev.bkg.proto.inference.v1.TrainRequest;
import io.smallrye.mutiny.Uni;

/**
 * brainml, the semantic index, under {@code /api/brainml/collections}: bodies and answers are the
 * typed gRPC messages in their JSON form (camelCase fields; unknown fields are refused), the
 * collection always taken from the path.
 */
@Path("/api/brainml/collections")
@Produces(MediaType.APPLICATION_JSON)
public class BrainmlResource {

    private final InferenceClient inference;

    BrainmlResource(InferenceClient inference) {
        this.inference = inference;
    }

    @GET
    @RequiresScope("inference")
    public Uni<String> list() {
        return inference.brainml(s -> s.listCollections(ListCollectionsRequest.getDefaultInstance())).map(ProtoJson::print);
    }

    /** {"name", "embeddingModel"?} → 201 with the collection. */
    @POST
    @RequiresScope("inference")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<Response> create(String body) {
        CreateCollectionRequest request = ProtoJson.parse(body, CreateCollectionRequest.newBuilder()).build();
        return inference.brainml(s -> s.createCollection(request))
                .map(reply -> Response.status(201).entity(ProtoJson.print(reply.getCollection())).build());
    }

    @GET
    @Path("/{name}")
    @RequiresScope("inference")
    public Uni<String> stats(@PathParam("name") String name) {
        return inference.brainml(s -> s.stats(StatsRequest.newBuilder().setCollection(name).build()))
                .map(reply -> ProtoJson.print(reply.getStats()));
    }

    @DELETE
    @Path("/{name}")
    @RequiresScope("inference")
    public Uni<String> drop(@PathParam("name") String name) {
        return inference.brainml(s -> s.dropCollection(DropCollectionRequest.newBuilder().setCollection(name).build()))
                .map(ProtoJson::print);
    }

    /** {"documents": [{"id","text","metadata"?,"label"?}], "createCollection"?} */
    @POST
    @Path("/{name}/documents")
    @RequiresScope("inference")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<String> index(@PathParam("name") String name, String body) {
        IndexDocumentsRequest request = ProtoJson.parse(body, IndexDocumentsRequest.newBuilder()).setCollection(name).build();
        return inference.brainml(s -> s.indexDocuments(request)).map(ProtoJson::print);
    }

    /** {"ids": [...]} */
    @POST
    @Path("/{name}/documents/delete")
    @RequiresScope("inference")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<String> delete(@PathParam("name") String name, String body) {
        DeleteDocumentsRequest request = ProtoJson.parse(body, DeleteDocumentsRequest.newBuilder()).setCollection(name).build();
        return inference.brainml(s -> s.deleteDocuments(request)).map(ProtoJson::print);
    }

    /** {"text", "topK"?, "filter"?, "minScore"?} */
    @POST
    @Path("/{name}/query")
    @RequiresScope("inference")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<String> query(@PathParam("name") String name, String body) {
        QueryRequest request = ProtoJson.parse(body, QueryRequest.newBuilder()).setCollection(name).build();
        return inference.brainml(s -> s.query(request)).map(ProtoJson::print);
    }

    @POST
    @Path("/{name}/train")
    @RequiresScope("inference")
    public Uni<String> train(@PathParam("name") String name) {
        return inference.brainmlRebuild(s -> s.train(TrainRequest.newBuilder().setCollection(name).build())).map(ProtoJson::print);
    }

    @POST
    @Path("/{name}/compact")
    @RequiresScope("inference")
    public Uni<String> compact(@PathParam("name") String name) {
        return inference.brainmlRebuild(s -> s.compact(CompactRequest.newBuilder().setCollection(name).build()))
                .map(ProtoJson::print);
    }

    /** {"embeddingModel"?}: embeds every document again and rebuilds the index. */
    @POST
    @Path("/{name}/reindex")
    @RequiresScope("inference")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<String> reindex(@PathParam("name") String name, String body) {
        ReindexRequest request = ProtoJson.parse(body, ReindexRequest.newBuilder()).setCollection(name).build();
        return inference.brainmlRebuild(s -> s.reindex(request)).map(ProtoJson::print);
    }
}
