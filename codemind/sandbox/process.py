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

Programs see the standard library only (the runner starts with ``-S``); pass
``site_packages=True`` to give them the interpreter's site-packages. (The Docker image's runner
loads ``site``: there programs also see Debian's dist-packages, i.e. numpy.)
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from functools import cached_property
from pathlib import Path
from typing import Sequence

from codemind.errors import UserError
from codemind.sandbox.base import SANDBOXES, Progress, Sandbox
from codemind.sandbox.pool import PROTOCOL, PipeTransport, WorkerPool
from codemind.schema import ExecJob, Execution

RUNNER_PATH = Path(__file__).with_name("runner") / "runner.py"
ISOLATION = "weak (rlimits only)"


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


@SANDBOXES.register("process")
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
