package dev.bkg.gateway.grpc;

import dev.bkg.gateway.security.GrpcCallers;
import dev.bkg.proto.face.v1.AddSubjectFaceRequest;
import dev.bkg.proto.face.v1.AddSubjectFaceResponse;
import dev.bkg.proto.face.v1.AddSubjectRequest;
import dev.bkg.proto.face.v1.AddSubjectResponse;
import dev.bkg.proto.face.v1.DeleteFaceRequest;
import dev.bkg.proto.face.v1.DeleteFaceResponse;
import dev.bkg.proto.face.v1.DeleteSubjectRequest;
import dev.bkg.proto.face.v1.DeleteSubjectResponse;
import dev.bkg.proto.face.v1.DetectRequest;
import dev.bkg.proto.face.v1.DetectResponse;
import dev.bkg.proto.face.v1.EmbedRequest;
import dev.bkg.proto.face.v1.EmbedResponse;
import dev.bkg.proto.face.v1.ListSubjectFacesRequest;
import dev.bkg.proto.face.v1.ListSubjectFacesResponse;
import dev.bkg.proto.face.v1.ListSubjectsRequest;
import dev.bkg.proto.face.v1.ListSubjectsResponse;
import dev.bkg.proto.face.v1.MutinyFaceServiceGrpc;
import dev.bkg.proto.face.v1.RecognizeRequest;
import dev.bkg.proto.face.v1.RecognizeResponse;
import dev.bkg.proto.face.v1.RenameSubjectRequest;
import dev.bkg.proto.face.v1.RenameSubjectResponse;
import dev.bkg.proto.face.v1.VerifyRequest;
import dev.bkg.proto.face.v1.VerifyResponse;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Uni;

/** face-service's contract on the gateway's public gRPC port: every call needs the {@code face} scope, as on REST. */
@GrpcService
public class PublicFaceService extends MutinyFaceServiceGrpc.FaceServiceImplBase {

    private static final String SCOPE = "face";

    private final GrpcCallers callers;
    private final FaceClient faces;

    PublicFaceService(GrpcCallers callers, FaceClient faces) {
        this.callers = callers;
        this.faces = faces;
    }

    @Override
    public Uni<DetectResponse> detect(DetectRequest request) {
        return callers.call(SCOPE, "Detect", c -> faces.call(s -> s.detect(request)));
    }

    @Override
    public Uni<EmbedResponse> embed(EmbedRequest request) {
        return callers.call(SCOPE, "Embed", c -> faces.call(s -> s.embed(request)));
    }

    @Override
    public Uni<RecognizeResponse> recognize(RecognizeRequest request) {
        return callers.call(SCOPE, "Recognize", c -> faces.call(s -> s.recognize(request)));
    }

    @Override
    public Uni<VerifyResponse> verify(VerifyRequest request) {
        return callers.call(SCOPE, "Verify", c -> faces.call(s -> s.verify(request)));
    }

    @Override
    public Uni<AddSubjectResponse> addSubject(AddSubjectRequest request) {
        return callers.call(SCOPE, "AddSubject", c -> faces.call(s -> s.addSubject(request)));
    }

    @Override
    public Uni<ListSubjectsResponse> listSubjects(ListSubjectsRequest request) {
        return callers.call(SCOPE, "ListSubjects", c -> faces.call(s -> s.listSubjects(request)));
    }

    @Override
    public Uni<RenameSubjectResponse> renameSubject(RenameSubjectRequest request) {
        return callers.call(SCOPE, "RenameSubject", c -> faces.call(s -> s.renameSubject(request)));
    }

    @Override
    public Uni<DeleteSubjectResponse> deleteSubject(DeleteSubjectRequest request) {
        return callers.call(SCOPE, "DeleteSubject", c -> faces.call(s -> s.deleteSubject(request)));
    }

    @Override
    public Uni<ListSubjectFacesResponse> listSubjectFaces(ListSubjectFacesRequest request) {
        return callers.call(SCOPE, "ListSubjectFaces", c -> faces.call(s -> s.listSubjectFaces(request)));
    }

    @Override
    public Uni<AddSubjectFaceResponse> addSubjectFace(AddSubjectFaceRequest request) {
        return callers.call(SCOPE, "AddSubjectFace", c -> faces.call(s -> s.addSubjectFace(request)));
    }

    @Override
    public Uni<DeleteFaceResponse> deleteFace(DeleteFaceRequest request) {
        return callers.call(SCOPE, "DeleteFace", c -> faces.call(s -> s.deleteFace(request)));
    }
}
