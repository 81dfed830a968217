"""repoagent: a bkg mesh plugin speaking the plain-HTTP plugin contract.

GET /health, GET /describe, POST /invoke/{capability} with a JSON payload.
Configuration: PORT (required), HOST (default 127.0.0.1), REPOAGENT_ALLOWED_ROOTS,
REPOAGENT_MAX_BODY. See README.md.
"""
import json
import os
import signal
import socket
import sys
import threading
import time
import traceback
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # run from any cwd

from analyze import analyze  # noqa: E402
from common import PluginError  # noqa: E402
from patch import repo_patch  # noqa: E402

NAME = "repoagent"
VERSION = "0.1.0"
DEFAULT_MAX_BODY = 4 * 1024 * 1024
DRAIN_LIMIT = 64 * 1024 * 1024  # above this an oversized body is not even read, just cut off

CAPABILITIES = {
    "repo.analyze": (
        analyze,
        "Summarise a directory: file, line and byte counts, languages, largest files, TODO/FIXME counts.",
    ),
    "repo.patch": (
        repo_patch,
        "Check (dryRun, the default) or apply a unified diff to files under a directory, all or nothing.",
    ),
}

# Error messages of these quote lines of the payload's diff, which must never reach the log.
QUIET_ERRORS = {"repo.patch"}

_log_lock = threading.Lock()


def log(level, message):
    ts = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    with _log_lock:  # one whole line per write, even from concurrent handler threads
        sys.stdout.write(f"{ts} {level} {NAME}: {message}\n")
        sys.stdout.flush()


def _kv(value):
    """Log value, quoted only when it would otherwise blur the line's fields."""
    text = str(value)
    plain = text and text.isprintable() and not any(c.isspace() or c == '"' for c in text)
    return text if plain else json.dumps(text)  # escapes newlines: no forged log lines


def _summary(capability, payload, result):
    """The interesting fields of a successful call, for the log line (never the diff)."""
    if capability == "repo.analyze":
        return f"path={_kv(result['path'])} files={result['files']}"
    files = result["files"]
    return (f"path={_kv(payload.get('path'))} files={len(files)} "
            f"hunks={sum(f['hunks'] for f in files)} dryRun={str(result['dryRun']).lower()} "
            f"applied={str(result['applied']).lower()}")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive for the Java client; every reply has a length
    server_version = f"{NAME}/{VERSION}"
    timeout = 60  # drop idle keep-alive connections instead of holding a thread forever

    def log_message(self, fmt, *args):  # the base class logs to stderr; we log our own line
        pass

    def _send(self, status, body):
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status, code, message, started, what):
        self._send(status, {"error": message, "code": code})
        level = "ERROR" if status >= 500 else "WARN"
        log(level, f"{what} error={code} {_kv(message)} {self._ms(started)}")

    @staticmethod
    def _ms(started):
        return f"{int((time.monotonic() - started) * 1000)}ms"

    def do_GET(self):
        started = time.monotonic()
        path = self.path.split("?", 1)[0]
        if path == "/health":
            self._send(200, {"status": "SERVING", "plugin": NAME, "version": VERSION})
        elif path == "/describe":
            self._send(200, {
                "name": NAME,
                "version": VERSION,
                "capabilities": [{"name": n, "description": d} for n, (_, d) in CAPABILITIES.items()],
            })
        else:
            return self._error(404, "NOT_FOUND", f"no such endpoint: GET {self.path}", started,
                               f"GET {_kv(self.path)}")
        log("INFO", f"GET {path} 200 {self._ms(started)}")

    def _read_body(self, started, what):
        """The request body, or None after replying 400/413. An oversized body is drained
        (up to DRAIN_LIMIT) rather than left unread, so the client sees the 413 instead of
        a connection reset while it is still sending."""
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0 or self.headers.get("Transfer-Encoding"):
            self.close_connection = True  # cannot tell where this body ends
            return self._error(400, "INVALID_ARGUMENT", "a valid Content-Length is required", started, what)
        if length > self.server.max_body:
            remaining = length if length <= DRAIN_LIMIT else 0
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 1 << 16))
                if not chunk:
                    break
                remaining -= len(chunk)
            self.close_connection = True
            return self._error(413, "INVALID_ARGUMENT",
                               f"body of {length} bytes exceeds the {self.server.max_body}-byte limit",
                               started, what)
        return self.rfile.read(length)

    def do_POST(self):
        started = time.monotonic()
        path = self.path.split("?", 1)[0]
        prefix = "/invoke/"
        capability = path[len(prefix):] if path.startswith(prefix) else None
        what = _kv(capability) if capability else f"POST {_kv(path)}"
        raw = self._read_body(started, what)
        if raw is None:
            return
        entry = CAPABILITIES.get(capability)
        if entry is None:
            message = f"unknown capability {capability!r}" if capability else f"no such endpoint: POST {path}"
            return self._error(404, "NOT_FOUND", message, started, what)
        try:
            payload = json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError) as e:
            return self._error(400, "INVALID_ARGUMENT", f"body is not valid JSON: {e}", started, what)
        if not isinstance(payload, dict):
            return self._error(400, "INVALID_ARGUMENT", "body must be a JSON object", started, what)

        func, _ = entry
        try:
            result = func(payload, self.server.allowed_roots)
        except PluginError as e:
            body = {"error": e.message, "code": e.code}
            if e.details:
                body["details"] = e.details
            self._send(e.status, body)
            level = "ERROR" if e.status >= 500 else "WARN"
            if capability in QUIET_ERRORS:
                said = " ".join(f"{k}={_kv(v)}" for k, v in (e.details or {}).items())
            else:
                said = _kv(e.message)
            log(level, f"{capability} path={_kv(payload.get('path'))} error={e.code} "
                       f"{said + ' ' if said else ''}{self._ms(started)}")
            return
        except Exception as e:  # a bug or an I/O failure: report it, keep serving
            traceback.print_exc()  # to stderr, for whoever debugs it
            self._send(500, {"error": f"{type(e).__name__}: {e}", "code": "INTERNAL"})
            said = type(e).__name__ if capability in QUIET_ERRORS else _kv(f"{type(e).__name__}: {e}")
            log("ERROR", f"{capability} path={_kv(payload.get('path'))} error=INTERNAL {said} "
                         f"{self._ms(started)}")
            return
        self._send(200, result)
        log("INFO", f"{capability} {_summary(capability, payload, result)} {self._ms(started)}")


def _allowed_roots():
    raw = os.environ.get("REPOAGENT_ALLOWED_ROOTS", "")
    roots = [os.path.realpath(p) for p in raw.split(os.pathsep) if p.strip()]
    return roots or [os.path.realpath(os.getcwd())]


def main():
    try:
        port = int(os.environ["PORT"])
        max_body = int(os.environ.get("REPOAGENT_MAX_BODY", DEFAULT_MAX_BODY))
    except (KeyError, ValueError):
        print(f"{NAME}: PORT must be set to a port number (and REPOAGENT_MAX_BODY, if set, to a "
              "byte count)", file=sys.stderr)
        return 2
    host = os.environ.get("HOST", "127.0.0.1")

    if ":" in host:  # an IPv6 address such as "::"
        ThreadingHTTPServer.address_family = socket.AF_INET6
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True  # in-flight requests must not hold up shutdown
    server.allowed_roots = _allowed_roots()
    server.max_body = max_body

    def stop(signum, _frame):
        log("INFO", f"stopping ({signal.Signals(signum).name})")
        # shutdown() waits for serve_forever() to return, so it cannot run on this thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    bound_host, bound_port = server.server_address[:2]
    log("INFO", f"listening on {bound_host}:{bound_port} version={VERSION} "
                f"roots={_kv(os.pathsep.join(server.allowed_roots))}")
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    log("INFO", "stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
