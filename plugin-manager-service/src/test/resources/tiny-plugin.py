"""A tiny real plugin for the plugin manager's tests: the HTTP plugin contract, with switches
(environment variables) for the behaviours a supervisor must handle."""
import json
import os
import signal
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port = int(os.environ["PORT"])
health_file = os.environ.get("TINY_HEALTH_FILE", "")

if os.environ.get("TINY_EXIT_AT_ONCE"):
    print("ERROR cannot start: the tiny plugin was told to fail", flush=True)
    sys.exit(3)
if os.environ.get("TINY_IGNORE_TERM"):
    signal.signal(signal.SIGTERM, lambda *_: print("WARN ignoring SIGTERM", flush=True))
else:
    signal.signal(signal.SIGTERM, lambda *_: (print("INFO stopping", flush=True), os._exit(0)))
if os.environ.get("TINY_CHILD"):
    child = subprocess.Popen(["sleep", "1000"])
    print("INFO child pid %d" % child.pid, flush=True)
if os.environ.get("TINY_BURN"):
    # one thread spinning: about one core of CPU, for telemetry tests
    import threading
    def burn():
        while True:
            pass
    threading.Thread(target=burn, daemon=True).start()
flood = int(os.environ.get("TINY_FLOOD", "0"))
for i in range(flood):
    sys.stdout.write("INFO flood line %d %s\n" % (i, "x" * 100))
sys.stdout.flush()

print("INFO tiny starting on port %d greeting=%s" % (port, os.environ.get("TINY_GREETING", "")), flush=True)
print("WARN this line goes to stderr", file=sys.stderr, flush=True)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path != "/health":
            return self.reply(404, {"error": "no such path"})
        failing = health_file and os.path.exists(health_file) and open(health_file).read().strip() == "fail"
        self.reply(503 if failing else 200, {"status": "NOT_SERVING" if failing else "SERVING"})

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        payload = json.loads(self.rfile.read(length) or b"{}")
        capability = self.path[len("/invoke/"):]
        if capability == "tiny.echo":
            print("INFO echo for %s" % self.headers.get("x-bkg-principal", ""), flush=True)
            return self.reply(200, {"echo": payload, "greeting": os.environ.get("TINY_GREETING", ""),
                                    "config": json.loads(os.environ.get("BKG_PLUGIN_CONFIG", "{}"))})
        if capability == "tiny.fail":
            return self.reply(500, {"error": "tiny failed on purpose"})
        if capability == "tiny.bad":
            return self.reply(400, {"error": "tiny says the payload is wrong"})
        if capability == "tiny.later":
            return self.reply(501, {"error": "not built yet"})
        self.reply(404, {"error": "unknown capability " + capability})


pace_lines = int(os.environ.get("TINY_PACE_LINES", "0"))
if pace_lines:
    # TINY_PACE_LINES lines (TINY_PACE_PAD characters of padding) at TINY_PACE_RATE lines/s once
    # serving, then "pace done", for the socket pressure test
    import threading

    def pace():
        rate = float(os.environ.get("TINY_PACE_RATE", "100"))
        pad = "x" * int(os.environ.get("TINY_PACE_PAD", "60"))
        time.sleep(1)
        start = time.monotonic()
        for n in range(pace_lines):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            print("INFO pace n=%d %s" % (n, pad), flush=True)
        print("INFO pace done lines=%d" % pace_lines, flush=True)
    threading.Thread(target=pace, daemon=True).start()

ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
