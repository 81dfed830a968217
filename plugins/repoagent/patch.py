"""repo.patch: parse a unified diff and apply it, all-or-nothing, inside one directory.

Files are handled as text split on '\\n' only, each line keeping its terminator, so
CRLF files and a missing newline at end of file survive byte for byte. Bytes that are
not UTF-8 round-trip through 'surrogateescape'.
"""
import os
import re
import stat
import tempfile

from common import PluginError, is_within, resolve_allowed_dir

HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
ENCODING = ("utf-8", "surrogateescape")


class Hunk:
    def __init__(self, header, old_start, old_count, new_start, new_count):
        self.header = header
        self.old_start, self.old_count = old_start, old_count
        self.new_start, self.new_count = new_start, new_count
        self.lines = []  # [tag, text]: tag in ' -+', text with its '\n' unless at EOF

    def old(self):
        return [t for tag, t in self.lines if tag != "+"]

    def new(self):
        return [t for tag, t in self.lines if tag != "-"]


class FilePatch:
    def __init__(self, old_path, new_path, hunks, new_mode=None):
        self.old_path, self.new_path = old_path, new_path  # None means /dev/null
        self.hunks = hunks
        self.new_mode = new_mode  # git's "new file mode"/"new mode": 100644 or 100755

    @property
    def path(self):
        return self.new_path if self.new_path is not None else self.old_path


def _invalid(msg):
    return PluginError("INVALID_ARGUMENT", f"malformed diff: {msg}")


# ---------------------------------------------------------------- parsing

def _unquote(s):
    """Undo git's C-style quoting of unusual file names ("a/sp\\303\\251cial")."""
    if not (len(s) >= 2 and s[0] == s[-1] == '"'):
        return s
    out, i, body = bytearray(), 0, s[1:-1]
    simple = {"n": b"\n", "t": b"\t", '"': b'"', "\\": b"\\", "a": b"\a", "b": b"\b",
              "f": b"\f", "r": b"\r", "v": b"\v"}
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in simple:
                out += simple[nxt]
                i += 2
                continue
            if body[i + 1:i + 4].isdigit():
                out.append(int(body[i + 1:i + 4], 8) & 0xFF)
                i += 4
                continue
        out += c.encode(*ENCODING)
        i += 1
    return out.decode(*ENCODING)


def _header_path(raw):
    """Path from a '---'/'+++' line: drop diff -u's tab+timestamp, unquote, map /dev/null."""
    if not raw.startswith('"'):
        raw = raw.split("\t", 1)[0]
    path = _unquote(raw.rstrip("\r"))
    return None if path == "/dev/null" else path


def _strip_prefixes(old, new):
    """Drop git's a/ and b/ prefixes (swapped by `git diff -R`), but only when every side
    carries one, so a -p0 diff like `diff -u x.orig x` keeps its names."""
    if all(p is None or p.startswith(("a/", "b/")) for p in (old, new)):
        return (old and old[2:]), (new and new[2:])
    return old, new


def _git_header_path(line):
    """The path of a 'diff --git a/X b/X' line; only used for hunk-less new/deleted files."""
    rest = line[len("diff --git "):]
    if rest.startswith('"'):
        end = rest.index('"', 1)
        while rest[end - 1] == "\\":
            end = rest.index('"', end + 1)
        return _unquote(rest[:end + 1])[2:]
    n = (len(rest) - 5) // 2  # "a/" + X + " b/" + X
    if len(rest) == 2 * n + 5 and rest[2:2 + n] == rest[n + 5:] and rest.startswith("a/"):
        return rest[2:2 + n]
    return None  # a rename or copy between different names


def _parse_hunk(lines, i):
    m = HUNK_RE.match(lines[i])
    if not m:
        raise _invalid(f"bad hunk header {lines[i]!r}")
    count = lambda g: 1 if g is None else int(g)
    hunk = Hunk(lines[i].rstrip("\r"), int(m[1]), count(m[2]), int(m[3]), count(m[4]))
    i += 1
    old = new = 0
    while old < hunk.old_count or new < hunk.new_count:
        if i >= len(lines):
            raise _invalid(f"hunk {hunk.header!r} is truncated")
        line = lines[i]
        i += 1
        tag, text = (line[:1], line[1:]) if line else (" ", "")  # blank = stripped context
        if tag == "\\":
            if not hunk.lines:
                raise _invalid(f"'\\ No newline' marker before any line in {hunk.header!r}")
            hunk.lines[-1][1] = hunk.lines[-1][1][:-1]
            continue
        if tag not in " -+":
            raise _invalid(f"unexpected line {line[:80]!r} in hunk {hunk.header!r}")
        old += tag != "+"
        new += tag != "-"
        hunk.lines.append([tag, text + "\n"])
    if old != hunk.old_count or new != hunk.new_count:
        raise _invalid(f"hunk {hunk.header!r} has more lines than its header says")
    if i < len(lines) and lines[i].startswith("\\"):  # marker after the hunk's last line
        hunk.lines[-1][1] = hunk.lines[-1][1][:-1]
        i += 1
    return hunk, i


def parse_diff(text):
    """Parse unified diff text into FilePatch objects. Lines outside file sections are
    ignored (commit messages, 'index' lines), like patch(1) does."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    patches, git, i = [], None, 0

    def finish_git_block():
        # A git section without ---/+++ is an empty new/deleted file, or something we do not do.
        if git is None or git["used"]:
            return
        if git["path"] is None and (git["new_file"] or git["deleted"]):
            raise _invalid(f"cannot read the file name from {git['header']!r}")
        if git["new_file"]:
            patches.append(FilePatch(None, git["path"], [], git["new_mode"]))
        elif git["deleted"]:
            patches.append(FilePatch(git["path"], None, []))
        elif git["new_mode"] and git["path"] is not None:
            patches.append(FilePatch(git["path"], git["path"], [], git["new_mode"]))
        else:
            raise PluginError("INVALID_ARGUMENT", f"{git['header']!r}: renames, copies, mode-only "
                              "and binary changes are not supported")

    while i < len(lines):
        line = lines[i]
        if line.startswith("diff --git "):
            finish_git_block()
            git = {"header": line, "path": None, "new_mode": None, "new_file": False,
                   "deleted": False, "used": False}
            git["path"] = _git_header_path(line.rstrip("\r"))
        elif git and line.startswith(("new file mode ", "new mode ")):
            git["new_file"] = git["new_file"] or line.startswith("new file")
            git["new_mode"] = line.split()[-1]
            if git["new_mode"] not in ("100644", "100755"):
                raise PluginError("INVALID_ARGUMENT", f"{line!r}: only regular files (100644/100755) "
                                  "are supported, not symlinks or submodules")
        elif git and line.startswith("deleted file mode "):
            git["deleted"] = True
        elif line.startswith(("GIT binary patch", "Binary files ")):
            raise PluginError("INVALID_ARGUMENT", f"binary changes are not supported: {line[:200]!r}")
        elif line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            old, new = _strip_prefixes(_header_path(line[4:]), _header_path(lines[i + 1][4:]))
            if old is None and new is None:
                raise _invalid("both sides of a file header are /dev/null")
            i += 2
            hunks = []
            while i < len(lines) and lines[i].startswith("@@"):
                hunk, i = _parse_hunk(lines, i)
                hunks.append(hunk)
            if not hunks:
                raise _invalid(f"no hunks for {new or old!r}")
            patches.append(FilePatch(old, new, hunks, git["new_mode"] if git else None))
            if git:
                git["used"] = True
                git = None  # one ---/+++ section per "diff --git" block
            continue
        i += 1
    finish_git_block()
    if not patches:
        raise PluginError("INVALID_ARGUMENT", "the diff contains no file changes")
    return patches


# ---------------------------------------------------------------- applying

def split_lines(text):
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])  # last line without a newline
    return lines


def _find(lines, want, expected, lowest):
    """Where `want` occurs, searching outward from `expected` (nearest first, as patch(1)
    does) but never before `lowest`, so hunks stay in order and never overlap."""
    if not want:
        return expected if lowest <= expected <= len(lines) else None
    last = len(lines) - len(want)
    for delta in range(0, max(expected - lowest, last - expected) + 1):
        for pos in ((expected,) if delta == 0 else (expected - delta, expected + delta)):
            if lowest <= pos <= last and lines[pos] == want[0] and lines[pos:pos + len(want)] == want:
                return pos
    return None


def _why(lines, want, expected):
    """A human reason for a hunk that matched nowhere: the first difference at its own place."""
    if not want and expected > len(lines):
        return f"it inserts after line {expected} but the file has {len(lines)} lines"
    for k, line in enumerate(want):
        at = expected + k
        if at >= len(lines):
            return f"file ends at line {len(lines)}, hunk expects line {at + 1} {line[:80]!r}"
        if lines[at] != line:
            hint = " (newline at end of file differs)" if lines[at].rstrip("\n") == line.rstrip("\n") else ""
            return f"line {at + 1}: expected {line[:80]!r}, found {lines[at][:80]!r}{hint}"
    return "it overlaps the previous hunk"


def apply_hunks(lines, hunks, path):
    """Apply hunks to a list of lines; returns (new_lines, offsets) or raises FAILED_PRECONDITION."""
    out, src, last_offset, offsets = [], 0, 0, []
    for number, hunk in enumerate(hunks, 1):
        old = hunk.old()
        # For a pure insertion old_start is the line *after* which to insert.
        nominal = hunk.old_start - 1 if hunk.old_count else hunk.old_start
        expected = max(nominal + last_offset, 0)  # later hunks inherit earlier offsets
        pos = _find(lines, old, expected, src)
        if pos is None:
            raise PluginError(
                "FAILED_PRECONDITION",
                f"{path}: hunk #{number} {hunk.header} does not apply: {_why(lines, old, expected)}",
                {"file": path, "hunk": number},
            )
        out += lines[src:pos]
        out += hunk.new()
        src = pos + len(old)
        last_offset = pos - nominal
        offsets.append(last_offset)
    out += lines[src:]
    return out, offsets


def _check_rel_path(root, rel):
    """Realpath of `rel` under `root`, refusing anything that could write elsewhere."""
    parts = rel.replace("\\", "/").split("/")
    if not rel or "\0" in rel or os.path.isabs(rel) or rel.startswith("/"):
        raise PluginError("PERMISSION_DENIED", f"refusing absolute or empty path {rel!r}")
    if ".." in parts:
        raise PluginError("PERMISSION_DENIED", f"refusing path with '..' component: {rel!r}")
    if any(p.lower() == ".git" for p in parts):
        # Writing .git/config or hooks would let a patch make git run code later.
        raise PluginError("PERMISSION_DENIED", f"refusing to patch inside .git: {rel!r}")
    real = os.path.realpath(os.path.join(root, rel))
    if real == root:
        raise PluginError("PERMISSION_DENIED", f"path {rel!r} is the repository directory itself")
    if not is_within(real, root):
        raise PluginError("PERMISSION_DENIED", f"path {rel!r} resolves outside the repository")
    return real


def _load(root, rel, real):
    """Current lines of a target and its mode, or (None, None) when it does not exist."""
    lexical = os.path.join(root, rel)
    if os.path.islink(lexical):
        # Patching through a link would write its target's content, never what git meant.
        raise PluginError("FAILED_PRECONDITION", f"{rel}: is a symbolic link; not patched")
    try:
        st = os.stat(real)
    except FileNotFoundError:
        return None, None
    if not stat.S_ISREG(st.st_mode):
        raise PluginError("FAILED_PRECONDITION", f"{rel}: not a regular file")
    with open(real, "rb") as f:
        return split_lines(f.read().decode(*ENCODING)), stat.S_IMODE(st.st_mode)


def _write_atomic(real, data, mode):
    directory = os.path.dirname(real)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(real) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, real)  # readers see the old or the new file, never half of one
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _remove_empty_parents(directory, root):
    """Like git apply: a directory emptied by deleting its last file goes too (never root)."""
    while directory != root and is_within(directory, root):
        try:
            os.rmdir(directory)  # fails, and stops us, when the directory is not empty
        except OSError:
            return
        directory = os.path.dirname(directory)


def apply_patch(root, diff, dry_run=True):
    """Check every hunk of `diff` against the files under realpath'd `root`; write only
    when all apply and dry_run is False. Returns the capability's result object."""
    patches = parse_diff(diff)
    # Refuse the whole patch up front if any path (either side) points somewhere unsafe.
    for fp in patches:
        for rel in (fp.old_path, fp.new_path):
            if rel is not None:
                _check_rel_path(root, rel)

    state = {}  # realpath -> [lines or None when absent, mode]; several sections may touch one file
    results = []
    for fp in patches:
        rel = fp.path
        real = _check_rel_path(root, rel)
        if real not in state:
            state[real] = list(_load(root, rel, real))
        current, mode = state[real]
        created, deleted = fp.old_path is None, fp.new_path is None
        if created and current is not None:
            raise PluginError("FAILED_PRECONDITION", f"{rel}: cannot create, the file already exists",
                              {"file": rel})
        if not created and current is None:
            raise PluginError("FAILED_PRECONDITION", f"{rel}: the file does not exist", {"file": rel})
        new_lines, offsets = apply_hunks(current or [], fp.hunks, rel)
        if deleted and new_lines:
            raise PluginError("FAILED_PRECONDITION",
                              f"{rel}: the diff deletes the file but does not remove all of its content",
                              {"file": rel})
        if fp.new_mode:
            mode = 0o755 if fp.new_mode == "100755" else 0o644
        elif created:
            mode = 0o644
        state[real] = [None if deleted else new_lines, mode]
        results.append({
            "path": rel,
            "hunks": len(fp.hunks),
            "added": sum(tag == "+" for h in fp.hunks for tag, _ in h.lines),
            "removed": sum(tag == "-" for h in fp.hunks for tag, _ in h.lines),
            "created": created,
            "deleted": deleted,
            "offsets": offsets,
        })

    # Encode now, so even a dry run reports text that cannot be written (lone surrogates
    # from JSON "\ud800" escapes), and a real run cannot fail half-way over it.
    try:
        output = {real: (None if lines is None else "".join(lines).encode(*ENCODING), mode)
                  for real, (lines, mode) in state.items()}
    except UnicodeEncodeError as e:
        raise PluginError("INVALID_ARGUMENT", f"the diff contains text that cannot be encoded: {e.reason}")
    if not dry_run:
        for real, (data, mode) in output.items():
            if data is None:
                if os.path.lexists(real):
                    os.unlink(real)
                    _remove_empty_parents(os.path.dirname(real), root)
            else:
                _write_atomic(real, data, mode)
    return {"applied": not dry_run, "dryRun": dry_run, "files": results}


def repo_patch(payload, roots):
    root = resolve_allowed_dir(payload.get("path"), roots)
    diff = payload.get("diff")
    if not isinstance(diff, str) or not diff.strip():
        raise PluginError("INVALID_ARGUMENT", "'diff' must be a non-empty string")
    dry_run = payload.get("dryRun", True)
    if not isinstance(dry_run, bool):
        raise PluginError("INVALID_ARGUMENT", "'dryRun' must be a boolean")
    return apply_patch(root, diff, dry_run)
