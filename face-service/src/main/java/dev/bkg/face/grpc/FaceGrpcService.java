package dev.bkg.face.grpc;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import dev.bkg.face.domain.DetectedFace;
import dev.bkg.face.domain.FacePipeline;
import dev.bkg.face.domain.Gallery;
import dev.bkg.face.domain.Refusal;
import dev.bkg.proto.face.v1.AddSubjectFaceRequest;
import dev.bkg.proto.face.v1.AddSubjectFaceResponse;
import dev.bkg.proto.face.v1.AddSubjectRequest;
import dev.bkg.proto.face.v1.AddSubjectResponse;
import dev.bkg.proto.face.v1.Box;
import dev.bkg.proto.face.v1.DeleteFaceRequest;
import dev.bkg.proto.face.v1.DeleteFaceResponse;
import dev.bkg.proto.face.v1.DeleteSubjectRequest;
import dev.bkg.proto.face.v1.DeleteSubjectResponse;
import dev.bkg.proto.face.v1.DetectRequest;
import dev.bkg.proto.face.v1.DetectResponse;
import dev.bkg.proto.face.v1.EmbedRequest;
import dev.bkg.proto.face.v1.EmbedResponse;
import dev.bkg.proto.face.v1.Face;
import dev.bkg.proto.face.v1.FaceEmbedding;
import dev.bkg.proto.face.v1.ListSubjectFacesRequest;
import dev.bkg.proto.face.v1.ListSubjectFacesResponse;
import dev.bkg.proto.face.v1.ListSubjectsRequest;
import dev.bkg.proto.face.v1.ListSubjectsResponse;
import dev.bkg.proto.face.v1.Match;
import dev.bkg.proto.face.v1.MutinyFaceServiceGrpc;
import dev.bkg.proto.face.v1.Point;
import dev.bkg.proto.face.v1.RecognizeRequest;
import dev.bkg.proto.face.v1.RecognizeResponse;
import dev.bkg.proto.face.v1.RecognizedFace;
import dev.bkg.proto.face.v1.RenameSubjectRequest;
import dev.bkg.proto.face.v1.RenameSubjectResponse;
import dev.bkg.proto.face.v1.StoredFace;
import dev.bkg.proto.face.v1.Subject;
import dev.bkg.proto.face.v1.Timings;
import dev.bkg.proto.face.v1.VerifyRequest;
import dev.bkg.proto.face.v1.VerifyResponse;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;

/**
 * The typed face API (bkg.face.v1.FaceService): images decoded, faces found, aligned and embedded
 * by {@link FacePipeline}, matched against the {@link Gallery}. Every call is blocking work
 * (ONNX Runtime, the database) and runs on a worker thread.
 */
@GrpcService
@Blocking
public class FaceGrpcService extends MutinyFaceServiceGrpc.FaceServiceImplBase {

    private final FacePipeline pipeline;
    private final Gallery gallery;

    FaceGrpcService(FacePipeline pipeline, Gallery gallery) {
        this.pipeline = pipeline;
        this.gallery = gallery;
    }

    @Override
    public Uni<DetectResponse> detect(DetectRequest request) {
        return call(() -> {
            FacePipeline.Detection detection = pipeline.detect(image(request.getImage()), new FacePipeline.Options(
                    request.getDetector(), request.getMinConfidence(), request.getMaxFaces()));
            DetectResponse.Builder reply = DetectResponse.newBuilder().setImageWidth(detection.image().width())
                    .setImageHeight(detection.image().height()).setDetector(detection.detector())
                    .setDurationMs(Math.round(detection.timings().values().stream().mapToDouble(d -> d).sum()));
            detection.faces().forEach(f -> reply.addFaces(face(f)));
            if (request.getTimings()) {
                reply.setTimings(timings(detection.timings()));
            }
            return reply.build();
        });
    }

    @Override
    public Uni<EmbedResponse> embed(EmbedRequest request) {
        return call(() -> {
            FacePipeline.Options options = new FacePipeline.Options(request.getDetector(), request.getMinConfidence(),
                    request.getMaxFaces());
            EmbedResponse.Builder reply = EmbedResponse.newBuilder()
                    .setModel(pipeline.models().embedder().name()).setDimensions(pipeline.models().embedder().dimensions());
            if (request.hasBox()) {
                Box box = request.getBox();
                FacePipeline.Embedded one = pipeline.embedRegion(image(request.getImage()), box.getX(), box.getY(),
                        box.getWidth(), box.getHeight(), options);
                reply.addEmbeddings(embedding(one));
            } else {
                FacePipeline.Detection detection = pipeline.detect(image(request.getImage()), options);
                pipeline.embed(detection).forEach(e -> reply.addEmbeddings(embedding(e)));
                reply.setImageWidth(detection.image().width()).setImageHeight(detection.image().height());
                if (request.getTimings()) {
                    reply.setTimings(timings(detection.timings()));
                }
            }
            return reply.build();
        });
    }

    @Override
    public Uni<RecognizeResponse> recognize(RecognizeRequest request) {
        return call(() -> {
            int wanted = request.getTopK() == 0 ? 1 : request.getTopK();
            if (wanted < 0 || wanted > pipeline.settings().maxFaces()) {
                throw new Refusal(Refusal.Reason.INVALID, "prediction_count (top_k) must be between 1 and "
                        + pipeline.settings().maxFaces() + "; was " + request.getTopK());
            }
            float threshold = threshold(request.getThreshold());
            FacePipeline.Detection detection = pipeline.detect(image(request.getImage()), new FacePipeline.Options(
                    request.getDetector(), request.getMinConfidence(), request.getMaxFaces()));
            List<FacePipeline.Embedded> embedded = pipeline.embed(detection);
            long started = System.nanoTime();
            RecognizeResponse.Builder reply = RecognizeResponse.newBuilder().setThreshold(threshold)
                    .setImageWidth(detection.image().width()).setImageHeight(detection.image().height());
            for (FacePipeline.Embedded e : embedded) {
                RecognizedFace.Builder face = RecognizedFace.newBuilder().setFace(face(e.face()));
                gallery.recognise(e.vector(), wanted, threshold).forEach(m -> face.addMatches(Match.newBuilder()
                        .setSubject(m.subject()).setSimilarity(m.similarity())));
                reply.addFaces(face);
            }
            FacePipeline.lap(detection.timings(), "search", started);
            if (request.getTimings()) {
                reply.setTimings(timings(detection.timings()));
            }
            return reply.build();
        });
    }

    @Override
    public Uni<VerifyResponse> verify(VerifyRequest request) {
        return call(() -> {
            float threshold = threshold(request.getThreshold());
            FacePipeline.Options options = new FacePipeline.Options(request.getDetector(), request.getMinConfidence(), 0);
            FacePipeline.Detection a = pipeline.detect(image(request.getImageA()), options);
            FacePipeline.Embedded faceA = pipeline.embedLargest(a);
            FacePipeline.Detection b = pipeline.detect(image(request.getImageB()), options);
            FacePipeline.Embedded faceB = pipeline.embedLargest(b);
            float similarity = 0;
            for (int i = 0; i < faceA.vector().length; i++) {
                similarity += faceA.vector()[i] * faceB.vector()[i];
            }
            VerifyResponse.Builder reply = VerifyResponse.newBuilder().setSimilarity(similarity)
                    .setSamePerson(similarity >= threshold).setThreshold(threshold).setFaceA(face(faceA.face()))
                    .setFaceB(face(faceB.face()));
            if (request.getTimings()) {
                Map<String, Double> both = new java.util.LinkedHashMap<>(a.timings());
                b.timings().forEach((stage, ms) -> both.merge(stage, ms, Double::sum));
                reply.setTimings(timings(both));
            }
            return reply.build();
        });
    }

    @Override
    public Uni<AddSubjectResponse> addSubject(AddSubjectRequest request) {
        return call(() -> AddSubjectResponse.newBuilder().setSubject(subject(gallery.createSubject(request.getName()))).build());
    }

    @Override
    public Uni<ListSubjectsResponse> listSubjects(ListSubjectsRequest request) {
        return call(() -> {
            ListSubjectsResponse.Builder reply = ListSubjectsResponse.newBuilder();
            gallery.subjects().forEach(s -> reply.addSubjects(subject(s)));
            return reply.build();
        });
    }

    @Override
    public Uni<RenameSubjectResponse> renameSubject(RenameSubjectRequest request) {
        return call(() -> RenameSubjectResponse.newBuilder()
                .setSubject(subject(gallery.renameSubject(request.getName(), request.getNewName()))).build());
    }

    @Override
    public Uni<DeleteSubjectResponse> deleteSubject(DeleteSubjectRequest request) {
        return call(() -> DeleteSubjectResponse.newBuilder().setDeletedFaces((int) gallery.deleteSubject(request.getName()))
                .build());
    }

    @Override
    public Uni<AddSubjectFaceResponse> addSubjectFace(AddSubjectFaceRequest request) {
        return call(() -> {
            byte[] bytes = image(request.getImage());
            FacePipeline.Options options = new FacePipeline.Options(request.getDetector(), request.getMinConfidence(), 0);
            gallery.subject(request.getSubject()); // an unknown subject is refused before any model runs
            FacePipeline.Embedded face;
            if (request.hasBox()) {
                Box box = request.getBox();
                face = pipeline.embedRegion(bytes, box.getX(), box.getY(), box.getWidth(), box.getHeight(), options);
            } else {
                face = pipeline.embedLargest(pipeline.detect(bytes, options));
            }
            Gallery.StoredFace stored = gallery.enrol(request.getSubject(), face, bytes);
            return AddSubjectFaceResponse.newBuilder().setFaceId(stored.id()).setSubject(subject(gallery.subject(stored.subject())))
                    .setFace(face(face.face())).build();
        });
    }

    @Override
    public Uni<ListSubjectFacesResponse> listSubjectFaces(ListSubjectFacesRequest request) {
        return call(() -> {
            ListSubjectFacesResponse.Builder reply = ListSubjectFacesResponse.newBuilder();
            for (Gallery.StoredFace f : gallery.faces(request.getSubject())) {
                reply.addFaces(StoredFace.newBuilder().setFaceId(f.id()).setSubject(f.subject())
                        .setBox(Box.newBuilder().setX(f.x()).setY(f.y()).setWidth(f.width()).setHeight(f.height()))
                        .setSourceSha256(f.sourceSha256()).setCreatedEpochMs(f.created().toEpochMilli())
                        .setImageStored(f.imageStored()));
            }
            return reply.build();
        });
    }

    @Override
    public Uni<DeleteFaceResponse> deleteFace(DeleteFaceRequest request) {
        return call(() -> DeleteFaceResponse.newBuilder().setSubject(gallery.deleteFace(request.getFaceId())).build());
    }

    private float threshold(float requested) {
        if (requested < -1 || requested > 1 || Float.isNaN(requested)) {
            throw new Refusal(Refusal.Reason.INVALID, "the similarity threshold must be between -1 and 1; was " + requested);
        }
        return requested == 0 ? pipeline.settings().similarityThreshold() : requested;
    }

    private static byte[] image(dev.bkg.proto.face.v1.Image image) {
        if (image.getData().isEmpty()) {
            throw new Refusal(Refusal.Reason.INVALID, "an image is needed");
        }
        return image.getData().toByteArray();
    }

    static Face face(DetectedFace f) {
        Face.Builder face = Face.newBuilder().setScore(f.score())
                .setBox(Box.newBuilder().setX(f.x()).setY(f.y()).setWidth(f.width()).setHeight(f.height()));
        for (int i = 0; i + 1 < f.landmarks().length; i += 2) {
            face.addLandmarks(Point.newBuilder().setX(f.landmarks()[i]).setY(f.landmarks()[i + 1]));
        }
        return face.build();
    }

    private static FaceEmbedding embedding(FacePipeline.Embedded e) {
        FaceEmbedding.Builder out = FaceEmbedding.newBuilder().setFace(face(e.face()));
        for (float v : e.vector()) {
            out.addValues(v);
        }
        return out.build();
    }

    private static Subject subject(Gallery.Subject s) {
        return Subject.newBuilder().setName(s.name()).setFaceCount(s.faceCount()).setCreatedEpochMs(s.created().toEpochMilli())
                .build();
    }

    private static Timings timings(Map<String, Double> stages) {
        return Timings.newBuilder().putAllStagesMs(stages).build();
    }

    private static <T> Uni<T> call(Supplier<T> work) {
        try {
            return Uni.createFrom().item(work.get());
        } catch (RuntimeException e) {
            return Uni.createFrom().failure(Statuses.of(e));
        }
    }
}
