"""A pool of warm runner processes (runner/runner.py) fed from threads: the engine shared by
the ``process`` and ``docker`` sandboxes.

A sandbox only decides *how a runner is started*; everything else lives here: framing, the
startup handshake, dispatching jobs to N runners, results in job order, replacing a runner
that died (its job is retried once on a fresh runner, then it is a ``sandbox_error``), and a
host-side backstop timeout in case a runner hangs.

Two transports exist: ``process.ProcessTransport`` (a local ``python3 runner.py`` subprocess,
via ``PipeTransport``, which only needs a command line) and ``docker.DockerTransport`` (a
container whose runner connects back over a Unix socket). A new one implements ``Transport``:
``start()`` returns (what to write to the runner, what to read from it), anything with a
``fileno()``, possibly the same socket twice; ``alive()`` must be cheap (it is asked before
every job) and ``kill()`` frees everything. The factory is called once per worker slot and
again whenever a runner has to be replaced.
"""

from __future__ import annotations

import json
import os
import queue
import select
import signal
import struct
import subprocess
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from typing import BinaryIO, Callable, Protocol, Sequence

from codemind.sandbox.base import Progress
from codemind.schema import ExecJob, Execution

PROTOCOL = 1
_FRAME = struct.Struct(">I")
_RECORD_FIELDS = frozenset(Execution.model_fields) - {"runtime"}  # what a runner may report
HELLO_TIMEOUT = 60.0  # seconds for a runner to start and say hello
GRACE_SECONDS = 30.0  # host backstop beyond a job's wall limit (cleanup, slow start)
STOP_SECONDS = 2.0  # how long a runner gets to exit after EOF before it is killed


class HasFileno(Protocol):
    def fileno(self) -> int: ...


class RunnerDied(Exception):
    """The runner process went away or broke the protocol; the message says how."""


class Transport(ABC):
    """How one runner process is started, checked and killed."""

    @abstractmethod
    def start(self) -> tuple[HasFileno, HasFileno]:
        """Start the runner; return (channel to it, channel from it)."""

    @abstractmethod
    def alive(self) -> bool:
        """True while the runner process exists."""

    @abstractmethod
    def kill(self) -> None:
        """Kill the runner and free its resources; must be safe to call twice."""

    def diagnostics(self) -> str:
        """Anything useful after a failure (e.g. the tail of the runner's stderr)."""
        return ""


class PipeTransport(Transport):
    """A runner that is one local subprocess; subclasses give ``command()`` and ``env()``."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self._stderr = None

    @abstractmethod
    def command(self) -> list[str]: ...

    def env(self) -> dict[str, str] | None:
        return None

    def start(self) -> tuple[BinaryIO, BinaryIO]:
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            self.command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=self.env(),
            start_new_session=True,  # a Ctrl-C in the terminal is the host's business
            close_fds=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        return self.proc.stdin, self.proc.stdout

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """EOF first (an idle runner then cleans up its work dir and exits), SIGKILL to its
        process group if it is still there after a moment."""
        proc, self.proc = self.proc, None
        if proc is not None:
            for stream in (proc.stdin, proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            try:
                proc.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if self._stderr is not None:
            self._last_stderr = self._tail()
            self._stderr.close()
            self._stderr = None

    def diagnostics(self) -> str:
        if self._stderr is not None:
            return self._tail()
        return getattr(self, "_last_stderr", "")

    def _tail(self, n: int = 2000) -> str:
        f = self._stderr
        try:
            f.flush()
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - n))
            return f.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""


class RunnerClient:
    """One started runner: frames out, frames in, with deadlines."""

    def __init__(self, transport: Transport):
        self.transport = transport
        self.to_runner, self.from_runner = transport.start()
        self._out_fd = self.to_runner.fileno()
        self._in_fd = self.from_runner.fileno()
        self._poller = select.poll()
        self._poller.register(self._in_fd, select.POLLIN)
        self._buf = bytearray()
        hello = self._read(time.monotonic() + HELLO_TIMEOUT)
        info = hello.get("hello") if isinstance(hello, dict) else None
        if not isinstance(info, dict) or info.get("protocol") != PROTOCOL:
            raise RunnerDied(f"runner handshake failed: {hello!r}")
        self.hello: dict = info

    def request(self, job_id: int, job: dict, timeout: float) -> dict:
        body = json.dumps({"id": job_id, "job": job}, ensure_ascii=False).encode("utf-8", "surrogatepass")
        self._send(_FRAME.pack(len(body)) + body)
        reply = self._read(time.monotonic() + timeout)
        if reply.get("id") != job_id or not isinstance(reply.get("execution"), dict):
            raise RunnerDied(f"runner answered out of turn: {str(reply)[:200]}")
        return reply["execution"]

    def _send(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                n = os.write(self._out_fd, view)
                view = view[n:]
        except OSError as e:  # BrokenPipeError: the runner is gone
            raise RunnerDied(f"runner stdin closed ({e})") from None

    def _read(self, deadline: float) -> dict:
        self._fill(_FRAME.size, deadline)
        (n,) = _FRAME.unpack_from(self._buf)
        self._fill(_FRAME.size + n, deadline)
        body = bytes(self._buf[_FRAME.size:_FRAME.size + n])
        del self._buf[:_FRAME.size + n]
        try:
            return json.loads(body.decode("utf-8", "surrogatepass"))
        except ValueError as e:
            raise RunnerDied(f"runner sent a bad frame ({e})") from None

    def _fill(self, n: int, deadline: float) -> None:
        """Read until the buffer holds n bytes; reads take what is there (a whole frame,
        header and body, usually arrives in one read)."""
        while len(self._buf) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RunnerDied("runner did not answer in time (host backstop)")
            if not self._poller.poll(max(1, int(remaining * 1000))):  # poll: fds may exceed 1024
                continue
            chunk = os.read(self._in_fd, max(n - len(self._buf), 1 << 16))
            if not chunk:
                raise RunnerDied("runner exited")
            self._buf += chunk

    def close(self) -> None:
        self.transport.kill()


class WorkerPool:
    """N runner slots per hash seed; ``run`` spreads jobs over them and returns Executions in
    job order. A job's ``hash_seed`` picks the runners that serve it: a forked child keeps its
    runner's string-hash seed, so each seed has runners of its own, started on first use by
    ``transport_factory(seed)``."""

    def __init__(self, transport_factory: Callable[[int], Transport], workers: int, runtime: str,
                 retry_sandbox_errors: bool = False):
        """retry_sandbox_errors: a sandbox_error the runner reports (not only a dead runner)
        also means "replace the runner and retry once" (a container whose runner is in trouble)."""
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.transport_factory = transport_factory
        self.workers = workers
        self.runtime = runtime
        self.retry_sandbox_errors = retry_sandbox_errors
        self._clients: dict[int, list[RunnerClient | None]] = {0: [None] * workers}
        self._lock = threading.Lock()  # one run() at a time: a slot serves one job at a time

    # ------------------------------------------------------------ public

    def run(self, jobs: Sequence[ExecJob], progress: Progress | None = None) -> list[Execution]:
        if not jobs:
            return []
        seeds = sorted({j.hash_seed or 0 for j in jobs})
        if seeds == [0]:
            return self._run_seed(0, jobs, progress)
        results: list[Execution | None] = [None] * len(jobs)
        for seed in seeds:
            idx = [i for i, j in enumerate(jobs) if (j.hash_seed or 0) == seed]
            for i, ex in zip(idx, self._run_seed(seed, [jobs[i] for i in idx], progress)):
                results[i] = ex
        return results  # type: ignore[return-value]

    def _run_seed(self, seed: int, jobs: Sequence[ExecJob], progress: Progress | None) -> list[Execution]:
        results: list[Execution | None] = [None] * len(jobs)
        todo: queue.SimpleQueue[int] = queue.SimpleQueue()
        for i in range(len(jobs)):
            todo.put(i)
        progress_lock = threading.Lock()
        progress_errors: list[BaseException] = []

        def report() -> None:
            if progress is not None and not progress_errors:
                with progress_lock:
                    try:
                        progress(1)
                    except BaseException as e:  # re-raised in the caller's thread below
                        progress_errors.append(e)

        def work(slot: int) -> None:
            while True:
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    results[i] = self._run_one(seed, slot, i, jobs[i])
                except Exception as e:  # a bug here must not lose the job silently
                    results[i] = self._error(f"sandbox pool failure: {type(e).__name__}: {e}")
                report()

        with self._lock:
            n = min(self.workers, len(jobs))
            if n == 1:
                work(0)
            else:
                threads = [threading.Thread(target=work, args=(s,), daemon=True) for s in range(n)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
        if progress_errors:
            raise progress_errors[0]
        return [r if r is not None else self._error("job was not run") for r in results]

    def hello(self) -> dict:
        """The hello of a (started) runner: protocol, interpreter, pid, ..."""
        with self._lock:
            return self._client(0, 0).hello

    def start(self) -> None:
        """Start every runner now (in parallel) rather than at the first job; raises RunnerDied
        if one cannot start."""
        errors: list[BaseException] = []

        def one(slot: int) -> None:
            for attempt in range(2):  # a runner that fails to start once (its container removed
                try:                  # under it, a slow engine) gets one more try
                    self._client(0, slot)
                    return
                except Exception as e:
                    if attempt:
                        errors.append(e)
                except BaseException as e:
                    errors.append(e)
                    return

        _in_threads(one, range(self.workers))
        if errors:
            raise errors[0]

    def close(self) -> None:
        clients = [c for slots in self._clients.values() for c in slots if c is not None]
        self._clients = {0: [None] * self.workers}
        _in_threads(lambda c: c.close(), clients)

    # ------------------------------------------------------------ internals

    def _client(self, seed: int, slot: int) -> RunnerClient:
        slots = self._clients.setdefault(seed, [None] * self.workers)
        client = slots[slot]
        if client is not None and not client.transport.alive():
            client.close()
            client = None
        if client is None:
            transport = self.transport_factory(seed)
            try:
                client = RunnerClient(transport)
            except Exception as e:
                transport.kill()
                detail = transport.diagnostics().strip()
                raise RunnerDied(f"{type(e).__name__}: {e}" + (f"\n{detail}" if detail else "")) from e
            except BaseException:
                transport.kill()
                raise
            slots[slot] = client
        return client

    def _run_one(self, seed: int, slot: int, index: int, job: ExecJob) -> Execution:
        payload = job.model_dump(mode="json")
        timeout = job.limits.wall_seconds + GRACE_SECONDS
        failures = []
        for _attempt in range(2):  # a dead runner is replaced and the job retried once
            client = None
            try:
                client = self._client(seed, slot)
                data = client.request(index, payload, timeout)
            except Exception as e:  # RunnerDied, OSError, or whatever a transport's start raises
                detail = client.transport.diagnostics() if client is not None else ""
                failures.append(f"{type(e).__name__}: {e}" + (f"\n{detail.strip()}" if detail.strip() else ""))
                if client is not None:
                    client.close()
                self._clients[seed][slot] = None
                continue
            fields = {k: v for k, v in data.items() if k in _RECORD_FIELDS}
            fields.setdefault("status", "sandbox_error")
            if fields["status"] == "sandbox_error" and self.retry_sandbox_errors and _attempt == 0:
                failures.append(f"runner reported: {fields.get('stderr') or fields.get('exc_message')}")
                client.close()
                self._clients[seed][slot] = None
                continue
            try:
                return Execution(**fields, runtime=self.runtime)
            except ValueError as e:  # the runner's answer does not fit the schema
                return self._error(f"bad execution record from runner: {e}")
        return self._error("runner died twice on this job:\n" + "\n---\n".join(failures))

    def _error(self, message: str) -> Execution:
        return Execution(status="sandbox_error", stderr=message, exc_message=message.splitlines()[0],
                         runtime=self.runtime)


def _in_threads(fn: Callable, items) -> None:
    """fn(item) for every item, one thread each (container starts and removals are slow
    engine round trips; they overlap well)."""
    items = list(items)
    if len(items) <= 1:
        for item in items:
            fn(item)
        return
    threads = [threading.Thread(target=fn, args=(item,), daemon=True) for item in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
