"""The Docker sandbox: warm locked-down containers, each running the fork-server runner.

One container per worker (default: one per core) runs `runner.py` as PID 1 (so a program
cannot signal it away: PID 1 ignores signals it has no handler for), reading ExecJob frames
on its attached stdin and answering Execution frames on stdout. The runner forks a child per
program, so a job costs a fork, not a container or an interpreter start.

Containers: no network, read-only root, a noexec tmpfs for /work only, memory and pids
caps, all capabilities dropped, no-new-privileges, a non-root uid (a different one per
worker, so RLIMIT_NPROC is not shared between workers). Each carries labels naming this
process, so containers left by dead runs are found and removed at the next start, and
close() (also run at interpreter exit) removes ours. A worker that dies, hangs past the job's
wall clock or sends garbage is replaced and the job retried once; a second failure is a
sandbox_error Execution and the run goes on.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import struct
import threading
import time
import weakref
from typing import Any, Sequence

from codemind.errors import UserError
from codemind.sandbox import image as img
from codemind.sandbox import java as jv
from codemind.sandbox.base import SANDBOXES, Progress, Sandbox
from codemind.schema import ExecJob, Execution

LABEL = "codemind.sandbox"
_FRAME = struct.Struct(">I")
_MUX = struct.Struct(">BxxxL")
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


class WorkerDied(Exception):
    """The container stopped answering; the job may be retried on a fresh one."""


class DockerWorker:
    """One warm container and the framed pipe to its runner."""

    def __init__(self, client, image: str, index: int, opts: dict[str, Any]):
        self.client = client
        self.index = index
        uid = BASE_UID + index % 1000
        self.container = client.containers.create(
            image,
            command=["python3", "-I", f"{img.IMAGE_RUNNER_DIR}/runner.py", "--workdir", "/work", "--exclusive",
                     "--deaf"],
            stop_signal="SIGKILL",
            stdin_open=True,
            tty=False,
            network_mode="none",
            ipc_mode="none",  # no /dev/shm: no writable place outside /work
            read_only=True,
            # The only writable place; no /tmp, so nothing outside a job's own dir (which the
            # runner removes after the job) can carry state from one program to the next.
            tmpfs={"/work": f"rw,noexec,nosuid,nodev,size={opts['tmpfs_mb']}m,mode=1777"},
            mem_limit=f"{opts['memory_mb']}m",
            memswap_limit=f"{opts['memory_mb']}m",
            pids_limit=opts["pids"],
            nano_cpus=int(opts["cpus"] * 1e9) if opts.get("cpus") else None,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            user=f"{uid}:{uid}",
            environment={"PYTHONHASHSEED": "0", "LANG": "C.UTF-8"},
            labels={LABEL: "worker", f"{LABEL}.host": _HOST, f"{LABEL}.pid": str(os.getpid())},
            ulimits=None,
            hostname="sandbox",
            log_config={"type": "none"},
        )
        try:
            resp = client.api.attach_socket(
                self.container.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
            )
            self.sock: socket.socket = getattr(resp, "_sock", resp)
            self.container.start()
            self.raw = bytearray()  # multiplexed bytes not parsed yet
            self.out = bytearray()  # the runner's stdout (protocol frames)
            self.err = bytearray()  # the runner's stderr (diagnostics, last 4 KiB)
            self.next_id = 0
            hello = self._recv(time.monotonic() + 60)
            if "hello" not in hello:
                raise WorkerDied(f"no hello from runner: {hello!r:.200}")
            self.hello = hello["hello"]
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------ framing

    def _send(self, obj: dict) -> None:
        body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
        try:
            self.sock.sendall(_FRAME.pack(len(body)) + body)
        except OSError as e:
            raise WorkerDied(f"send failed: {e}") from None

    def _recv(self, deadline: float) -> dict:
        while True:
            if len(self.out) >= 4:
                (n,) = _FRAME.unpack_from(self.out)
                if len(self.out) >= 4 + n:
                    body = bytes(self.out[4 : 4 + n])
                    del self.out[: 4 + n]
                    try:
                        return json.loads(body.decode("utf-8", "surrogatepass"))
                    except ValueError as e:
                        raise WorkerDied(f"bad frame from runner: {e}") from None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerDied("runner did not answer in time")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                raise WorkerDied("runner did not answer in time") from None
            except OSError as e:
                raise WorkerDied(f"recv failed: {e}") from None
            if not chunk:
                raise WorkerDied(f"runner exited: {self.err[-500:].decode(errors='replace')}")
            self.raw += chunk
            self._demux()

    def _demux(self) -> None:
        while len(self.raw) >= _MUX.size:
            stream, size = _MUX.unpack_from(self.raw)
            if len(self.raw) < _MUX.size + size:
                return
            payload = self.raw[_MUX.size : _MUX.size + size]
            del self.raw[: _MUX.size + size]
            if stream == 1:
                self.out += payload
            else:
                self.err += payload
                del self.err[:-4096]

    # ------------------------------------------------------------ jobs

    def run(self, job: ExecJob) -> Execution:
        self.next_id += 1
        jid = self.next_id
        self._send({"id": jid, "job": job.model_dump(mode="json")})
        deadline = time.monotonic() + job.limits.wall_seconds + 30
        while True:
            reply = self._recv(deadline)
            if reply.get("id") == jid and isinstance(reply.get("execution"), dict):
                return Execution(**{k: v for k, v in reply["execution"].items() if k in Execution.model_fields})
            if reply.get("id") is None and isinstance(reply.get("execution"), dict):
                raise WorkerDied(f"runner rejected a frame: {reply['execution'].get('stderr', '')[:200]}")

    def close(self) -> None:
        try:
            self.sock.close()
        except Exception:
            pass
        _remove(self.client, [self.container.id])


def _remove(client, ids: list[str]) -> None:
    for cid in ids:
        try:
            client.api.remove_container(cid, force=True, v=True)
        except Exception:
            pass


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def remove_stale(client, everything: bool = False) -> int:
    """Remove worker containers left by dead processes on this host (or all, if asked)."""
    n = 0
    for c in client.containers.list(all=True, filters={"label": f"{LABEL}=worker"}):
        labels = c.labels or {}
        pid = int(labels.get(f"{LABEL}.pid", "0") or 0)
        mine_alive = labels.get(f"{LABEL}.host") == _HOST and pid and _pid_alive(pid)
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


@SANDBOXES.register("docker")
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
        self._ids: list[str] = []  # every container we created (for the finalizer)
        self._finalizer = weakref.finalize(self, _remove, self.client, self._ids)
        self._lock = threading.Lock()
        self._serial = 0
        self._idle: queue.Queue[DockerWorker] = queue.Queue()
        errors: list[BaseException] = []
        threads = [threading.Thread(target=self._spawn_into_idle, args=(errors,)) for _ in range(self.n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            self.close()
            raise UserError(f"could not start sandbox containers: {errors[0]}")
        self._runtime = super().runtime  # identity() is fixed from here on

    @property
    def runtime(self) -> str:
        return self._runtime

    # ------------------------------------------------------------ workers

    def _spawn(self) -> DockerWorker:
        with self._lock:
            index = self._serial
            self._serial += 1
        w = DockerWorker(self.client, self.image, index, self.opts)
        self._ids.append(w.container.id)
        return w

    def _spawn_into_idle(self, errors: list) -> None:
        try:
            self._idle.put(self._spawn())
        except BaseException as e:
            errors.append(e)

    def identity(self) -> dict:
        return {
            "kind": "docker",
            "image": self.image,
            "image_id": self.image_id,
            "runner_protocol": 1,
            "java": {"jvm_flags": jv.FAST_JVM_FLAGS, "javac_flags": jv.JAVAC_FLAGS, "warm_batch": self.opts["java_warm"],
                     "batch_runtime": jv.content_hash_of_batch_main()},
            "container": {k: self.opts[k] for k in ("memory_mb", "tmpfs_mb", "pids")}
            | {"network": "none", "read_only": True, "cap_drop": "ALL", "no_new_privileges": True,
               "user": "non-root"},
        }

    def _run_one(self, job: ExecJob) -> Execution:
        """Run one job on an idle worker; a worker that dies, hangs or reports a sandbox_error is
        replaced and the job retried once."""
        failure = ""
        for _attempt in range(2):
            w = self._idle.get()
            try:
                ex = w.run(job)
            except WorkerDied as e:
                failure = str(e)
                w.close()
                try:
                    w = self._spawn()
                except Exception as e2:  # engine trouble: keep the pool size by retrying later
                    failure += f"; respawn failed: {e2}"
                    self._idle.put(_Placeholder(self))  # type: ignore[arg-type]
                    continue
                self._idle.put(w)
                continue
            if ex.status == "sandbox_error" and _attempt == 0:  # the runner itself is in trouble
                failure = ex.stderr
                w.close()
                try:
                    self._idle.put(self._spawn())
                except Exception as e2:
                    failure += f"; respawn failed: {e2}"
                    self._idle.put(_Placeholder(self))  # type: ignore[arg-type]
                continue
            self._idle.put(w)
            return ex.model_copy(update={"runtime": self.runtime})
        return Execution(status="sandbox_error", stderr=failure, exc_message=failure[:200], runtime=self.runtime)

    def _map(self, jobs: Sequence[ExecJob], progress: Progress | None) -> list[Execution]:
        results: list[Execution | None] = [None] * len(jobs)
        todo: queue.Queue[int] = queue.Queue()
        for i in range(len(jobs)):
            todo.put(i)

        def loop() -> None:
            while True:
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    results[i] = self._run_one(jobs[i])
                except Exception as e:  # never lose a job to a harness bug
                    results[i] = Execution(status="sandbox_error", stderr=repr(e), runtime=self.runtime)
                if progress:
                    progress(1)

        threads = [threading.Thread(target=loop, daemon=True) for _ in range(min(self.n, len(jobs)))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return [r for r in results]  # type: ignore[misc]

    def run(self, jobs: Sequence[ExecJob], progress: Progress | None = None) -> list[Execution]:
        jobs = list(jobs)
        out: list[Execution | None] = [None] * len(jobs)
        py = [i for i, j in enumerate(jobs) if j.language != "java"]
        ja = [i for i, j in enumerate(jobs) if j.language == "java"]
        if py:
            for i, ex in zip(py, self._map([jobs[i] for i in py], progress)):
                out[i] = ex
        if ja:
            runs = jv.run_java([jobs[i] for i in ja], self._map, self.n, self.opts["java_batch"], progress,
                               warm=self.opts["java_warm"])
            for i, ex in zip(ja, runs):
                out[i] = ex.model_copy(update={"runtime": self.runtime})
        return out  # type: ignore[return-value]

    def close(self) -> None:
        while True:
            try:
                w = self._idle.get_nowait()
            except queue.Empty:
                break
            if isinstance(w, DockerWorker):
                try:
                    w.sock.close()
                except Exception:
                    pass
        self._finalizer()


class _Placeholder:
    """Stands in for a worker the engine could not start; tries again when picked."""

    def __init__(self, sb: DockerSandbox):
        self.sb = sb

    def run(self, job: ExecJob) -> Execution:
        raise WorkerDied("worker could not be started")

    def close(self) -> None:
        pass
