"""Tests for repoagent. Run: cd plugins/repoagent && python3 -m unittest -v"""
import http.client
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from analyze import analyze  # noqa: E402
from common import PluginError  # noqa: E402
from patch import parse_diff, repo_patch  # noqa: E402

LINES20 = "".join(f"line {i}\n" for i in range(1, 21))

# Two hunks against LINES20: change line 3, and replace line 17 with two lines.
MULTI_HUNK = """\
diff --git a/f.txt b/f.txt
index 1111111..2222222 100644
--- a/f.txt
+++ b/f.txt
@@ -1,5 +1,5 @@
 line 1
 line 2
-line 3
+line three
 line 4
 line 5
@@ -15,5 +15,6 @@
 line 15
 line 16
-line 17
+line seventeen
+line 17.5
 line 18
 line 19
"""
MULTI_HUNK_RESULT = LINES20.replace("line 3\n", "line three\n").replace(
    "line 17\n", "line seventeen\nline 17.5\n")


class TempDirCase(unittest.TestCase):
    def setUp(self):
        self.tmp = os.path.realpath(tempfile.mkdtemp(prefix="repoagent-test-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.repo = os.path.join(self.tmp, "repo")
        os.mkdir(self.repo)

    def write(self, rel, content, mode=None):
        path = os.path.join(self.repo, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content.encode() if isinstance(content, str) else content)
        if mode is not None:
            os.chmod(path, mode)
        return path

    def read(self, rel):
        with open(os.path.join(self.repo, rel), "rb") as f:
            return f.read().decode()

    def patch(self, diff, dry_run=True):
        return repo_patch({"path": self.repo, "diff": diff, "dryRun": dry_run}, [self.tmp])

    def assertPluginError(self, code, fn, *args):
        with self.assertRaises(PluginError) as ctx:
            fn(*args)
        self.assertEqual(ctx.exception.code, code, ctx.exception.message)
        return ctx.exception


class PatchTest(TempDirCase):
    def test_multi_hunk_dry_run_then_apply(self):
        self.write("f.txt", LINES20)
        result = self.patch(MULTI_HUNK)  # dryRun defaults to true
        self.assertEqual(result, {"applied": False, "dryRun": True, "files": [
            {"path": "f.txt", "hunks": 2, "added": 3, "removed": 2, "created": False,
             "deleted": False, "offsets": [0, 0]}]})
        self.assertEqual(self.read("f.txt"), LINES20)  # dry run wrote nothing
        result = self.patch(MULTI_HUNK, dry_run=False)
        self.assertTrue(result["applied"])
        self.assertEqual(self.read("f.txt"), MULTI_HUNK_RESULT)
        self.assertEqual(os.listdir(self.repo), ["f.txt"])  # no temp files left behind

    def test_hunks_found_at_offset(self):
        self.write("f.txt", "new a\nnew b\nnew c\n" + LINES20)
        result = self.patch(MULTI_HUNK, dry_run=False)
        self.assertEqual(result["files"][0]["offsets"], [3, 3])
        self.assertEqual(self.read("f.txt"), "new a\nnew b\nnew c\n" + MULTI_HUNK_RESULT)

    def test_new_file_in_new_directory(self):
        diff = ("diff --git a/pkg/run.sh b/pkg/run.sh\nnew file mode 100755\nindex 0000000..1234567\n"
                "--- /dev/null\n+++ b/pkg/run.sh\n@@ -0,0 +1,2 @@\n+#!/bin/sh\n+echo hi\n")
        result = self.patch(diff, dry_run=False)
        self.assertEqual(result["files"], [{"path": "pkg/run.sh", "hunks": 1, "added": 2, "removed": 0,
                                            "created": True, "deleted": False, "offsets": [0]}])
        self.assertEqual(self.read("pkg/run.sh"), "#!/bin/sh\necho hi\n")
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.repo, "pkg/run.sh")).st_mode), 0o755)

    def test_new_file_refused_when_it_exists(self):
        self.write("n.txt", "already here\n")
        diff = "--- /dev/null\n+++ b/n.txt\n@@ -0,0 +1 @@\n+x\n"
        self.assertPluginError("FAILED_PRECONDITION", self.patch, diff, False)
        self.assertEqual(self.read("n.txt"), "already here\n")

    def test_deleted_file_and_its_emptied_directory(self):
        self.write("old/gone.txt", "a\nb\n")
        diff = ("diff --git a/old/gone.txt b/old/gone.txt\ndeleted file mode 100644\n"
                "--- a/old/gone.txt\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n")
        result = self.patch(diff, dry_run=False)
        self.assertEqual(result["files"][0], {"path": "old/gone.txt", "hunks": 1, "added": 0, "removed": 2,
                                              "created": False, "deleted": True, "offsets": [0]})
        self.assertFalse(os.path.exists(os.path.join(self.repo, "old")))

    def test_no_newline_at_end_of_file_both_ways(self):
        self.write("a.txt", "one\ntwo")  # no final newline
        self.write("b.txt", "one\ntwo\n")
        diff = ("--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n\\ No newline at end of file\n+two\n"
                "--- a/b.txt\n+++ b/b.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n\\ No newline at end of file\n")
        self.patch(diff, dry_run=False)
        self.assertEqual(self.read("a.txt"), "one\ntwo\n")
        self.assertEqual(self.read("b.txt"), "one\nTWO")

    def test_missing_newline_is_a_mismatch(self):
        self.write("a.txt", "one\ntwo")  # the diff below claims "two\n"
        diff = "--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+2\n"
        err = self.assertPluginError("FAILED_PRECONDITION", self.patch, diff, False)
        self.assertIn("newline at end of file", err.message)

    def test_mismatched_context_refuses_whole_patch(self):
        self.write("ok.txt", "keep\nme\n")
        self.write("f.txt", LINES20.replace("line 16\n", "line sixteen\n"))
        diff = ("--- a/ok.txt\n+++ b/ok.txt\n@@ -1,2 +1,2 @@\n keep\n-me\n+you\n" + MULTI_HUNK)
        err = self.assertPluginError("FAILED_PRECONDITION", self.patch, diff, False)
        self.assertIn("f.txt: hunk #2", err.message)
        self.assertIn("'line sixteen\\n'", err.message)
        self.assertEqual(err.details, {"file": "f.txt", "hunk": 2})
        self.assertEqual(self.read("ok.txt"), "keep\nme\n")  # the good file was not written either

    def test_traversal_refused(self):
        self.write("ok.txt", "keep\n")
        diff = ("--- a/ok.txt\n+++ b/ok.txt\n@@ -1 +1 @@\n-keep\n+changed\n"
                "--- /dev/null\n+++ b/../x\n@@ -0,0 +1 @@\n+pwned\n")
        self.assertPluginError("PERMISSION_DENIED", self.patch, diff, False)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "x")))
        self.assertEqual(self.read("ok.txt"), "keep\n")

    def test_symlink_escape_refused(self):
        outside = os.path.join(self.tmp, "outside")
        os.mkdir(outside)
        os.symlink(outside, os.path.join(self.repo, "link"))
        diff = "--- /dev/null\n+++ b/link/evil.txt\n@@ -0,0 +1 @@\n+pwned\n"
        self.assertPluginError("PERMISSION_DENIED", self.patch, diff, False)
        self.assertEqual(os.listdir(outside), [])

    def test_absolute_path_refused(self):
        for target in ("/tmp/repoagent-abs.txt", f"{self.tmp}/abs.txt"):
            diff = f"--- /dev/null\n+++ {target}\n@@ -0,0 +1 @@\n+pwned\n"
            self.assertPluginError("PERMISSION_DENIED", self.patch, diff, False)
            self.assertFalse(os.path.exists(target))

    def test_dot_git_refused(self):
        diff = "--- /dev/null\n+++ b/.git/hooks/pre-commit\n@@ -0,0 +1 @@\n+pwned\n"
        self.assertPluginError("PERMISSION_DENIED", self.patch, diff, False)

    def test_symlinked_file_not_patched(self):
        self.write("real.txt", "a\n")
        os.symlink("real.txt", os.path.join(self.repo, "alias.txt"))
        diff = "--- a/alias.txt\n+++ b/alias.txt\n@@ -1 +1 @@\n-a\n+b\n"
        self.assertPluginError("FAILED_PRECONDITION", self.patch, diff, False)
        self.assertEqual(self.read("real.txt"), "a\n")

    def test_mode_and_crlf_preserved(self):
        self.write("s.sh", "a\r\nb\r\n", mode=0o750)
        self.patch("--- a/s.sh\n+++ b/s.sh\n@@ -1,2 +1,2 @@\n a\r\n-b\r\n+c\r\n", dry_run=False)
        self.assertEqual(self.read("s.sh"), "a\r\nc\r\n")
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.repo, "s.sh")).st_mode), 0o750)

    def test_plain_diff_u_with_timestamps(self):
        self.write("f.txt", "x\ny\n")
        diff = ("--- f.txt\t2026-01-01 10:00:00.000000000 +0000\n"
                "+++ f.txt\t2026-01-02 10:00:00.000000000 +0000\n@@ -1,2 +1,2 @@\n x\n-y\n+z\n")
        self.patch(diff, dry_run=False)
        self.assertEqual(self.read("f.txt"), "x\nz\n")

    def test_malformed_diffs(self):
        for bad in ("not a diff at all\n",
                    "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n x\n",  # truncated hunk
                    "--- a/f\n+++ b/f\n@@ -1 +1 @@\n*x\n+y\n",  # bad line tag
                    "diff --git a/x b/y\nsimilarity index 100%\nrename from x\nrename to y\n"):
            with self.subTest(bad=bad):
                self.assertPluginError("INVALID_ARGUMENT", parse_diff, bad)

    def test_payload_validation(self):
        self.assertPluginError("INVALID_ARGUMENT", repo_patch, {"path": self.repo, "diff": ""}, [self.tmp])
        self.assertPluginError("INVALID_ARGUMENT", repo_patch,
                               {"path": self.repo, "diff": MULTI_HUNK, "dryRun": "no"}, [self.tmp])
        self.assertPluginError("PERMISSION_DENIED", repo_patch,
                               {"path": self.repo, "diff": MULTI_HUNK}, [os.path.join(self.tmp, "other")])


ANALYZE_FILES = {
    "src/Main.java": "class Main {\n  // TODO: x\n  // TODO TODO\n}\n",  # 4 lines, 3 TODO
    "app.py": "# FIXME later\nprint('TODOs')\n# MY_TODO no\nx = 1",  # 4 lines, 1 FIXME, 0 TODO
    "README.md": "# Title\n\nText\n",  # 3 lines
    "notes": "TODO\n",  # Other, 1 line, 1 TODO
    "empty.txt": "",  # Other, 0 lines
}


class AnalyzeTest(TempDirCase):
    def make_tree(self):
        for rel, content in ANALYZE_FILES.items():
            self.write(rel, content)
        self.write("data.bin", b"\x00\x01\x02TODO")
        self.write("node_modules/lib.js", "// TODO\n")
        self.write("target/out.txt", "TODO\n")
        os.symlink("app.py", os.path.join(self.repo, "link.py"))

    def test_counts_on_walked_tree(self):
        self.make_tree()
        r = analyze({"path": self.repo, "top": 2}, [self.tmp])
        size = {rel: len(c.encode()) for rel, c in ANALYZE_FILES.items()}
        self.assertEqual(r["path"], self.repo)
        self.assertFalse(r["isGitRepo"])
        self.assertEqual((r["files"], r["lines"], r["bytes"]), (5, 12, sum(size.values())))
        self.assertEqual((r["todo"], r["fixme"]), (4, 1))
        self.assertEqual(r["skipped"], {"binary": 1, "ignored": 3})  # 2 dirs + 1 symlink
        self.assertFalse(r["truncated"])
        self.assertEqual(r["languages"], [
            {"language": "Java", "files": 1, "lines": 4, "bytes": size["src/Main.java"]},
            {"language": "Python", "files": 1, "lines": 4, "bytes": size["app.py"]},
            {"language": "Markdown", "files": 1, "lines": 3, "bytes": size["README.md"]},
            {"language": "Other", "files": 2, "lines": 1, "bytes": size["notes"]},
        ])
        self.assertEqual(r["largestFiles"], [
            {"path": "app.py", "bytes": size["app.py"], "lines": 4},
            {"path": "src/Main.java", "bytes": size["src/Main.java"], "lines": 4},
        ])
        self.assertIsInstance(r["durationMs"], int)

    def test_max_files_truncates(self):
        self.make_tree()
        r = analyze({"path": self.repo, "maxFiles": 2}, [self.tmp])
        self.assertEqual(r["files"], 2)  # README.md and app.py, in sorted walk order
        self.assertTrue(r["truncated"])

    @unittest.skipIf(shutil.which("git") is None, "git not installed")
    def test_git_repo_respects_gitignore(self):
        self.make_tree()
        self.write(".gitignore", "*.log\n")
        self.write("debug.log", "TODO\n")
        subprocess.run(["git", "init", "-q", self.repo], check=True)
        r = analyze({"path": self.repo}, [self.tmp])
        self.assertTrue(r["isGitRepo"])
        self.assertEqual(r["files"], 6)  # the 5 files + .gitignore; debug.log is ignored
        self.assertEqual(r["todo"], 4)
        self.assertNotIn("debug.log", [f["path"] for f in r["largestFiles"]])
        # node_modules/target files listed by git, plus the symlink, are counted one by one
        self.assertEqual(r["skipped"], {"binary": 1, "ignored": 3})

    def test_errors(self):
        self.write("f.txt", "x\n")
        roots = [self.tmp]
        self.assertPluginError("NOT_FOUND", analyze, {"path": os.path.join(self.repo, "nope")}, roots)
        self.assertPluginError("INVALID_ARGUMENT", analyze, {"path": os.path.join(self.repo, "f.txt")}, roots)
        self.assertPluginError("INVALID_ARGUMENT", analyze, {}, roots)
        self.assertPluginError("INVALID_ARGUMENT", analyze, {"path": self.repo, "top": -1}, roots)
        self.assertPluginError("PERMISSION_DENIED", analyze, {"path": "/"}, roots)
        os.symlink("/", os.path.join(self.repo, "root-link"))
        self.assertPluginError("PERMISSION_DENIED", analyze, {"path": os.path.join(self.repo, "root-link")}, roots)


# ---------------------------------------------------------------- end to end

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|WARN|ERROR) repoagent: ")


class Server:
    """The plugin as a real subprocess on a free port (PORT=0; the port is read from its log)."""

    def __init__(self, roots, command=None, **env):
        full_env = dict(os.environ, PORT="0", REPOAGENT_ALLOWED_ROOTS=roots, **env)
        self.proc = subprocess.Popen(command or [sys.executable, os.path.join(HERE, "repoagent.py")],
                                     env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        self.lines, self.port, self.ready = [], None, threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(10) or self.port is None:
            self.proc.kill()
            raise RuntimeError("server did not start: " + "".join(self.lines))

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)
            m = re.search(r"listening on [\d.]+:(\d+)", line)
            if m:
                self.port = int(m[1])
                self.ready.set()
        self.ready.set()

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, json.loads(resp.read())
        finally:
            conn.close()

    def log(self):
        return "".join(self.lines)

    def wait_for_log(self, text, timeout=3):
        """The server logs after replying, so a line may land a moment after the response."""
        deadline = time.monotonic() + timeout
        while text not in self.log() and time.monotonic() < deadline:
            time.sleep(0.01)
        return [line for line in self.log().splitlines() if text in line]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(5)
        self.proc.stdout.close()


class EndToEndTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = os.path.realpath(tempfile.mkdtemp(prefix="repoagent-e2e-"))
        cls.repo = os.path.join(cls.tmp, "repo")
        os.mkdir(cls.repo)
        with open(os.path.join(cls.repo, "hello.py"), "w") as f:
            f.write("print('hi')  # TODO: greet properly\n")
        cls.server = Server(cls.tmp, REPOAGENT_MAX_BODY="65536")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_health_and_describe(self):
        status, body = self.server.request("GET", "/health")
        self.assertEqual((status, body), (200, {"status": "SERVING", "plugin": "repoagent", "version": "0.1.0"}))
        status, body = self.server.request("GET", "/describe")
        self.assertEqual(status, 200)
        self.assertEqual(body["name"], "repoagent")
        self.assertEqual([c["name"] for c in body["capabilities"]], ["repo.analyze", "repo.patch"])
        self.assertTrue(all(c["description"] for c in body["capabilities"]))

    def test_analyze(self):
        status, body = self.server.request("POST", "/invoke/repo.analyze", {"path": self.repo})
        self.assertEqual(status, 200, body)
        self.assertEqual((body["files"], body["lines"], body["todo"]), (1, 1, 1))
        self.assertEqual(body["languages"][0]["language"], "Python")
        lines = self.server.wait_for_log(f"repo.analyze path={self.repo} files=1 ")
        self.assertTrue(lines and all(LOG_LINE.match(l) and l.endswith("ms") for l in lines), lines)

    def test_patch_dry_run_then_apply(self):
        path = os.path.join(self.repo, "p.txt")
        with open(path, "w") as f:
            f.write("alpha\nbeta\n")
        diff = "--- a/p.txt\n+++ b/p.txt\n@@ -1,2 +1,2 @@\n alpha\n-beta\n+SECRET-DIFF-MARKER\n"
        status, body = self.server.request("POST", "/invoke/repo.patch", {"path": self.repo, "diff": diff})
        self.assertEqual((status, body["applied"], body["dryRun"]), (200, False, True), body)
        status, body = self.server.request("POST", "/invoke/repo.patch",
                                           {"path": self.repo, "diff": diff, "dryRun": False})
        self.assertEqual((status, body["applied"]), (200, True), body)
        with open(path) as f:
            self.assertEqual(f.read(), "alpha\nSECRET-DIFF-MARKER\n")
        # Applying it again fails: the context no longer matches.
        status, body = self.server.request("POST", "/invoke/repo.patch",
                                           {"path": self.repo, "diff": diff, "dryRun": False})
        self.assertEqual((status, body["code"]), (409, "FAILED_PRECONDITION"), body)
        self.assertIn("p.txt: hunk #1", body["error"])
        # The diff is never logged, not even the lines an error message quotes.
        self.assertTrue(self.server.wait_for_log(
            f"WARN repoagent: repo.patch path={self.repo} error=FAILED_PRECONDITION file=p.txt hunk=1 "))
        self.assertNotIn("SECRET-DIFF-MARKER", self.server.log())

    def test_errors(self):
        cases = [
            ("/invoke/repo.nope", {"path": self.repo}, 404, "NOT_FOUND"),
            ("/invoke/repo.analyze", "{not json", 400, "INVALID_ARGUMENT"),
            ("/invoke/repo.analyze", "[1, 2]", 400, "INVALID_ARGUMENT"),
            ("/invoke/repo.analyze", {"path": "/"}, 403, "PERMISSION_DENIED"),
            ("/invoke/repo.analyze", {"path": os.path.join(self.repo, "missing")}, 404, "NOT_FOUND"),
            ("/invoke/repo.analyze", "x" * 70000, 413, "INVALID_ARGUMENT"),
        ]
        for path, body, want_status, want_code in cases:
            with self.subTest(path=path, body=str(body)[:40]):
                status, reply = self.server.request("POST", path, body)
                self.assertEqual((status, reply["code"]), (want_status, want_code), reply)
                self.assertTrue(reply["error"])
        self.assertEqual(self.server.request("GET", "/nope")[0], 404)


class SigtermTest(unittest.TestCase):
    def test_sigterm_exits_zero_within_a_second(self):
        tmp = tempfile.mkdtemp(prefix="repoagent-sig-")
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        server = Server(tmp, command=[os.path.join(HERE, "run")])  # also exercises the launcher
        self.addCleanup(server.stop)
        self.assertEqual(server.request("GET", "/health")[0], 200)
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        self.assertEqual(server.proc.wait(5), 0)
        self.assertLess(time.monotonic() - started, 1.0)
        self.assertIn("INFO repoagent: stopping", server.log())


if __name__ == "__main__":
    unittest.main()
