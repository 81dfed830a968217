package dev.bkg.launcher;

/** A failure the person can act on: its message is printed as is, and the launcher exits non-zero. */
class LauncherException extends RuntimeException {

    LauncherException(String message) {
        super(message);
    }
}
