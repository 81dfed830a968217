#!/usr/bin/env python3
"""A plugin for PluginBench: answers GET /health and writes log lines as fast as it can.

FLOOD_SECONDS (default 10): how long to write; FLOOD_LINES (default 0 = no limit): stop after
this many. With BASELINE=1 it only writes (no HTTP), for the raw-speed baseline. FLOOD_RATE
(lines/s, default 0 = as fast as it can) paces the lines instead, each carrying the time it was
written (t=<epoch ms>) for SocketBench's latency; FLOOD_RUN names the run in every line.
"""
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Health(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()


def pace(seconds, rate):
    run = os.environ.get("FLOOD_RUN", "0")
    out = sys.stdout
    start = time.monotonic()
    i = 0
    while time.monotonic() - start < seconds:
        due = int((time.monotonic() - start) * rate)
        while i < due:
            out.write("INFO pace run=%s n=%d t=%d\n" % (run, i, int(time.time() * 1000)))
            i += 1
        out.flush()
        time.sleep(0.005)
    out.write("INFO pace done run=%s lines=%d\n" % (run, i))
    out.flush()


def flood():
    seconds = float(os.environ.get("FLOOD_SECONDS", "10"))
    limit = int(os.environ.get("FLOOD_LINES", "0"))
    pad = "x" * 80
    out = sys.stdout
    end = time.monotonic() + seconds
    i = 0
    while (limit == 0 or i < limit) and time.monotonic() < end:
        for _ in range(100):
            out.write("INFO flood line %d %s\n" % (i, pad))
            i += 1
        out.flush()
    out.write("INFO flood done lines=%d\n" % i)
    out.flush()


if os.environ.get("BASELINE") == "1":
    flood()
    sys.exit(0)
server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Health)
threading.Thread(target=server.serve_forever, daemon=True).start()
time.sleep(float(os.environ.get("FLOOD_DELAY_SECONDS", "0")))
if float(os.environ.get("FLOOD_RATE", "0")) > 0:
    pace(float(os.environ.get("FLOOD_SECONDS", "10")), float(os.environ["FLOOD_RATE"]))
else:
    flood()
threading.Event().wait()
