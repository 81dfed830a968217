package dev.bkg.gateway.ws;

import java.util.concurrent.atomic.AtomicInteger;

import dev.bkg.gateway.api.ModelViews;
import dev.bkg.gateway.grpc.ModelClient;
import dev.bkg.gateway.stream.SocketFeed;
import dev.bkg.proto.model.v1.DownloadProgress;
import dev.bkg.proto.model.v1.GetModelRequest;
import dev.bkg.proto.model.v1.WatchDownloadRequest;
import io.grpc.Status;
import io.quarkus.websockets.next.CloseReason;
import io.quarkus.websockets.next.OnClose;
import io.quarkus.websockets.next.OnOpen;
import io.quarkus.websockets.next.UserData;
import io.quarkus.websockets.next.WebSocket;
import io.quarkus.websockets.next.WebSocketConnection;
import io.smallrye.common.annotation.NonBlocking;
import io.smallrye.mutiny.subscription.Cancellable;

/**
 * {@code /ws/models/{id}/progress}: the model's latest download — its current progress, then each
 * update as {@code {"type":"progress","state","bytesDone","bytesTotal","rateBytesPerSecond","etaMs",...}}
 * — and the socket closes normally (1000, the final state as reason) when the job ends. Needs
 * models:read. A download lives minutes and has few watchers, so each socket follows the job
 * itself; a socket that reads slowly skips intermediate updates, never the last.
 */
@WebSocket(path = "/ws/models/{id}/progress")
public class ModelProgressSocket {

    private static final UserData.TypedKey<Cancellable> FOLLOW = new UserData.TypedKey<>("bkg.model.progress");
    /** Unwritten messages past which intermediate updates are skipped. */
    static final int MAX_PENDING = 16;
    private static final java.util.Set<DownloadProgress.State> FINAL = java.util.EnumSet.of(DownloadProgress.State.DONE,
            DownloadProgress.State.FAILED, DownloadProgress.State.CANCELLED);

    private final ModelClient models;

    ModelProgressSocket(ModelClient models) {
        this.models = models;
    }

    @OnOpen
    @NonBlocking
    void open(WebSocketConnection socket) {
        String id = socket.pathParam("id");
        AtomicInteger pending = new AtomicInteger();
        Cancellable follow = models.stream(s -> s.getModel(GetModelRequest.newBuilder().setId(id).build()).toMulti())
                .flatMap(r -> {
                    if (r.getModel().getJobId().isEmpty()) {
                        throw Status.NOT_FOUND.withDescription("no download").asRuntimeException();
                    }
                    return models.stream(s -> s.watchDownload(WatchDownloadRequest.newBuilder()
                            .setJobId(r.getModel().getJobId()).build()));
                })
                .subscribe().with(progress -> {
                    if (!FINAL.contains(progress.getState()) && pending.get() >= MAX_PENDING) {
                        return;
                    }
                    pending.incrementAndGet();
                    socket.sendText(SocketFeed.typed("progress", ModelViews.Progress.of(progress))).subscribe().with(v -> pending.decrementAndGet(),
                            e -> pending.decrementAndGet());
                }, failure -> {
                    Status status = Status.fromThrowable(failure);
                    boolean unknown = status.getCode() == Status.Code.NOT_FOUND;
                    close(socket, unknown ? 4404 : 1011, unknown ? "no such model or download" : "model-service unavailable");
                }, () -> close(socket, 1000, "download ended"));
        socket.userData().put(FOLLOW, follow);
    }

    private static void close(WebSocketConnection socket, int code, String reason) {
        if (socket.isOpen()) {
            socket.close(new CloseReason(code, reason)).subscribe().with(v -> { }, e -> { });
        }
    }

    @OnClose
    @NonBlocking
    void close(WebSocketConnection socket) {
        Cancellable follow = socket.userData().remove(FOLLOW);
        if (follow != null) {
            follow.cancel();
        }
    }
}
