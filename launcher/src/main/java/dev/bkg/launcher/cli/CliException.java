package dev.bkg.launcher.cli;

/**
 * A CLI command that cannot go on: the message for the person and the exit status (1 failed or
 * refused, 2 usage, 3 the mesh is not running). {@code httpStatus} is the gateway's answer when it
 * refused the request (0 otherwise).
 */
public final class CliException extends RuntimeException {

    private final int exitCode;
    private final int httpStatus;

    public CliException(int exitCode, String message) {
        this(exitCode, 0, message);
    }

    CliException(int exitCode, int httpStatus, String message) {
        super(message);
        this.exitCode = exitCode;
        this.httpStatus = httpStatus;
    }

    static CliException usage(String message) {
        return new CliException(2, message);
    }

    public int exitCode() {
        return exitCode;
    }

    public int httpStatus() {
        return httpStatus;
    }
}
