package dev.bkg.gateway.api;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;

import org.jboss.resteasy.reactive.RestForm;
import org.jboss.resteasy.reactive.multipart.FileUpload;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.bkg.gateway.grpc.FaceClient;
import dev.bkg.gateway.security.RequiresScope;
import dev.bkg.proto.face.v1.AddSubjectFaceRequest;
import dev.bkg.proto.face.v1.AddSubjectRequest;
import dev.bkg.proto.face.v1.Box;
import dev.bkg.proto.face.v1.DeleteFaceRequest;
import dev.bkg.proto.face.v1.DeleteSubjectRequest;
import dev.bkg.proto.face.v1.DetectRequest;
import dev.bkg.proto.face.v1.EmbedRequest;
import dev.bkg.proto.face.v1.Image;
import dev.bkg.proto.face.v1.ListSubjectFacesRequest;
import dev.bkg.proto.face.v1.ListSubjectsRequest;
import dev.bkg.proto.face.v1.RecognizeRequest;
import dev.bkg.proto.face.v1.RenameSubjectRequest;
import dev.bkg.proto.face.v1.StoredFace;
import dev.bkg.proto.face.v1.VerifyRequest;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;

/**
 * Faces over REST (scope {@code face}) on face-service's typed gRPC API: detect, embed, recognize,
 * verify, and the subjects faces are enrolled under. Each image route takes the photo as a
 * multipart part ({@code file}; verify: {@code source_image}, {@code target_image}) or as base64 in
 * JSON ({@code image}; verify: {@code source_image}, {@code target_image}); options as JSON fields
 * or query parameters: {@code detector} (auto, front, back), {@code det_prob_threshold},
 * {@code limit}, {@code prediction_count}, {@code threshold}, {@code status} (per-stage timings), a
 * box as {@code box} or {@code box_x}/{@code box_y}/{@code box_width}/{@code box_height}.
 */
@Path("/api/face")
@Produces(MediaType.APPLICATION_JSON)
@RequiresScope("face")
@Blocking // images are read from uploads and decoded from base64: worker threads, never the event loop
public class FaceResource {

    private final FaceClient faces;
    private final ObjectMapper json;

    FaceResource(FaceClient faces, ObjectMapper json) {
        this.faces = faces;
        this.json = json;
    }

    @POST
    @Path("/detect")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<ObjectNode> detect(JsonNode body, @Context UriInfo uri) {
        FaceInput input = new FaceInput(body, uri.getQueryParameters());
        return detect(input.image("image"), input);
    }

    @POST
    @Path("/detect")
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    public Uni<ObjectNode> detectUpload(@RestForm("file") FileUpload file, @Context UriInfo uri) {
        return detect(FaceInput.image(file, "file"), new FaceInput(null, uri.getQueryParameters()));
    }

    private Uni<ObjectNode> detect(Image image, FaceInput input) {
        DetectRequest request = detectRequest(image, input);
        return faces.call(s -> s.detect(request)).map(reply -> {
            ObjectNode out = json.createObjectNode();
            out.set("image", FaceViews.image(reply.getImageWidth(), reply.getImageHeight()));
            out.put("detector", reply.getDetector());
            ArrayNode list = out.putArray("faces");
            reply.getFacesList().forEach(f -> list.add(FaceViews.face(f)));
            out.set("timings", FaceViews.timings(reply.getTimings()));
            return out;
        });
    }

    @POST
    @Path("/embed")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<ObjectNode> embed(JsonNode body, @Context UriInfo uri) {
        FaceInput input = new FaceInput(body, uri.getQueryParameters());
        return embed(input.image("image"), input);
    }

    @POST
    @Path("/embed")
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    public Uni<ObjectNode> embedUpload(@RestForm("file") FileUpload file, @Context UriInfo uri) {
        return embed(FaceInput.image(file, "file"), new FaceInput(null, uri.getQueryParameters()));
    }

    private Uni<ObjectNode> embed(Image image, FaceInput input) {
        EmbedRequest.Builder request = EmbedRequest.newBuilder().setImage(image).setDetector(text(input, "detector"))
                .setMinConfidence(input.number("det_prob_threshold", 0)).setMaxFaces(input.integer("limit", 0))
                .setTimings(input.flag("status"));
        Box box = input.box();
        if (box != null) {
            request.setBox(box);
        }
        return faces.call(s -> s.embed(request.build())).map(reply -> {
            ObjectNode out = json.createObjectNode().put("model", reply.getModel()).put("dimensions", reply.getDimensions());
            ArrayNode list = out.putArray("embeddings");
            reply.getEmbeddingsList().forEach(e -> {
                ObjectNode item = list.addObject();
                item.set("face", FaceViews.face(e.getFace()));
                ArrayNode values = item.putArray("embedding");
                e.getValuesList().forEach(values::add);
            });
            out.set("timings", FaceViews.timings(reply.getTimings()));
            return out;
        });
    }

    @POST
    @Path("/recognize")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<ObjectNode> recognize(JsonNode body, @Context UriInfo uri) {
        FaceInput input = new FaceInput(body, uri.getQueryParameters());
        return recognize(input.image("image"), input);
    }

    @POST
    @Path("/recognize")
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    public Uni<ObjectNode> recognizeUpload(@RestForm("file") FileUpload file, @Context UriInfo uri) {
        return recognize(FaceInput.image(file, "file"), new FaceInput(null, uri.getQueryParameters()));
    }

    private Uni<ObjectNode> recognize(Image image, FaceInput input) {
        RecognizeRequest request = recognizeRequest(image, input);
        return faces.call(s -> s.recognize(request)).map(reply -> {
            ObjectNode out = json.createObjectNode();
            out.set("image", FaceViews.image(reply.getImageWidth(), reply.getImageHeight()));
            out.put("threshold", reply.getThreshold());
            ArrayNode list = out.putArray("faces");
            reply.getFacesList().forEach(f -> {
                ObjectNode item = list.addObject();
                item.set("face", FaceViews.face(f.getFace()));
                ArrayNode matches = item.putArray("matches");
                f.getMatchesList().forEach(m -> matches.addObject().put("subject", m.getSubject()).put("similarity", m.getSimilarity()));
            });
            out.set("timings", FaceViews.timings(reply.getTimings()));
            return out;
        });
    }

    static DetectRequest detectRequest(Image image, FaceInput input) {
        return DetectRequest.newBuilder().setImage(image).setDetector(text(input, "detector"))
                .setMinConfidence(input.number("det_prob_threshold", 0)).setMaxFaces(input.integer("limit", 0))
                .setTimings(input.flag("status")).build();
    }

    static RecognizeRequest recognizeRequest(Image image, FaceInput input) {
        return RecognizeRequest.newBuilder().setImage(image).setDetector(text(input, "detector"))
                .setMinConfidence(input.number("det_prob_threshold", 0)).setMaxFaces(input.integer("limit", 0))
                .setTopK(input.integer("prediction_count", 1)).setThreshold(input.number("threshold", 0))
                .setTimings(input.flag("status")).build();
    }

    @POST
    @Path("/verify")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<ObjectNode> verify(JsonNode body, @Context UriInfo uri) {
        FaceInput input = new FaceInput(body, uri.getQueryParameters());
        return verify(input.image("source_image"), input.image("target_image"), input);
    }

    @POST
    @Path("/verify")
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    public Uni<ObjectNode> verifyUpload(@RestForm("source_image") FileUpload source, @RestForm("target_image") FileUpload target,
            @Context UriInfo uri) {
        return verify(FaceInput.image(source, "source_image"), FaceInput.image(target, "target_image"),
                new FaceInput(null, uri.getQueryParameters()));
    }

    private Uni<ObjectNode> verify(Image source, Image target, FaceInput input) {
        VerifyRequest request = verifyRequest(source, target, input);
        return faces.call(s -> s.verify(request)).map(reply -> {
            ObjectNode out = json.createObjectNode().put("similarity", reply.getSimilarity())
                    .put("same_person", reply.getSamePerson()).put("threshold", reply.getThreshold());
            out.set("source_face", FaceViews.face(reply.getFaceA()));
            out.set("target_face", FaceViews.face(reply.getFaceB()));
            out.set("timings", FaceViews.timings(reply.getTimings()));
            return out;
        });
    }

    static VerifyRequest verifyRequest(Image source, Image target, FaceInput input) {
        return VerifyRequest.newBuilder().setImageA(source).setImageB(target).setDetector(text(input, "detector"))
                .setMinConfidence(input.number("det_prob_threshold", 0)).setThreshold(input.number("threshold", 0))
                .setTimings(input.flag("status")).build();
    }

    @GET
    @Path("/subjects")
    public Uni<ObjectNode> subjects() {
        return faces.call(s -> s.listSubjects(ListSubjectsRequest.getDefaultInstance())).map(reply -> {
            ObjectNode out = json.createObjectNode();
            ArrayNode list = out.putArray("subjects");
            reply.getSubjectsList().forEach(subject -> list.add(FaceViews.subject(subject)));
            return out;
        });
    }

    @POST
    @Path("/subjects")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<Response> createSubject(JsonNode body) {
        String name = name(body, "name");
        return faces.call(s -> s.addSubject(AddSubjectRequest.newBuilder().setName(name).build()))
                .map(reply -> Response.status(201).entity(FaceViews.subject(reply.getSubject())).build());
    }

    @PUT
    @Path("/subjects/{name}")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<ObjectNode> renameSubject(@PathParam("name") String name, JsonNode body) {
        String newName = name(body, "name");
        return faces.call(s -> s.renameSubject(RenameSubjectRequest.newBuilder().setName(name).setNewName(newName).build()))
                .map(reply -> FaceViews.subject(reply.getSubject()));
    }

    @DELETE
    @Path("/subjects/{name}")
    public Uni<ObjectNode> deleteSubject(@PathParam("name") String name) {
        return faces.call(s -> s.deleteSubject(DeleteSubjectRequest.newBuilder().setName(name).build()))
                .map(reply -> json.createObjectNode().put("deleted_faces", reply.getDeletedFaces()));
    }

    @POST
    @Path("/subjects/{name}/faces")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<Response> enrol(@PathParam("name") String name, JsonNode body, @Context UriInfo uri) {
        FaceInput input = new FaceInput(body, uri.getQueryParameters());
        return enrol(name, input.image("image"), input);
    }

    @POST
    @Path("/subjects/{name}/faces")
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    public Uni<Response> enrolUpload(@PathParam("name") String name, @RestForm("file") FileUpload file, @Context UriInfo uri) {
        return enrol(name, FaceInput.image(file, "file"), new FaceInput(null, uri.getQueryParameters()));
    }

    private Uni<Response> enrol(String name, Image image, FaceInput input) {
        AddSubjectFaceRequest.Builder request = AddSubjectFaceRequest.newBuilder().setSubject(name).setImage(image)
                .setDetector(text(input, "detector")).setMinConfidence(input.number("det_prob_threshold", 0));
        Box box = input.box();
        if (box != null) {
            request.setBox(box);
        }
        return faces.call(s -> s.addSubjectFace(request.build())).map(reply -> {
            ObjectNode out = json.createObjectNode().put("face_id", reply.getFaceId());
            out.set("subject", FaceViews.subject(reply.getSubject()));
            out.set("face", FaceViews.face(reply.getFace()));
            return Response.status(201).entity(out).build();
        });
    }

    @GET
    @Path("/subjects/{name}/faces")
    public Uni<ObjectNode> faces(@PathParam("name") String name) {
        return faces.call(s -> s.listSubjectFaces(ListSubjectFacesRequest.newBuilder().setSubject(name).build())).map(reply -> {
            ObjectNode out = json.createObjectNode();
            ArrayNode list = out.putArray("faces");
            for (StoredFace f : reply.getFacesList()) {
                ObjectNode item = list.addObject().put("face_id", f.getFaceId());
                item.putObject("box").put("x", f.getBox().getX()).put("y", f.getBox().getY())
                        .put("width", f.getBox().getWidth()).put("height", f.getBox().getHeight());
                item.put("created", java.time.Instant.ofEpochMilli(f.getCreatedEpochMs()).toString())
                        .put("source_sha256", f.getSourceSha256()).put("image_stored", f.getImageStored());
            }
            return out;
        });
    }

    @DELETE
    @Path("/faces/{faceId}")
    public Uni<Response> deleteFace(@PathParam("faceId") String faceId) {
        return faces.call(s -> s.deleteFace(DeleteFaceRequest.newBuilder().setFaceId(faceId).build()))
                .map(reply -> Response.noContent().build());
    }

    static String text(FaceInput input, String name) {
        String value = input.text(name);
        return value == null ? "" : value;
    }

    private static String name(JsonNode body, String field) {
        if (body == null || !body.isObject() || !body.path(field).isTextual()) {
            throw ProblemException.badRequest("the body must be {\"" + field + "\": \"<subject name>\"}");
        }
        return body.get(field).asText();
    }
}
