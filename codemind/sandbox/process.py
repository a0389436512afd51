"""The ``process`` sandbox: warm local runner processes (runner/runner.py) that fork one child
per job, with rlimits, a private temp dir, a wall clock that kills the whole process group and
capped output.

ISOLATION IS WEAK: the program runs as the calling user, with the host's filesystem and
network. Use it when no Docker engine is reachable, for trusted benchmark programs, or for
speed; use the ``docker`` sandbox for model-written code. As root, RLIMIT_NPROC does not bind,
so a fork bomb is only stopped by the wall clock and the process-group / orphan sweep.

Speed (CRUXEval, 800 programs, 2 workers on a 2-core VM, 2026-11-26): about 1000 programs/s,
4.8x a bare ``python3 -I -S -c`` per program (209/s). Most of a job's cost is the kernel's:
fork, copy-on-write page faults and exit; the runner keeps the child's share small by doing
everything it can (compiling included) before the fork.

Leftovers: each runner works in its own ``codemind-runner-<pid>-*`` directory (under /tmp or
``workdir``) and removes it when its host goes away; a sandbox that starts removes the ones
whose runner is dead (a runner SIGKILLed itself cannot clean up).

Programs see the standard library only (the runner starts with ``-S``); pass
``site_packages=True`` to give them the interpreter's site-packages. (The Docker image's runner
loads ``site``: there programs also see Debian's dist-packages, i.e. numpy.)
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from functools import cached_property
from pathlib import Path
from typing import Sequence

from codemind.errors import UserError
from codemind.sandbox.base import Progress, Sandbox
from codemind.sandbox.pool import PROTOCOL, PipeTransport, WorkerPool
from codemind.schema import ExecJob, Execution

RUNNER_PATH = Path(__file__).with_name("runner") / "runner.py"
ISOLATION = "weak (rlimits only)"
RUNNER_WORKDIR = "/tmp"  # the runner's default work dir (its environment has no TMPDIR)
RUNNER_DIR = re.compile(r"codemind-runner-(?P<pid>\d+)-[0-9a-f]+")  # runner.py: codemind-runner-<pid>-<random>


def pid_alive(pid: int) -> bool:
    """True while a process with this pid exists (in this PID namespace) and is not a zombie
    (a zombie cleans up nothing any more); unknown is alive."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def remove_tree(path: str) -> None:
    """rmtree for a tree a program may have chmod'ed: make each directory writable and retry.
    Symlinks are removed, never followed."""

    def retry(func, target, _exc):
        try:
            parent = os.path.dirname(target)
            os.chmod(parent, stat.S_IRWXU)
            if os.path.isdir(target) and not os.path.islink(target):
                os.chmod(target, stat.S_IRWXU)
                shutil.rmtree(target, ignore_errors=True)
            else:
                func(target)
        except OSError:
            pass

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=retry)
    else:
        shutil.rmtree(path, onerror=retry)


def remove_dead_dirs(parent: str, pattern: re.Pattern, same_namespace=lambda m: True,
                     legacy: re.Pattern | None = None, legacy_age: float = 3600.0) -> list[str]:
    """Remove the directories under `parent` that a dead process left: names that match
    `pattern` (a `pid` group) whose pid no longer exists and for which `same_namespace(match)`
    holds (a pid from another PID namespace tells nothing). Names that match `legacy` carry no
    pid: those are removed once older than `legacy_age` seconds. Only plain directories owned
    by this user are touched; returns what was removed."""
    removed: list[str] = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    me = os.getuid()
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        old = legacy is not None and m is None and legacy.fullmatch(entry.name)
        if not (m or old):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != me:
            continue
        if m and (not same_namespace(m) or int(m.group("pid")) == os.getpid() or pid_alive(int(m.group("pid")))):
            continue
        if old and time.time() - st.st_mtime < legacy_age:
            continue
        remove_tree(entry.path)
        if not os.path.lexists(entry.path):
            removed.append(entry.path)
    return removed


def runner_sha256() -> str:
    """Over every file the runner is made of (runner.py and the modules beside it)."""
    from codemind.sandbox.image import runner_files

    h = hashlib.sha256()
    for name, data in runner_files().items():
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()


class ProcessTransport(PipeTransport):
    """``python3 -s -P [-S] runner.py`` with a cleared environment and a pinned PYTHONHASHSEED.

    (``-I`` would ignore PYTHONHASHSEED; ``-s -P`` plus an environment without other PYTHON*
    variables is the same isolation with the seed pinned.)"""

    def __init__(self, python: str, site_packages: bool, workdir: str | None, hash_seed: int = 0):
        super().__init__()
        self.python = python
        self.site_packages = site_packages
        self.workdir = workdir
        self.hash_seed = hash_seed

    def command(self) -> list[str]:
        cmd = [self.python, "-s", "-P"]
        if not self.site_packages:
            cmd.append("-S")
        cmd.append(str(RUNNER_PATH))
        if self.workdir:
            cmd += ["--workdir", self.workdir]
        return cmd + ["--hash-seed", str(self.hash_seed)]

    def env(self) -> dict[str, str]:
        env = {k: os.environ[k] for k in ("PATH", "LANG") if k in os.environ}
        env["PYTHONHASHSEED"] = str(self.hash_seed)
        return env


class ProcessSandbox(Sandbox):
    """Local fork-server sandbox. Options: ``python`` (interpreter, default this one),
    ``site_packages`` (default False), ``workdir`` (parent of the per-job temp dirs)."""

    name = "process"

    def __init__(self, workers: int | None = None, **options):
        python = options.pop("python", None) or sys.executable
        site_packages = bool(options.pop("site_packages", False))
        workdir = options.pop("workdir", None)
        if options:
            raise UserError(f"unknown option(s) for the process sandbox: {', '.join(sorted(options))}")
        if workers is not None and workers < 1:
            raise UserError(f"workers must be at least 1 (got {workers})")
        if not RUNNER_PATH.is_file():
            raise UserError(f"runner missing: {RUNNER_PATH}")
        self.python = python
        self.site_packages = site_packages
        self.workdir = workdir
        self.workers = workers or os.cpu_count() or 1
        # A runner removes its codemind-runner-<pid>-* dir when its host goes away (EOF); one
        # that was SIGKILLed itself (OOM killer, a kill of the whole process tree) cannot.
        remove_dead_dirs(workdir or RUNNER_WORKDIR, RUNNER_DIR)
        # Fixed at construction: the identity (and so the cache key) describes the runner
        # file these workers start from, even if the file changes while they run.
        self._identity = {
            "kind": "process",
            "python": self._python_version,
            "executable": self.python,
            "site_packages": self.site_packages,
            "runner_sha256": runner_sha256(),
            "protocol": PROTOCOL,
            "hash_seed": 0,
            "isolation": ISOLATION,
        }
        self._pool = WorkerPool(
            lambda seed: ProcessTransport(self.python, self.site_packages, self.workdir, seed),
            self.workers,
            runtime=self.runtime,
        )

    @cached_property
    def _python_version(self) -> str:
        if os.path.realpath(self.python) == os.path.realpath(sys.executable):
            return sys.version
        try:
            out = subprocess.run([self.python, "-I", "-S", "-c", "import sys; print(sys.version)"],
                                 capture_output=True, text=True, timeout=30, check=True)
        except (OSError, subprocess.SubprocessError) as e:
            raise UserError(f"cannot run python interpreter {self.python!r}: {e}") from None
        return out.stdout.strip()

    def identity(self) -> dict:
        return dict(self._identity)

    def run(self, jobs: Sequence[ExecJob], progress: Progress | None = None) -> list[Execution]:
        return self._pool.run(jobs, progress)

    def close(self) -> None:
        self._pool.close()
