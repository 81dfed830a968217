package dev.bkg.gateway.api;

import java.util.List;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
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
import dev.bkg.proto.face.v1.DeleteFaceRequest;
import dev.bkg.proto.face.v1.DeleteSubjectRequest;
import dev.bkg.proto.face.v1.DetectRequest;
import dev.bkg.proto.face.v1.Face;
import dev.bkg.proto.face.v1.Image;
import dev.bkg.proto.face.v1.ListSubjectFacesRequest;
import dev.bkg.proto.face.v1.ListSubjectsRequest;
import dev.bkg.proto.face.v1.RenameSubjectRequest;
import dev.bkg.proto.face.v1.Timings;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;

/**
 * CompreFace's REST routes and shapes on the same face-service, so that its users can point their
 * clients here: detection, recognition (subjects and their example faces), verification; the key
 * in {@code x-api-key} (scope face); images as multipart {@code file} (verify: {@code source_image},
 * {@code target_image}) or JSON base64 {@code {"file": …}}; {@code limit}, {@code det_prob_threshold},
 * {@code prediction_count} and {@code status=true} (timings as {@code execution_time}) in the query.
 * As in CompreFace, adding a face to an unknown subject creates it, and no face in an image is a 400.
 * Errors are problem+json like the rest of the API (CompreFace clients read the status code).
 */
@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
@RequiresScope("face")
@Blocking // images are read from uploads and decoded from base64: worker threads, never the event loop
public class CompreFaceResource {

    private final FaceClient faces;
    private final ObjectMapper json;

    CompreFaceResource(FaceClient faces, ObjectMapper json) {
        this.faces = faces;
        this.json = json;
    }

    // detection

    @POST
    @Path("/detection/detect")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<ObjectNode> detect(JsonNode body, @Context UriInfo uri) {
        FaceInput input = new FaceInput(body, uri.getQueryParameters());
        return detect(input.image("file"), input);
    }

    @POST
    @Path("/detection/detect")
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    public Uni<ObjectNode> detectUpload(@RestForm("file") FileUpload file, @Context UriInfo uri) {
        return detect(FaceInput.image(file, "file"), new FaceInput(null, uri.getQueryParameters()));
    }

    private Uni<ObjectNode> detect(Image image, FaceInput input) {
        DetectRequest request = FaceResource.detectRequest(image, input);
        return noFaceIsBadRequest(faces.call(s -> s.detect(request))).map(reply -> {
            ObjectNode out = json.createObjectNode();
            ArrayNode result = out.putArray("result");
            reply.getFacesList().forEach(f -> result.add(face(f, reply.getTimings())));
            return out;
        });
    }

    // recognition

    @POST
    @Path("/recognition/recognize")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<ObjectNode> recognize(JsonNode body, @Context UriInfo uri) {
        FaceInput input = new FaceInput(body, uri.getQueryParameters());
        return recognize(input.image("file"), input);
    }

    @POST
    @Path("/recognition/recognize")
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    public Uni<ObjectNode> recognizeUpload(@RestForm("file") FileUpload file, @Context UriInfo uri) {
        return recognize(FaceInput.image(file, "file"), new FaceInput(null, uri.getQueryParameters()));
    }

    private Uni<ObjectNode> recognize(Image image, FaceInput input) {
        var request = FaceResource.recognizeRequest(image, input);
        return noFaceIsBadRequest(faces.call(s -> s.recognize(request))).map(reply -> {
            ObjectNode out = json.createObjectNode();
            ArrayNode result = out.putArray("result");
            reply.getFacesList().forEach(f -> {
                ObjectNode item = face(f.getFace(), reply.getTimings());
                ArrayNode subjects = item.putArray("subjects");
                f.getMatchesList().forEach(m -> subjects.addObject().put("subject", m.getSubject()).put("similarity",
                        m.getSimilarity()));
                result.add(item);
            });
            return out;
        });
    }

    @GET
    @Path("/recognition/subjects")
    public Uni<ObjectNode> subjects() {
        return faces.call(s -> s.listSubjects(ListSubjectsRequest.getDefaultInstance())).map(reply -> {
            ObjectNode out = json.createObjectNode();
            ArrayNode names = out.putArray("subjects");
            reply.getSubjectsList().forEach(subject -> names.add(subject.getName()));
            return out;
        });
    }

    @POST
    @Path("/recognition/subjects")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<Response> addSubject(JsonNode body) {
        String name = subjectIn(body);
        return faces.call(s -> s.addSubject(AddSubjectRequest.newBuilder().setName(name).build())).map(reply -> Response
                .status(201).entity(json.createObjectNode().put("subject", reply.getSubject().getName())).build());
    }

    @PUT
    @Path("/recognition/subjects/{subject}")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<ObjectNode> renameSubject(@PathParam("subject") String subject, JsonNode body) {
        String newName = subjectIn(body);
        return faces.call(s -> s.renameSubject(RenameSubjectRequest.newBuilder().setName(subject).setNewName(newName).build()))
                .map(reply -> json.createObjectNode().put("updated", true));
    }

    @DELETE
    @Path("/recognition/subjects/{subject}")
    public Uni<ObjectNode> deleteSubject(@PathParam("subject") String subject) {
        return faces.call(s -> s.deleteSubject(DeleteSubjectRequest.newBuilder().setName(subject).build()))
                .map(reply -> json.createObjectNode().put("subject", subject));
    }

    @POST
    @Path("/recognition/faces")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<ObjectNode> addFace(@QueryParam("subject") String subject, JsonNode body, @Context UriInfo uri) {
        FaceInput input = new FaceInput(body, uri.getQueryParameters());
        return addFace(subject, input.image("file"), input);
    }

    @POST
    @Path("/recognition/faces")
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    public Uni<ObjectNode> addFaceUpload(@QueryParam("subject") String subject, @RestForm("file") FileUpload file,
            @Context UriInfo uri) {
        return addFace(subject, FaceInput.image(file, "file"), new FaceInput(null, uri.getQueryParameters()));
    }

    private Uni<ObjectNode> addFace(String subject, Image image, FaceInput input) {
        if (subject == null || subject.isBlank()) {
            throw ProblemException.badRequest("the query parameter subject is needed");
        }
        AddSubjectFaceRequest request = AddSubjectFaceRequest.newBuilder().setSubject(subject).setImage(image)
                .setMinConfidence(input.number("det_prob_threshold", 0)).build();
        // CompreFace creates the subject with its first face: create it unless it exists, then add
        Uni<Void> subjectExists = faces.call(s -> s.addSubject(AddSubjectRequest.newBuilder().setName(subject).build()))
                .replaceWithVoid().onFailure(ProblemException.class).recoverWithUni(e -> ((ProblemException) e).status() == 409
                        ? Uni.createFrom().voidItem() : Uni.createFrom().failure(e));
        return noFaceIsBadRequest(subjectExists.chain(() -> faces.call(s -> s.addSubjectFace(request))))
                .map(reply -> json.createObjectNode().put("image_id", reply.getFaceId()).put("subject", subject));
    }

    @GET
    @Path("/recognition/faces")
    public Uni<ObjectNode> listFaces(@QueryParam("subject") String subject) {
        Uni<List<String>> names = subject == null || subject.isBlank()
                ? faces.call(s -> s.listSubjects(ListSubjectsRequest.getDefaultInstance()))
                        .map(reply -> reply.getSubjectsList().stream().map(x -> x.getName()).toList())
                : Uni.createFrom().item(List.of(subject));
        return names.chain(list -> io.smallrye.mutiny.Multi.createFrom().iterable(list)
                .onItem().transformToUniAndConcatenate(name -> faces.call(s -> s.listSubjectFaces(
                        ListSubjectFacesRequest.newBuilder().setSubject(name).build())))
                .collect().asList()).map(replies -> {
                    ObjectNode out = json.createObjectNode();
                    ArrayNode list = out.putArray("faces");
                    replies.forEach(reply -> reply.getFacesList().forEach(f -> list.addObject().put("image_id", f.getFaceId())
                            .put("subject", f.getSubject())));
                    out.put("total_elements", list.size());
                    return out;
                });
    }

    @DELETE
    @Path("/recognition/faces/{imageId}")
    public Uni<ObjectNode> deleteFace(@PathParam("imageId") String imageId) {
        return faces.call(s -> s.deleteFace(DeleteFaceRequest.newBuilder().setFaceId(imageId).build()))
                .map(reply -> json.createObjectNode().put("image_id", imageId).put("subject", reply.getSubject()));
    }

    // verification

    @POST
    @Path("/verification/verify")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<ObjectNode> verify(JsonNode body, @Context UriInfo uri) {
        FaceInput input = new FaceInput(body, uri.getQueryParameters());
        return verify(input.image("source_image"), input.image("target_image"), input);
    }

    @POST
    @Path("/verification/verify")
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    public Uni<ObjectNode> verifyUpload(@RestForm("source_image") FileUpload source, @RestForm("target_image") FileUpload target,
            @Context UriInfo uri) {
        return verify(FaceInput.image(source, "source_image"), FaceInput.image(target, "target_image"),
                new FaceInput(null, uri.getQueryParameters()));
    }

    private Uni<ObjectNode> verify(Image source, Image target, FaceInput input) {
        var request = FaceResource.verifyRequest(source, target, input);
        return noFaceIsBadRequest(faces.call(s -> s.verify(request))).map(reply -> {
            ObjectNode out = json.createObjectNode();
            ObjectNode item = out.putArray("result").addObject();
            item.set("source_image_face", face(reply.getFaceA(), reply.getTimings()));
            ObjectNode match = face(reply.getFaceB(), Timings.getDefaultInstance());
            match.put("similarity", reply.getSimilarity());
            item.putArray("face_matches").add(match);
            return out;
        });
    }

    /** A face as CompreFace draws it: box corners with the probability, landmarks as [x, y] pairs. */
    private ObjectNode face(Face face, Timings timings) {
        ObjectNode out = json.createObjectNode();
        out.putObject("box").put("probability", face.getScore())
                .put("x_min", Math.round(face.getBox().getX())).put("y_min", Math.round(face.getBox().getY()))
                .put("x_max", Math.round(face.getBox().getX() + face.getBox().getWidth()))
                .put("y_max", Math.round(face.getBox().getY() + face.getBox().getHeight()));
        ArrayNode landmarks = out.putArray("landmarks");
        face.getLandmarksList().forEach(p -> landmarks.addArray().add(Math.round(p.getX())).add(Math.round(p.getY())));
        ObjectNode times = FaceViews.timings(timings);
        if (times != null) {
            out.set("execution_time", times);
        }
        return out;
    }

    private static String subjectIn(JsonNode body) {
        if (body == null || !body.isObject() || !body.path("subject").isTextual()) {
            throw ProblemException.badRequest("the body must be {\"subject\": \"<name>\"}");
        }
        return body.get("subject").asText();
    }

    /** CompreFace answers 400 "No face is found in the given image" where /api/face answers 409. */
    private static <T> Uni<T> noFaceIsBadRequest(Uni<T> call) {
        return call.onFailure(ProblemException.class).transform(e -> ((ProblemException) e).status() == 409
                && String.valueOf(e.getMessage()).contains("no face found")
                ? ProblemException.badRequest("No face is found in the given image") : e);
    }
}
