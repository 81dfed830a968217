package dev.bkg.gateway.grpc;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import jakarta.enterprise.context.ApplicationScoped;

import dev.bkg.proto.face.v1.MutinyFaceServiceGrpc.MutinyFaceServiceStub;
import io.quarkus.grpc.GrpcClient;
import io.smallrye.mutiny.Uni;

/** The gateway's client of face-service (plugin rustyface): its deadline and its failures as problems. */
@ApplicationScoped
public class FaceClient {

    /** A 5 MB photo decodes, detects and embeds in well under a second; a queue of them may wait their turn. */
    static final Duration DEADLINE = Duration.ofSeconds(60);

    private final MutinyFaceServiceStub faces;

    FaceClient(@GrpcClient("face") MutinyFaceServiceStub faces) {
        this.faces = faces;
    }

    public <T> Uni<T> call(Function<MutinyFaceServiceStub, Uni<T>> rpc) {
        return GrpcProblems.asProblems(rpc.apply(faces.withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)), faces,
                "face-service (rustyface)");
    }
}
