package dev.bkg.model.domain;

/** Why a download ended: {@code retryable} breaks (a connection cut off) are resumed with a Range request. */
final class DownloadFailure extends RuntimeException {

    final boolean retryable;

    DownloadFailure(String message, boolean retryable) {
        super(message, null, false, false);
        this.retryable = retryable;
    }
}
