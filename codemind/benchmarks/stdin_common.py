"""What the stdin benchmarks (codenet, codenet-plt, avatar, avatar-full) share.

- Where the data is: these benchmarks are folders of thousands of small files with no single
  canonical download, so they are read from a local mirror (``--data-dir`` or
  ``CODEMIND_DATA``) laid out like ../shared/data.
- Checksums: a folder without a checksum list is pinned in its manifest by one digest over
  all its files (``folder_digest``, checked once per process); a folder that ships a
  ``FILES.sha256`` has that list pinned and each file read is checked against it.
- The input byte cap: an input larger than ``INPUT_CAP_BYTES`` is too big for a prompt, so
  it is left out of the program's inputs and the program carries the reason (ground truth
  counts it ``excluded``) with the input and its stated output: a judge that compares with
  the label (the CodeMind paper's, which asked these) can still have it asked.
- Python 2 detection: a program that does not compile under Python 3 but parses with the
  Python 2 grammar (lib2to3) is marked ``meta["python2"]``.
"""

from __future__ import annotations

import functools
import hashlib
import os
import warnings
from pathlib import Path

from codemind.benchmarks.datafiles import manifest, resolve, sha256_file
from codemind.errors import UserError
from codemind.schema import Language, Program, TestInput

INPUT_CAP_BYTES = 64 * 1024  # stdin larger than this is excluded (AVATAR inputs reach ~1 MB)


def mirror_root(data_dir: Path | None, benchmark: str) -> Path:
    root = data_dir or (Path(os.environ["CODEMIND_DATA"]) if os.environ.get("CODEMIND_DATA") else None)
    if root is None:
        raise UserError(f"benchmark {benchmark} is read from a local data mirror: set CODEMIND_DATA or --data-dir")
    return Path(root)


# ---------------------------------------------------------------- checksums


def folder_digest(folder: Path) -> tuple[str, int]:
    """(sha256 over the ``sha256sum``-style listing of every file under folder, sorted by
    relative path; number of files). Memoised per folder and modification time."""
    folder = folder.resolve()
    return _folder_digest(str(folder), folder.stat().st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _folder_digest(folder: str, mtime_ns: int) -> tuple[str, int]:
    root = Path(folder)
    lines = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        lines.append(f"{sha256_file(path)}  {path.relative_to(root).as_posix()}\n")
    return hashlib.sha256("".join(lines).encode()).hexdigest(), len(lines)


def verify_folder(root: Path, benchmark: str, name: str) -> str:
    """Check folder ``name`` (relative to the mirror root) against its pinned digest in the
    benchmark's manifest; returns the digest."""
    pins = {f["name"]: f for f in manifest(benchmark).get("folders", [])}
    if name not in pins:
        raise UserError(f"manifest of {benchmark} pins no folder {name}")
    folder = root / name
    if not folder.is_dir():
        raise UserError(f"missing data folder {folder} (set CODEMIND_DATA or --data-dir to the mirror)")
    got, files = folder_digest(folder)
    if got != pins[name]["digest"]:
        raise UserError(f"checksum mismatch for folder {folder}: expected digest {pins[name]['digest']}, got {got} "
                        f"({files} files; re-copy the mirror)")
    return got


class ListedFiles:
    """Files of a folder that ships ``FILES.sha256`` (pinned in the manifest): each read is
    checked against its listed sha256."""

    def __init__(self, root: Path, listing: str):
        self.base = root / Path(listing).parent
        path = resolve(listing, root)
        self.listing = listing
        self.listing_sha256 = sha256_file(path)
        self.sums: dict[str, str] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                digest, rel = line.split(None, 1)
                self.sums[rel.strip().lstrip("*")] = digest

    def read(self, rel: str) -> str:
        data = (self.base / rel).read_bytes() if (self.base / rel).is_file() else None
        if data is None:
            raise UserError(f"missing data file {self.base / rel}")
        want = self.sums.get(rel)
        if want is None:
            raise UserError(f"data file {self.base / rel} is not listed in {self.listing}")
        if hashlib.sha256(data).hexdigest() != want:
            raise UserError(f"checksum mismatch for {self.base / rel} (listed in {self.listing})")
        return data.decode("utf-8")


# ---------------------------------------------------------------- programs


@functools.lru_cache(maxsize=1)
def _py2_driver():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lib2to3 import pygram, pytree
        from lib2to3.pgen2 import driver

    return driver.Driver(pygram.python_grammar, convert=pytree.convert)


def is_python2_only(source: str) -> bool:
    """True when the source does not compile under Python 3 but parses as Python 2."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings of valid Python 3 code
            compile(source, "main.py", "exec", dont_inherit=True)
        return False
    except SyntaxError:
        pass
    except (ValueError, RecursionError, MemoryError):
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _py2_driver().parse_string(source if source.endswith("\n") else source + "\n")
        return True
    except Exception:  # lib2to3 raises its own ParseError/TokenError family
        return False


def stdin_program(
    *,
    id: str,
    benchmark: str,
    language: Language,
    source: str,
    tests: list[tuple[str, str | None]],
    meta: dict,
    cap: int = INPUT_CAP_BYTES,
    indices: list[int] | None = None,
) -> Program:
    """A stdin Program from (stdin, stated stdout) pairs, leaving out inputs over the cap
    (recorded in ``meta["excluded_inputs"]``: index, reason, and the ``stdin`` and ``label``
    themselves, for label-only questions: codemind.tasks.base.excluded_inputs). ``indices``
    numbers the inputs (default 0, 1, ...), e.g. AVATAR's own test numbers, which have gaps."""
    inputs, over = [], []
    for k, (stdin, label) in zip(indices if indices is not None else range(len(tests)), tests):
        size = len(stdin.encode("utf-8"))
        if size > cap:
            over.append({"index": k, "reason": f"stdin is {size:,} bytes, over the {cap:,}-byte cap",
                         "stdin": stdin, "label": label})
        else:
            inputs.append(TestInput(index=k, stdin=stdin, label=label))
    meta = dict(meta)
    if language == "python" and is_python2_only(source):
        meta["python2"] = True
    if over:
        meta["excluded_inputs"] = over  # ground truth gives each an ``excluded`` row
    return Program(id=id, benchmark=benchmark, language=language, kind="stdin", source=source, inputs=inputs,
                   meta=meta)
