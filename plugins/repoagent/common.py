"""Shared bits: the error type every capability raises, and the allowed-roots check."""
import os

# Error code -> HTTP status, as the mesh's plugin contract defines them.
HTTP_STATUS = {
    "INVALID_ARGUMENT": 400,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "FAILED_PRECONDITION": 409,
    "INTERNAL": 500,
}


class PluginError(Exception):
    """A failure the caller should see as {"error": message, "code": code}."""

    def __init__(self, code, message, details=None):
        super().__init__(message)
        assert code in HTTP_STATUS, code
        self.code = code
        self.message = message
        self.details = details  # optional dict with machine-readable context

    @property
    def status(self):
        return HTTP_STATUS[self.code]


def is_within(path, root):
    """True when realpath'd `path` is `root` or below it (both already realpath'd)."""
    return path == root or os.path.commonpath([path, root]) == root


def resolve_allowed_dir(path, roots):
    """Resolve a payload's directory against the allowed roots.

    The check runs on the realpath, so symlinks cannot lead outside a root, and it
    runs before any existence check, so paths outside the roots reveal nothing.
    """
    if not isinstance(path, str) or not path or "\0" in path:
        raise PluginError("INVALID_ARGUMENT", "'path' must be a non-empty string")
    real = os.path.realpath(path)
    if not any(is_within(real, r) for r in roots):
        raise PluginError("PERMISSION_DENIED", f"path {path!r} is outside the allowed roots")
    if not os.path.exists(real):
        raise PluginError("NOT_FOUND", f"path {path!r} does not exist")
    if not os.path.isdir(real):
        raise PluginError("INVALID_ARGUMENT", f"path {path!r} is not a directory")
    return real


def optional_int(payload, key, default, minimum):
    """Read an optional integer field (bools are rejected, JSON true is not 1)."""
    value = payload.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise PluginError("INVALID_ARGUMENT", f"'{key}' must be an integer >= {minimum}")
    return value
