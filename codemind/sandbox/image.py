"""The sandbox image: an offline recipe, a content-hash tag, and a readiness check.

No registry is reachable on the machines this runs on, so `FROM python:...` cannot be
pulled. The image is built in two steps instead:

1. base: `debootstrap --variant=minbase --include=python3,python3-numpy,openjdk-17-jdk-headless,...`
   (RECIPE["packages"]: ClassEval's libraries too)
   from the machine's own apt mirror, plus a non-root user, streamed into `docker import`.
   Tagged by a hash of the recipe alone, so it is rebuilt only when the recipe changes.
2. final: a tiny build `FROM <base>` that copies the runner in. Tagged by a hash of the
   recipe and the runner files, so a changed runner gives a new tag (and a new sandbox
   identity in the run manifest) in a few seconds.

`sandbox/Dockerfile` in the repo builds the equivalent image for users with a registry.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from codemind import resources
from codemind.errors import UserError

IMAGE_REPO = "codemind-sandbox"
BASE_REPO = "codemind-sandbox-base"
RUNNER_DIR = Path(__file__).resolve().parent / "runner"
IMAGE_RUNNER_DIR = "/opt/codemind/runner"  # where the runner lives inside the image
SANDBOX_UID = 10001

RECIPE: dict = {
    "version": 1,
    "suite": "bookworm",
    "variant": "minbase",
    "packages": ["python3", "python3-numpy", "openjdk-17-jdk-headless",
                 # what ClassEval's classes import (benchmarks/classeval.py; docs/data-noise.md)
                 "python3-pandas", "python3-docx", "python3-pil", "python3-nltk", "python3-bs4",
                 "python3-openpyxl", "python3-pypdf2"],
    "uid": SANDBOX_UID,
    "user": "sandbox",
}

# The second step (finish.Dockerfile: copies the runner to IMAGE_RUNNER_DIR, runs as
# SANDBOX_UID). The user is created in the rootfs before import (minbase has no useradd
# guarantee); the same lines are in sandbox/Dockerfile for registry builds.
FINISH_DOCKERFILE = resources.text("codemind.sandbox", "finish.Dockerfile")

Log = Callable[[str], None]


def _hash(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(hashlib.sha256(p).digest())
    return h.hexdigest()


def runner_files() -> dict[str, bytes]:
    """Every file the image carries from codemind/sandbox/runner (caches excluded)."""
    if not RUNNER_DIR.is_dir():
        return {}
    out = {}
    for p in sorted(RUNNER_DIR.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".class") \
                and p.name != "READY":
            out[p.relative_to(RUNNER_DIR).as_posix()] = p.read_bytes()
    return out


def base_tag() -> str:
    return f"{BASE_REPO}:{_hash(repr(sorted(RECIPE.items())).encode())[:12]}"


def image_tag() -> str:
    """`codemind-sandbox:<hash12>` over the recipe, the finishing step and the runner."""
    files = runner_files()
    parts = [repr(sorted(RECIPE.items())).encode(), FINISH_DOCKERFILE.encode()]
    for name, data in files.items():
        parts += [name.encode(), data]
    return f"{IMAGE_REPO}:{_hash(*parts)[:12]}"


# ---------------------------------------------------------------- apt mirror


def apt_mirror(suite: str = RECIPE["suite"], root: Path = Path("/")) -> str:
    """The Debian mirror this machine's apt already uses for `suite` (never hard-coded)."""
    candidates: list[tuple[str, list[str]]] = []
    sources = root / "etc/apt/sources.list"
    files = [sources] if sources.is_file() else []
    d = root / "etc/apt/sources.list.d"
    if d.is_dir():
        files += sorted(d.glob("*.list")) + sorted(d.glob("*.sources"))
    for f in files:
        text = f.read_text(errors="replace")
        if f.suffix == ".sources":
            for stanza in re.split(r"\n\s*\n", text):
                fields: dict[str, str] = {}
                for line in stanza.splitlines():
                    m = re.match(r"^([A-Za-z-]+):\s*(.*)$", line)
                    if m:
                        fields[m.group(1).lower()] = m.group(2)
                if "deb" in fields.get("types", "").split() and fields.get("enabled", "yes") != "no":
                    for uri in fields.get("uris", "").split():
                        candidates.append((uri, fields.get("suites", "").split()))
        else:
            for line in text.splitlines():
                m = re.match(r"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line)
                if m:
                    candidates.append((m.group(1), [m.group(2)]))
    for uri, suites in candidates:
        if suite in suites and "security" not in uri:
            return uri
    raise UserError(
        f"no apt source for '{suite}' in /etc/apt (pass --mirror URL to `codemind sandbox build`)"
    )


# ---------------------------------------------------------------- engine helpers


def client():
    """A docker SDK client, or UserError if no engine answers."""
    import docker

    try:
        c = docker.from_env(timeout=120)
        c.ping()
        return c
    except Exception as e:  # docker.errors.DockerException, requests errors, ...
        raise UserError(f"no Docker engine reachable ({type(e).__name__}); run .ci/setup-docker.sh") from None


def image_exists(c, tag: str) -> bool:
    import docker

    try:
        c.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


@dataclass(frozen=True)
class ImageInfo:
    tag: str
    id: str
    size_mb: float
    seconds: float


def build(
    mirror: str | None = None, force: bool = False, log: Log = print, workdir: str | None = None
) -> ImageInfo:
    """Make the image for the current recipe + runner (offline); a no-op if it exists."""
    t0 = time.monotonic()
    c = client()
    tag = image_tag()
    if not runner_files():
        raise UserError(f"no runner files in {RUNNER_DIR}")
    if force or not image_exists(c, tag):
        btag = base_tag()
        if force or not image_exists(c, btag):
            _build_base(c, btag, mirror or apt_mirror(), log, workdir)
        log(f"finishing {tag} from {btag}")
        _build_final(c, btag, tag)
    img = c.images.get(tag)
    return ImageInfo(tag, img.id, img.attrs.get("Size", 0) / 1e6, time.monotonic() - t0)


def _build_base(c, btag: str, mirror: str, log: Log, workdir: str | None) -> None:
    if not shutil.which("debootstrap"):
        raise UserError("debootstrap is not installed (apt-get install -y debootstrap)")
    tmp = Path(tempfile.mkdtemp(prefix="codemind-rootfs-", dir=workdir or "/var/tmp"))
    rootfs = tmp / "rootfs"
    logfile = tmp.parent / f"{tmp.name}.log"
    try:
        cmd = [
            "debootstrap",
            f"--variant={RECIPE['variant']}",
            f"--include={','.join(RECIPE['packages'])}",
            RECIPE["suite"],
            str(rootfs),
            mirror,
        ]
        log(f"debootstrap from {mirror} (log: {logfile})")
        with open(logfile, "wb") as lf:
            rc = subprocess.run(cmd, stdout=lf, stderr=subprocess.STDOUT).returncode
        if rc != 0:
            tail = logfile.read_text(errors="replace").strip().splitlines()[-3:]
            raise UserError(f"debootstrap failed (exit {rc}): {' | '.join(tail)}")
        _add_user(rootfs)
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for p in (rootfs / junk).glob("*"):
                if p.is_file():
                    p.unlink()
        log(f"importing rootfs as {btag}")
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        assert tar.stdout is not None
        repo, _, t = btag.partition(":")
        c.api.import_image(src=tar.stdout, repository=repo, tag=t, stream_src=True)
        if tar.wait() != 0:
            raise UserError("tar of the rootfs failed")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _add_user(rootfs: Path) -> None:
    uid, name = RECIPE["uid"], RECIPE["user"]
    with open(rootfs / "etc/passwd", "a") as f:
        f.write(f"{name}:x:{uid}:{uid}:codemind sandbox:/work:/usr/sbin/nologin\n")
    with open(rootfs / "etc/group", "a") as f:
        f.write(f"{name}:x:{uid}:\n")


def _build_final(c, btag: str, tag: str) -> None:
    import docker

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        _add_bytes(tf, "Dockerfile", FINISH_DOCKERFILE.encode())
        for name, data in runner_files().items():
            _add_bytes(tf, f"runner/{name}", data)
    buf.seek(0)
    try:
        c.images.build(
            fileobj=buf, custom_context=True, tag=tag, buildargs={"BASE": btag},
            rm=True, forcerm=True, network_mode="none", labels={"codemind.sandbox": "image"},
        )
    except docker.errors.BuildError as e:
        lines = [str(x.get("stream", x.get("error", ""))).strip() for x in e.build_log]
        raise UserError(f"image build failed: {' | '.join(l for l in lines if l)[-300:]}") from None


def _add_bytes(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = 0o644
    tf.addfile(ti, io.BytesIO(data))


def ensure_final(c, log: Log = print) -> str | None:
    """The image tag for the current runner, finishing it from an existing base image if
    needed (a few seconds: only the runner changed). None when no base image exists."""
    tag = image_tag()
    if image_exists(c, tag):
        return tag
    btag = base_tag()
    if not image_exists(c, btag):
        return None
    log(f"runner changed: finishing {tag} from {btag}")
    _build_final(c, btag, tag)
    return tag


# ---------------------------------------------------------------- doctor


@dataclass(frozen=True)
class Check:
    ok: bool
    line: str


def doctor() -> list[Check]:
    """One line per readiness condition, each saying what to do when it fails."""
    import docker

    try:
        c = docker.from_env(timeout=10)
        v = c.version().get("Version", "?")
    except Exception as e:
        return [
            Check(False, f"engine: not reachable ({type(e).__name__}); start it with .ci/setup-docker.sh "
                  "(or `dockerd &`) and wait for /var/run/docker.sock"),
            Check(False, f"image: {image_tag()} unknown (engine down); then run `codemind sandbox build`"),
        ]
    checks = [Check(True, f"engine: Docker {v} reachable")]
    tag = image_tag()
    if image_exists(c, tag):
        checks.append(Check(True, f"image: {tag} present ({c.images.get(tag).short_id})"))
    elif image_exists(c, base_tag()):
        checks.append(Check(True, f"image: {tag} will be finished from {base_tag()} on first use (seconds)"))
    else:
        checks.append(Check(False, f"image: {tag} missing; run `codemind sandbox build` (offline, ~1 min)"))
    return checks
