"""repo.analyze: size, language mix, largest files and TODO/FIXME counts of a directory."""
import os
import re
import shutil
import stat
import subprocess
import time

from common import optional_int, resolve_allowed_dir

SKIP_DIRS = frozenset({".git", "node_modules", "target", ".venv", "__pycache__"})
BINARY_PROBE = 8192  # a NUL byte in this many leading bytes marks a file as binary
TODO_RE = re.compile(rb"\bTODO\b")
FIXME_RE = re.compile(rb"\bFIXME\b")

_LANGUAGE_EXTS = {
    "Java": ".java",
    "Python": ".py .pyi .pyw",
    "TypeScript": ".ts .tsx .mts .cts",
    "JavaScript": ".js .jsx .mjs .cjs",
    "Go": ".go",
    "Rust": ".rs",
    "C": ".c .h",
    "C++": ".cc .cpp .cxx .c++ .hh .hpp .hxx .h++",
    "Shell": ".sh .bash .zsh .ksh",
    "Markdown": ".md .markdown",
    "JSON": ".json",
    "YAML": ".yaml .yml",
    "XML": ".xml .xsd .xsl",
    "HTML": ".html .htm",
    "CSS": ".css",
    "Protocol Buffers": ".proto",
    "SQL": ".sql",
}
LANGUAGES = {ext: lang for lang, exts in _LANGUAGE_EXTS.items() for ext in exts.split()}


def language_of(name):
    return LANGUAGES.get(os.path.splitext(name)[1].lower(), "Other")


def _git(root, *args):
    """Run git without letting the repo's config execute anything (fsmonitor) or prompt."""
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0")
    return subprocess.run(
        ["git", "-c", "core.fsmonitor=false", "-C", root, *args],
        stdin=subprocess.DEVNULL, capture_output=True, env=env, timeout=30,
    )


def _git_files(root):
    """Paths (relative, '/'-separated) git would track here, or None when git can't tell."""
    if shutil.which("git") is None:
        return None
    try:
        inside = _git(root, "rev-parse", "--is-inside-work-tree")
        if inside.returncode != 0 or inside.stdout.strip() != b"true":
            return None
        # Tracked plus untracked-but-not-ignored files, i.e. what .gitignore leaves in.
        listed = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    except (OSError, subprocess.SubprocessError):
        return None
    if listed.returncode != 0:
        return None
    names = (os.fsdecode(p) for p in listed.stdout.split(b"\0") if p)
    return list(dict.fromkeys(names))  # unmerged entries can repeat; keep order


def _walk_files(root, skipped):
    """Walk the tree (sorted, so maxFiles truncation is deterministic), pruning SKIP_DIRS."""
    for dirpath, dirnames, filenames in os.walk(root):
        kept = sorted(d for d in dirnames if d not in SKIP_DIRS)
        skipped["ignored"] += len(dirnames) - len(kept)
        dirnames[:] = kept  # os.walk does not follow symlinked dirs, so no escape here
        rel_dir = os.path.relpath(dirpath, root)
        for name in sorted(filenames):
            rel = name if rel_dir == "." else os.path.join(rel_dir, name)
            yield rel.replace(os.sep, "/")


def _scan(fullpath):
    """(bytes, lines, todo, fixme) of a text file, or None when it is binary."""
    size = lines = todo = fixme = 0
    with open(fullpath, "rb") as f:
        if b"\0" in f.read(BINARY_PROBE):
            return None
        f.seek(0)
        for line in f:  # streamed, so huge files do not need to fit in memory
            lines += 1
            size += len(line)
            if b"TODO" in line:
                todo += len(TODO_RE.findall(line))
            if b"FIXME" in line:
                fixme += len(FIXME_RE.findall(line))
    return size, lines, todo, fixme


def analyze(payload, roots):
    started = time.monotonic()
    root = resolve_allowed_dir(payload.get("path"), roots)
    max_files = optional_int(payload, "maxFiles", None, 1)
    top = optional_int(payload, "top", 10, 0)

    skipped = {"binary": 0, "ignored": 0}
    git_files = _git_files(root)
    is_git = git_files is not None or os.path.exists(os.path.join(root, ".git"))
    candidates = git_files if git_files is not None else _walk_files(root, skipped)

    totals = {"files": 0, "lines": 0, "bytes": 0, "todo": 0, "fixme": 0}
    languages, sizes = {}, []
    examined, truncated = 0, False
    for rel in candidates:
        if git_files is not None and SKIP_DIRS.intersection(rel.split("/")[:-1]):
            skipped["ignored"] += 1  # committed node_modules/target etc. are still noise
            continue
        full = os.path.join(root, rel)
        try:
            st = os.lstat(full)
        except OSError:
            continue  # listed by git but deleted from the work tree
        if not stat.S_ISREG(st.st_mode):
            skipped["ignored"] += 1  # symlinks (could point outside the root), devices, ...
            continue
        if max_files is not None and examined >= max_files:
            truncated = True
            break
        examined += 1
        try:
            scanned = _scan(full)
        except OSError:
            skipped["ignored"] += 1  # unreadable
            continue
        if scanned is None:
            skipped["binary"] += 1
            continue
        size, lines, todo, fixme = scanned
        for key, value in (("files", 1), ("lines", lines), ("bytes", size), ("todo", todo), ("fixme", fixme)):
            totals[key] += value
        lang = languages.setdefault(language_of(rel), {"files": 0, "lines": 0, "bytes": 0})
        lang["files"] += 1
        lang["lines"] += lines
        lang["bytes"] += size
        sizes.append({"path": rel, "bytes": size, "lines": lines})

    sizes.sort(key=lambda f: (-f["bytes"], f["path"]))
    return {
        "path": root,
        "isGitRepo": is_git,
        "files": totals["files"],
        "lines": totals["lines"],
        "bytes": totals["bytes"],
        "languages": [
            {"language": name, **stats}
            for name, stats in sorted(languages.items(), key=lambda kv: (-kv[1]["lines"], kv[0]))
        ],
        "largestFiles": sizes[:top],
        "todo": totals["todo"],
        "fixme": totals["fixme"],
        "skipped": skipped,
        "truncated": truncated,
        "durationMs": int((time.monotonic() - started) * 1000),
    }
