package dev.bkg.gateway.grpc;

import dev.bkg.gateway.security.GrpcCallers;
import dev.bkg.proto.model.v1.CancelDownloadRequest;
import dev.bkg.proto.model.v1.CancelDownloadResponse;
import dev.bkg.proto.model.v1.DeleteModelRequest;
import dev.bkg.proto.model.v1.DeleteModelResponse;
import dev.bkg.proto.model.v1.DownloadModelRequest;
import dev.bkg.proto.model.v1.DownloadModelResponse;
import dev.bkg.proto.model.v1.DownloadProgress;
import dev.bkg.proto.model.v1.FileChunk;
import dev.bkg.proto.model.v1.GetModelRequest;
import dev.bkg.proto.model.v1.GetModelResponse;
import dev.bkg.proto.model.v1.ImportModelRequest;
import dev.bkg.proto.model.v1.ImportModelResponse;
import dev.bkg.proto.model.v1.ListModelsRequest;
import dev.bkg.proto.model.v1.ListModelsResponse;
import dev.bkg.proto.model.v1.MutinyModelServiceGrpc;
import dev.bkg.proto.model.v1.QuantizeModelRequest;
import dev.bkg.proto.model.v1.QuantizeModelResponse;
import dev.bkg.proto.model.v1.ReadModelFileRequest;
import dev.bkg.proto.model.v1.ValidateModelRequest;
import dev.bkg.proto.model.v1.ValidateModelResponse;
import dev.bkg.proto.model.v1.WatchDownloadRequest;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

/**
 * model-service's contract on the gateway's public gRPC port: reads (list, get, download progress,
 * a model's files) need {@code models:read}, changes {@code models:write}, as on REST.
 */
@GrpcService
public class PublicModelService extends MutinyModelServiceGrpc.ModelServiceImplBase {

    private static final String READ = "models:read";
    private static final String WRITE = "models:write";

    private final GrpcCallers callers;
    private final ModelClient models;

    PublicModelService(GrpcCallers callers, ModelClient models) {
        this.callers = callers;
        this.models = models;
    }

    @Override
    public Uni<ListModelsResponse> listModels(ListModelsRequest request) {
        return callers.call(READ, "ListModels", c -> models.call(s -> s.listModels(request)));
    }

    @Override
    public Uni<GetModelResponse> getModel(GetModelRequest request) {
        return callers.call(READ, "GetModel", c -> models.call(s -> s.getModel(request)));
    }

    @Override
    public Multi<DownloadProgress> watchDownload(WatchDownloadRequest request) {
        return callers.stream(READ, "WatchDownload", c -> models.stream(s -> s.watchDownload(request)));
    }

    /** A model's stored files, in chunks with offsets (resumable): how a remote machine copies a model from the mesh. */
    @Override
    public Multi<FileChunk> readModelFile(ReadModelFileRequest request) {
        return callers.stream(READ, "ReadModelFile", c -> models.stream(s -> s.readModelFile(request)));
    }

    @Override
    public Uni<DownloadModelResponse> downloadModel(DownloadModelRequest request) {
        return callers.call(WRITE, "DownloadModel", c -> models.call(s -> s.downloadModel(request)));
    }

    @Override
    public Uni<CancelDownloadResponse> cancelDownload(CancelDownloadRequest request) {
        return callers.call(WRITE, "CancelDownload", c -> models.call(s -> s.cancelDownload(request)));
    }

    @Override
    public Uni<DeleteModelResponse> deleteModel(DeleteModelRequest request) {
        return callers.call(WRITE, "DeleteModel", c -> models.call(s -> s.deleteModel(request)));
    }

    @Override
    public Uni<ValidateModelResponse> validateModel(ValidateModelRequest request) {
        return callers.call(WRITE, "ValidateModel", c -> models.call(s -> s.validateModel(request)));
    }

    @Override
    public Uni<ImportModelResponse> importModel(ImportModelRequest request) {
        return callers.call(WRITE, "ImportModel", c -> models.call(s -> s.importModel(request)));
    }

    @Override
    public Uni<QuantizeModelResponse> quantizeModel(QuantizeModelRequest request) {
        return callers.call(WRITE, "QuantizeModel", c -> models.call(s -> s.quantizeModel(request)));
    }
}
