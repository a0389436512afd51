"""The Docker sandbox: warm locked-down containers, each running the fork-server runner.

One container per worker (default: one per core) runs `runner.py` as PID 1 (so a program
cannot signal it away: PID 1 ignores signals it has no handler for). The runner connects
back to a Unix socket the host made for that container alone and serves ExecJob frames on
it (pool.WorkerPool does the framing, dispatch and replacement, as for the process sandbox).
The runner forks a child per program, so a job costs a fork, not a container or an
interpreter start.

Containers: no network, read-only root, a noexec tmpfs for /work only, memory and pids
caps, all capabilities dropped, no-new-privileges, a non-root uid (a different one per
worker, so RLIMIT_NPROC is not shared between workers). Each carries labels naming this
process, so containers left by dead runs are found and removed at the next start, and
close() (also run at interpreter exit) removes ours. The same goes for the host directories
that hold a worker's socket while its container starts (``codemind-worker-<pid>-<pidns>-*``,
removed as soon as the runner is connected, so only a process killed during a start leaves
one): a sandbox that starts removes those whose process is dead. A worker that dies, hangs
past the job's wall clock or sends garbage is replaced and the job retried once; a second
failure is a sandbox_error Execution and the run goes on.
"""

from __future__ import annotations

import itertools
import os
import re
import select
import shutil
import socket
import tempfile
import time
import weakref
from typing import Any, Sequence

from codemind.errors import UserError
from codemind.sandbox import image as img
from codemind.sandbox import java as jv
from codemind.sandbox.base import Progress, Sandbox
from codemind.sandbox.pool import PROTOCOL, RunnerDied, Transport, WorkerPool
from codemind.sandbox.process import pid_alive, remove_dead_dirs
from codemind.schema import ExecJob, Execution

LABEL = "codemind.sandbox"
_HOST = socket.gethostname()
BASE_UID = 10001


def engine_ready(timeout: float = 3.0) -> bool:
    """True when a Docker engine answers and the image for the current recipe exists (or its
    base does: then only the runner changed and the sandbox finishes the image on start)."""
    try:
        import docker

        c = docker.from_env(timeout=timeout)
        c.ping()
        return img.image_exists(c, img.image_tag()) or img.image_exists(c, img.base_tag())
    except Exception:
        return False


SOCKET_DIR = "/run/codemind"  # where a container sees its worker's socket directory
START_TIMEOUT = 60.0  # seconds for a container's runner to connect back


def _pid_namespace() -> str:
    """This process's PID namespace (the inode of /proc/self/ns/pid; "0" where unknown): a pid
    in a socket directory's name tells whether its owner lives only within the same namespace."""
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return "0"


_PIDNS = _pid_namespace()
WORKER_DIR_PREFIX = "codemind-worker-"
WORKER_DIR = re.compile(r"codemind-worker-(?P<pid>\d+)-(?P<ns>\d+)-[A-Za-z0-9_]+")
LEGACY_WORKER_DIR = re.compile(r"codemind-worker-[A-Za-z0-9_]{8}")  # before the pid was in the name


def remove_stale_dirs(parent: str | None = None) -> list[str]:
    """Remove socket directories left by dead processes (of this PID namespace) under `parent`
    (default: the temp dir); unnamed ones from older versions once they are an hour old (a
    socket directory is needed for START_TIMEOUT at most)."""
    return remove_dead_dirs(parent or tempfile.gettempdir(), WORKER_DIR,
                            same_namespace=lambda m: m.group("ns") == _PIDNS,
                            legacy=LEGACY_WORKER_DIR, legacy_age=3600.0)


class DockerTransport(Transport):
    """One warm container whose runner connects back to a Unix socket of ours.

    The socket lives alone in a fresh host directory that only this container mounts
    (read-only), and is unlinked once the runner is connected: no program can reach any other
    worker's channel, and none can open a second connection to ours. Frames then go straight
    between the two processes, not through the engine's attach stream (dockerd and the shim
    copying every frame cost about a third of a millisecond per job)."""

    def __init__(self, sandbox: "DockerSandbox", index: int, hash_seed: int = 0):
        self.sb = sandbox
        self.index = index
        self.hash_seed = hash_seed
        self.dir: str | None = None
        self.conn: socket.socket | None = None
        self.container_id: str | None = None

    def start(self) -> tuple[socket.socket, socket.socket]:
        opts, client = self.sb.opts, self.sb.client
        uid = BASE_UID + self.index % 1000
        self.dir = tempfile.mkdtemp(prefix=f"{WORKER_DIR_PREFIX}{os.getpid()}-{_PIDNS}-")
        self.sb.socket_dirs.append(self.dir)
        os.chmod(self.dir, 0o755)
        path = os.path.join(self.dir, "runner.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(path)
            os.chmod(path, 0o666)  # the container's non-root uid connects
            listener.listen(1)
            container = client.containers.create(
                self.sb.image,
                command=["python3", "-I", f"{img.IMAGE_RUNNER_DIR}/runner.py", "--workdir", "/work",
                         "--exclusive", "--deaf", "--connect", f"{SOCKET_DIR}/runner.sock",
                         "--hash-seed", str(self.hash_seed)],
                stop_signal="SIGKILL",
                network_mode="none",
                ipc_mode="none",  # no /dev/shm: no writable place outside /work
                read_only=True,
                # The only writable place; no /tmp, so nothing outside a job's own dir (which the
                # runner removes after the job) can carry state from one program to the next.
                tmpfs={"/work": f"rw,noexec,nosuid,nodev,size={opts['tmpfs_mb']}m,mode=1777"},
                volumes={self.dir: {"bind": SOCKET_DIR, "mode": "ro"}},
                mem_limit=f"{opts['memory_mb']}m",
                memswap_limit=f"{opts['memory_mb']}m",
                pids_limit=opts["pids"],
                nano_cpus=int(opts["cpus"] * 1e9) if opts.get("cpus") else None,
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                user=f"{uid}:{uid}",
                environment={"PYTHONHASHSEED": str(self.hash_seed), "LANG": "C.UTF-8"},
                labels={LABEL: "worker", f"{LABEL}.host": _HOST, f"{LABEL}.pid": str(os.getpid())},
                hostname="sandbox",
                log_config={"type": "none"},
            )
            self.container_id = container.id
            self.sb._ids.append(container.id)
            container.start()
            self.conn = self._accept(listener, container)
        finally:
            listener.close()
            self._remove_dir()
        return self.conn, self.conn

    def _accept(self, listener: socket.socket, container) -> socket.socket:
        """Wait for the runner to connect, giving up early if its container stops."""
        deadline = time.monotonic() + START_TIMEOUT
        listener.settimeout(0.5)
        while True:
            try:
                conn, _ = listener.accept()
                conn.settimeout(None)
                return conn
            except socket.timeout:
                pass
            container.reload()
            state = container.attrs.get("State", {})
            if state.get("Status") not in ("created", "running"):
                why = ("the runner could not reach the host's socket: the docker sandbox needs an engine "
                       "on this machine (it bind-mounts a host directory)" if state.get("ExitCode") == 4
                       else state.get("Error") or "no error")
                raise RunnerDied(f"container exited before its runner connected (exit code "
                                 f"{state.get('ExitCode')}; {why})")
            if time.monotonic() > deadline:
                raise RunnerDied(f"runner did not connect within {START_TIMEOUT:.0f} s (is the engine "
                                 "local? the docker sandbox bind-mounts a host directory)")

    def alive(self) -> bool:
        """Asked before every job, so no engine round trip: an idle runner never sends
        anything, so any event on its socket (EOF, error, stray bytes) means it is gone."""
        if self.conn is None:
            return False
        p = select.poll()
        p.register(self.conn, select.POLLIN | select.POLLPRI)
        return not p.poll(0)

    def kill(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.close()
            except OSError:
                pass
        if self.container_id is not None:
            _remove(self.sb.client, [self.container_id])
        self._remove_dir()

    def _remove_dir(self) -> None:
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


def _remove(client, ids: list[str]) -> None:
    for cid in ids:
        try:
            client.api.remove_container(cid, force=True, v=True)
        except Exception:
            pass


def remove_stale(client, everything: bool = False) -> int:
    """Remove worker containers left by dead processes on this host (or all, if asked)."""
    n = 0
    # sparse: the listing's own fields, no inspect per container (one that another process
    # removes between the listing and its inspect would raise NotFound)
    for c in client.containers.list(all=True, sparse=True, filters={"label": f"{LABEL}=worker"}):
        labels = c.attrs.get("Labels") or {}
        pid = int(labels.get(f"{LABEL}.pid", "0") or 0)
        mine_alive = labels.get(f"{LABEL}.host") == _HOST and pid and pid_alive(pid)
        if everything or not mine_alive:
            _remove(client, [c.id])
            n += 1
    return n


DEFAULT_OPTIONS: dict[str, Any] = {
    "memory_mb": 2048,  # per container: runner + one program + its tmpfs
    "tmpfs_mb": 256,
    "pids": 256,
    "cpus": None,
    "java_batch": 400,  # most programs in one javac call
    "java_warm": True,  # run Java jobs in warm batch JVMs first (see java.run_java)
}


class DockerSandbox(Sandbox):
    """Warm containers running the fork-server runner; see the module docstring."""

    name = "docker"

    def __init__(self, workers: int | None = None, image: str | None = None, **options):
        unknown = set(options) - set(DEFAULT_OPTIONS)
        if unknown:
            raise UserError(f"unknown docker sandbox option(s): {', '.join(sorted(unknown))}")
        self.opts = {**DEFAULT_OPTIONS, **options}
        self.client = img.client()
        import sys

        self.image = image or img.ensure_final(self.client, log=lambda m: print(m, file=sys.stderr)) \
            or img.image_tag()
        try:
            self.image_id = self.client.images.get(self.image).id
        except Exception:
            raise UserError(f"sandbox image {self.image} missing; run `codemind sandbox build`") from None
        self.n = max(1, int(workers or os.cpu_count() or 1))
        remove_stale(self.client)
        remove_stale_dirs()
        self._ids: list[str] = []  # every container we created (for the finalizer)
        self.socket_dirs: list[str] = []  # every socket directory we made (each removed once used)
        self._finalizer = weakref.finalize(self, _remove, self.client, self._ids)
        self._serial = itertools.count()
        self._runtime = super().runtime  # identity() is fixed from here on
        self._pool = WorkerPool(lambda seed: DockerTransport(self, next(self._serial), seed), self.n,
                                runtime=self._runtime, retry_sandbox_errors=True)
        try:
            self._pool.start()
        except Exception as e:
            self.close()
            raise UserError(f"could not start sandbox containers: {str(e).splitlines()[0]}") from None

    @property
    def runtime(self) -> str:
        return self._runtime

    def identity(self) -> dict:
        return {
            "kind": "docker",
            "image": self.image,
            "image_id": self.image_id,
            "runner_protocol": PROTOCOL,
            "java": {"jvm_flags": jv.FAST_JVM_FLAGS, "javac_flags": jv.JAVAC_FLAGS, "warm_batch": self.opts["java_warm"],
                     "stack_room_mb": jv.JVM_STACK_ROOM_MB, "batch_runtime": jv.content_hash_of_batch_main()},
            "container": {k: self.opts[k] for k in ("memory_mb", "tmpfs_mb", "pids")}
            | {"network": "none", "read_only": True, "cap_drop": "ALL", "no_new_privileges": True,
               "user": "non-root"},
        }

    def run(self, jobs: Sequence[ExecJob], progress: Progress | None = None) -> list[Execution]:
        jobs = list(jobs)
        out: list[Execution | None] = [None] * len(jobs)
        py = [i for i, j in enumerate(jobs) if j.language != "java"]
        ja = [i for i, j in enumerate(jobs) if j.language == "java"]
        if py:
            for i, ex in zip(py, self._pool.run([jobs[i] for i in py], progress)):
                out[i] = ex
        if ja:
            runs = jv.run_java([jobs[i] for i in ja], self._pool.run, self.n, self.opts["java_batch"], progress,
                               warm=self.opts["java_warm"])
            for i, ex in zip(ja, runs):
                out[i] = ex.model_copy(update={"runtime": self.runtime})
        return out  # type: ignore[return-value]

    def close(self) -> None:
        self._pool.close()
        self._finalizer()
