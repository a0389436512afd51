#!/usr/bin/env python3
"""CodeMind program runner: a long-lived fork server that runs one untrusted program per job.

Standalone and stdlib-only: it runs on the host (the ``process`` sandbox) and inside the
sandbox image (Debian bookworm, python3.11, non-root, read-only root, tmpfs work dir; as PID 1
or under ``docker exec -i``). Forking a pre-started interpreter per job is what makes it many
times faster than a fresh ``python3`` per program, while every job still gets its own process.

Start
-----
    python3 -I runner.py [--workdir DIR] [--exclusive] [--deaf] [--connect SOCKET] [--hash-seed N]
                                            (or env CODEMIND_WORKDIR; default $TMPDIR or /tmp;
                                             --exclusive: DIR is the runner's alone, scrub it
                                             after every job; --connect: the protocol runs
                                             over a Unix stream socket, not stdin/stdout;
                                             --hash-seed: the PYTHONHASHSEED of every job, 0)

The runner makes a private ``codemind-runner-<pid>-<random>`` directory under the work dir and
removes it when stdin reaches EOF (a SIGKILLed runner leaves it behind).

Hash seed: forked children inherit the interpreter's string-hash seed, so the runner must run
with a pinned PYTHONHASHSEED (N, default 0: set iteration order must not change between runs
or machines). ``-I`` ignores PYTHON* variables, so when the seed is not pinned the runner
re-executes itself once with PYTHONHASHSEED=N, the same flags minus ``-E``/``-I`` (``-s -P``
kept) and every other PYTHON* variable removed: the same isolation as ``-I`` plus the pinned
seed. Children also get PYTHONHASHSEED=N in their environment. (The host keeps one set of
runners per seed it is asked for.)

Integrity: the runner is not dumpable (PR_SET_DUMPABLE 0, inherited by every child), so a job
running under the same uid without CAP_SYS_PTRACE (the Docker sandbox drops every capability)
can neither ptrace it nor open its /proc/<pid>/mem, fd/ or environ: no job can read or patch the
runner, and through it the next job.

Wire protocol (version 1)
-------------------------
Both directions on the runner's stdin/stdout are frames: a 4-byte big-endian unsigned length
followed by that many bytes of UTF-8 JSON (one object). At startup the runner moves the
protocol to private fds and points fds 0/1 at /dev/null, so nothing it or a program prints can
corrupt the stream; fd 2 stays the runner's diagnostics channel.

  runner -> host, once at start:  {"hello": {"protocol": 1, "python": "3.11.7 ...",
                                   "executable": ..., "pid": ..., "uid": ..., "subreaper": bool,
                                   "hash_seed": N, "dumpable": false, "languages": ["python"]}}
  host -> runner, per job:        {"id": <any JSON>, "job": <schema.ExecJob as JSON>}
  runner -> host, per job:        {"id": <same>, "execution": {status, stdout, stderr,
                                   return_repr, values, exc_type, exc_message, exit_code,
                                   wall_time, peak_memory_kb}}  (schema.Execution minus ``runtime``)
  host -> runner:                 {"op": "ping"}  ->  {"op": "pong"}

Jobs are answered strictly in order, one at a time; EOF on stdin ends the runner (exit 0).
A frame that cannot be parsed is answered with status sandbox_error (id null when unknown).

Per job
-------
Before forking, the runner does what need not happen in the child (a fresh child pays a
copy-on-write page fault for nearly every page it writes, a warm runner does not): it computes
the rlimits and, for Python sources up to 64 KiB that compile without error or warning,
compiles the source and the call. The child then: calls setsid (own process group and
session), sets PR_SET_PDEATHSIG=SIGKILL (unless the runner is a PID namespace's PID 1), gets
rlimits (RLIMIT_CPU = ceil(cpu_seconds), RLIMIT_AS = memory_mb soft and 64 MiB more hard, raised
to the hard limit after a MemoryError so the report can be written; RLIMIT_FSIZE = max(4 x
output_bytes, 16 MiB), RLIMIT_NPROC = processes (only binding for non-root users), RLIMIT_CORE
= 0), works in the runner's job directory (cwd, HOME, TMPDIR; mode 0700, emptied and re-created
between jobs, so every job starts with an empty one), reads job.stdin on fd 0 and writes fds 1/2
into pipes, gets job.env on top of a minimal environment (PATH, LANG, PYTHONHASHSEED=0), then
runs the language handler. For Python: ``exec`` of the source in a fresh ``__main__`` module
(sources not compiled by the runner are compiled here, under the job's limits, so compile
errors and warnings reach the program's stderr), then for function programs ``eval`` of
job.call in those globals; the value's repr() is ``return_repr``. A job with ``calls`` (a list
of expressions) has each evaluated in turn in those globals, and each result goes to the
result channel the moment it is computed, as one line: a plain value (plainvalues.py: exact
builtin types only, so nothing the program defines crosses), the exception it raised, or why it
is not a plain value; ``values`` holds them in order. Judges compare them with what they
expect in their own process: the expected values never enter the sandbox. A job with
``limits.user_cpu_seconds`` also gets an ITIMER_VIRTUAL of that much user CPU time (timeout).

The parent enforces the wall clock (SIGKILL to the whole process group), caps stdout and
stderr at output_bytes each and return_repr at output_bytes characters (over a cap: status
output_limit, text truncated, return_repr dropped), records
wall_time and the child's peak RSS (ru_maxrss via wait4). Afterwards it kills everything the
job left behind: the process group, and, because the runner is a child subreaper, every orphan
(setsid'ed or double-forked grandchildren are re-parented to the runner and found in /proc).

Statuses: ok | exception (exc_type, exc_message, traceback in stderr) | compile_error (the
source does not compile: SyntaxError, or RecursionError when nested too deep; details as for
exception) | timeout (wall clock or RLIMIT_CPU) | memory (MemoryError, or a crash with
MemoryError on stderr) | output_limit | killed (a signal; exc_message names it) | sandbox_error
(the runner could not run the job). SystemExit: code 0/None is ok for stdin programs (exit_code
recorded); any other code, and any exit of a function program before its call returned, is an
exception with exc_type SystemExit. A program that calls os._exit or closes the result channel
is classified from its exit status. tampered: the result channel (fd 3, which the program can
reach) carried lines the runner did not write, out of order or twice: the job's values are
dropped. (A program that writes a well-formed line for every call and then exits is
indistinguishable from one that returned those values: that is as much as it can claim.)

Containment limits (why the host calls this sandbox "weak" outside a container): as root,
RLIMIT_NPROC does not bind, so a fork bomb is stopped by the wall clock plus the sweep; a
program can signal the runner itself (the host then sees the runner die: the job is retried once
on a fresh runner, then reported as sandbox_error); the job's own child dies with the runner
(PDEATHSIG), but grandchildren in a new session can outlive a killed runner. In the Docker
image the container's pid limit and teardown cover those cases.

Adding a language: write a ``_prepare_<lang>(job)`` that runs in the runner before the fork
(returns anything, or None) and a ``_child_<lang>(job, result_fd, result_ino, prepared)`` that
runs inside the prepared child (it may ``os.execvpe`` a compiler/JVM; with no structured result
the exit status is classified as above), and register the pair in HANDLERS. Java is not
handled by this file yet.
"""

from __future__ import annotations

import builtins
import json
import math
import os
import resource
import select
import signal
import struct
import sys
import time
import traceback
import types
import warnings

import _signal  # plain-int signal calls: the signal module's enum conversions cost a child ~50 page faults

PROTOCOL = 1
PROGRAM_FILENAME = "main.py"  # the file name programs see in tracebacks
PLAIN_VALUES_MODULE = "codemind_plainvalues"
_REEXEC_MARK = "CODEMIND_RUNNER_REEXEC"
_SETUP_FAILED = 125  # child exit code: the sandbox setup failed before the program ran
_PR_SET_PDEATHSIG = 1
_PR_GET_DUMPABLE = 3
_PR_SET_DUMPABLE = 4
_PR_SET_CHILD_SUBREAPER = 36
_MAX_CALL_MESSAGE = 1000  # characters of a call's exception message
_FRAME = struct.Struct(">I")
_MAX_FRAME = 1 << 30
_MAX_MESSAGE = 10_000  # exc_message cap (characters)
_CLEANUP_SECONDS = 5.0  # how long to keep hunting leftover descendants after a job
_PRECOMPILE_MAX = 1 << 16  # larger sources are compiled by the child, under the job's limits
_AS_HEADROOM = 64 << 20  # RLIMIT_AS hard limit above the soft one: room to report a MemoryError

# Modules benchmark programs often import: loaded once here, shared by every child (fork).
# Kept short on purpose: every module loaded here makes each fork a little dearer, and
# ``random`` is left out so programs get a fresh, normally seeded generator when they import it.
PRELOAD = (
    "re", "collections", "math", "itertools", "functools", "string", "heapq", "bisect",
    "copy", "json", "operator", "typing",
)

BASE_ENV_KEYS = ("PATH", "LANG", "LC_ALL")


# ---------------------------------------------------------------- startup


def _ensure_hash_seed(seed: int = 0) -> None:
    """Re-exec once with PYTHONHASHSEED=seed unless the interpreter already runs under it."""
    if not sys.flags.ignore_environment and os.environ.get("PYTHONHASHSEED") == str(seed):
        return  # the interpreter honoured the variable: it runs under that seed
    if os.environ.get(_REEXEC_MARK):
        sys.stderr.write(f"runner: cannot pin PYTHONHASHSEED={seed}, refusing to run\n")
        sys.exit(3)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONHASHSEED"] = str(seed)
    env[_REEXEC_MARK] = "1"
    flags = ["-s"]  # never the user site (what -I implied)
    if getattr(sys.flags, "safe_path", False) or sys.flags.isolated:
        flags.append("-P")
    if sys.flags.no_site:
        flags.append("-S")
    if sys.flags.dont_write_bytecode:
        flags.append("-B")
    argv = [sys.executable, *flags, os.path.abspath(__file__), *sys.argv[1:]]
    sys.stderr.flush()
    os.execve(sys.executable, argv, env)


def _libc():
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True)
    except Exception:  # not Linux / no ctypes: run without prctl features
        return None


def _parse_args(argv: list[str]) -> dict:
    opts = {"workdir": os.environ.get("CODEMIND_WORKDIR") or os.environ.get("TMPDIR") or "/tmp"}
    it = iter(argv)
    for arg in it:
        if arg == "--workdir":
            opts["workdir"] = next(it)
        elif arg.startswith("--workdir="):
            opts["workdir"] = arg.split("=", 1)[1]
        elif arg == "--exclusive":  # the workdir is ours alone (a container's tmpfs): scrub it
            opts["exclusive"] = True
        elif arg == "--deaf":  # as PID 1, handle no signal at all: programs share our uid
            opts["deaf"] = True
        elif arg == "--connect":  # speak the protocol over this Unix socket, not stdin/stdout
            opts["connect"] = next(it)
        elif arg == "--hash-seed":  # the PYTHONHASHSEED every job runs under (default 0)
            opts["hash_seed"] = int(next(it))
        else:
            sys.stderr.write(f"runner: unknown argument {arg!r}\n")
            sys.exit(2)
    return opts


class Runner:
    """The fork server: owns the protocol fds, the work dir and the child bookkeeping."""

    def __init__(self, workdir: str, exclusive: bool = False, connect: str | None = None, hash_seed: int = 0):
        self.workdir = workdir
        self.exclusive = exclusive
        self.hash_seed = hash_seed
        self.deaf = False  # PID 1 with no signal handlers (--deaf)
        self.libc = _libc()
        self.subreaper = self.dumpable = False
        if self.libc is not None and sys.platform.startswith("linux"):
            self.subreaper = self.libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
            # Not dumpable: a process of the same uid without CAP_SYS_PTRACE (every job: children
            # inherit the flag across fork) cannot ptrace the runner, nor open its /proc/<pid>/mem,
            # fd/ or environ. A job cannot read or patch the runner, nor through it the next job.
            self.libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
            self.dumpable = self.libc.prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0) != 0
        # Private protocol fds; 0 and 1 become /dev/null so stray output cannot corrupt frames.
        if connect:
            self.proto_in = self.proto_out = _connect_unix(connect)
        else:
            self.proto_in = os.dup(0)
            self.proto_out = os.dup(1)
        self._inbuf = bytearray()
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.close(devnull)
        os.makedirs(workdir, exist_ok=True)
        self.root = _mkdtemp(workdir, f"codemind-runner-{os.getpid()}-")
        self.jobdir = os.path.join(self.root, "job")  # every job's cwd; emptied between jobs
        os.mkdir(self.jobdir, 0o700)
        self.pid = os.getpid()
        self.max_fd = _max_fd()
        # Everything a child inherits is prepared once here, not per job: after a fork every
        # page a process writes costs a copy-on-write fault (expensive on VMs).
        env = {k: os.environ[k] for k in BASE_ENV_KEYS if k in os.environ}
        env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
        env.setdefault("LANG", "C.UTF-8")
        env.update(PYTHONHASHSEED=str(hash_seed), PYTHONDONTWRITEBYTECODE="1",
                   HOME=self.jobdir, TMPDIR=self.jobdir, PWD=self.jobdir)
        os.environ.clear()
        os.environ.update(env)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # children: writes past RLIMIT_FSIZE raise OSError
        # What every child gets anyway is set once here: no core dumps, private files, and
        # the hard caps the per-job limits are clamped to (no getrlimit per job).
        resource.setrlimit(resource.RLIMIT_CORE, _clamp(resource.getrlimit(resource.RLIMIT_CORE)[1], 0))
        os.umask(0o077)
        self.hard_limits = {which: resource.getrlimit(which)[1] for which in _JOB_RLIMITS}
        _prepare_child_state()

    # ------------------------------------------------------------ framing

    def read_frame(self) -> dict | None:
        head = self._read_exact(_FRAME.size)
        if head is None:
            return None
        (n,) = _FRAME.unpack(head)
        if n > _MAX_FRAME:
            raise ValueError(f"frame too large ({n} bytes)")
        body = self._read_exact(n)
        if body is None:
            return None
        return json.loads(body.decode("utf-8", "surrogatepass"))

    def _read_exact(self, n: int) -> bytes | None:
        """n bytes of the stream (None at EOF); reads take whatever is there, so a frame's
        header and body usually come in one read."""
        buf = self._inbuf
        while len(buf) < n:
            chunk = os.read(self.proto_in, max(n - len(buf), 1 << 16))
            if not chunk:
                return None
            buf += chunk
        data = bytes(buf[:n])
        del buf[:n]
        return data

    def write_frame(self, obj: dict) -> None:
        body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
        _write_all(self.proto_out, _FRAME.pack(len(body)) + body)

    # ------------------------------------------------------------ serving

    def hello(self) -> dict:
        return {
            "protocol": PROTOCOL,
            "python": sys.version,
            "executable": sys.executable,
            "pid": self.pid,
            "uid": os.geteuid(),
            "subreaper": self.subreaper,
            "hash_seed": self.hash_seed,
            "hash_randomization": sys.flags.hash_randomization,
            "dumpable": self.dumpable,
            "languages": sorted(HANDLERS),
        }

    def serve(self) -> None:
        self.write_frame({"hello": self.hello()})
        try:
            while True:
                try:
                    request = self.read_frame()
                except (ValueError, UnicodeDecodeError) as e:
                    self.write_frame({"id": None, "execution": _error(f"bad frame: {e}")})
                    continue
                if request is None:
                    return
                if not isinstance(request, dict):
                    self.write_frame({"id": None, "execution": _error("bad frame: not a JSON object")})
                    continue
                if request.get("op") == "ping":
                    self.write_frame({"op": "pong"})
                    continue
                job_id = request.get("id")
                try:
                    job = request["job"]
                    if not isinstance(job, dict):
                        raise TypeError("'job' is not a JSON object")
                    execution = self.run_job(job)
                except Exception:
                    execution = _error("runner failure:\n" + traceback.format_exc())
                self.write_frame({"id": job_id, "execution": execution})
        finally:
            _rmtree(self.root)

    def run_job(self, job: dict) -> dict:
        language = job.get("language", "python")
        handler = HANDLERS.get(language)
        if handler is None:
            return _error(f"{language} not supported by this runner")
        limits = {**DEFAULT_LIMITS, **(job.get("limits") or {})}
        if not os.path.isdir(self.jobdir):
            self.reset_jobdir()
        try:
            return self.supervise(job, limits, self.jobdir, handler)
        finally:
            self.reset_jobdir()
            if self.exclusive:
                self.scrub_workdir()

    def scrub_workdir(self) -> None:
        """With --exclusive the whole workdir is the runner's (in Docker: the container's only
        writable place), so anything a job wrote outside its job dir is removed: no state
        reaches the next job. Two scandirs when nothing was left, which is the usual case."""
        for parent, keep in ((self.workdir, self.root), (self.root, self.jobdir)):
            try:
                with os.scandir(parent) as entries:
                    extra = [e for e in entries if e.path != keep]
            except OSError:
                continue
            for e in extra:
                try:
                    if e.is_dir(follow_symlinks=False):
                        _rmtree(e.path)
                    else:
                        os.unlink(e.path)
                except OSError:
                    pass

    def reset_jobdir(self) -> None:
        """Empty the job dir (most programs write nothing, so usually one scandir)."""
        try:
            st = os.lstat(self.jobdir)
            with os.scandir(self.jobdir) as entries:
                clean = (st.st_mode & 0o7777) == 0o700 and not any(entries)
        except OSError:
            clean = False
        if not clean:
            _rmtree(self.jobdir)
            os.makedirs(self.jobdir, 0o700, exist_ok=True)  # also if someone removed our root
            os.chmod(self.jobdir, 0o700)

    # ------------------------------------------------------------ one job

    def supervise(self, job: dict, limits: dict, workdir: str, handler) -> dict:
        prepare, child = handler
        # Whatever does not depend on being in the child is done here, before the fork: in the
        # warm runner it costs a fraction of what a fresh child pays in copy-on-write faults.
        prepared = prepare(job)
        rlimits = self.job_rlimits(limits)
        stdin_data = (job.get("stdin") or "").encode("utf-8", "surrogateescape")
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        res_r, res_w = os.pipe()
        result_ino = os.fstat(res_w).st_ino
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # ---------------- child: never returns (the parent's ends go in closerange)
            try:
                self.child_setup(job, rlimits, workdir, in_r, out_w, err_w, res_w)
                child(job, _RESULT_FD, result_ino, prepared)
            except BaseException:
                try:  # the constant first: formatting may fail (e.g. with memory used up)
                    os.write(2, b"sandbox setup failed:\n")
                    os.write(2, traceback.format_exc().encode())
                finally:
                    os._exit(_SETUP_FAILED)
            os._exit(_SETUP_FAILED)
        # ---------------- parent
        for fd in (in_r, out_w, err_w, res_w):
            os.close(fd)
        stdin_pipe = [in_w]  # _watch closes it as soon as the program's stdin is complete
        try:
            return self._watch(pid, start, limits, stdin_data, stdin_pipe, out_r, err_r, res_r, job)
        finally:
            for fd in (*stdin_pipe, out_r, err_r, res_r):
                _close_quiet(fd)

    def _watch(self, pid, start, limits, stdin_data, stdin_pipe, out_r, err_r, res_r, job) -> dict:
        in_w = stdin_pipe[0]
        cap = int(limits["output_bytes"])
        n_calls = len(job.get("calls") or ())
        caps = {out_r: cap, err_r: cap, res_r: (n_calls + 1) * cap + (1 << 20)}
        bufs = {out_r: bytearray(), err_r: bytearray(), res_r: bytearray()}
        over = set()
        poller = select.poll()
        for fd in bufs:
            os.set_blocking(fd, False)
            poller.register(fd, select.POLLIN)
        pidfd = _pidfd_open(pid)
        if pidfd is not None:
            poller.register(pidfd, select.POLLIN)
        stdin_view = memoryview(stdin_data)
        if stdin_data:
            os.set_blocking(in_w, False)
            poller.register(in_w, select.POLLOUT)
        else:
            stdin_pipe.clear()
            os.close(in_w)
        deadline = start + float(limits["wall_seconds"])
        reason = None
        exited = False
        try:
            while True:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    reason = "timeout"
                    break
                wait_ms = math.ceil(remaining * 1000) if pidfd is not None else min(10, math.ceil(remaining * 1000))
                for fd, ev in poller.poll(wait_ms):
                    if fd == pidfd:
                        exited = True
                    elif fd == in_w:
                        try:
                            n = os.write(in_w, stdin_view[:65536])
                            stdin_view = stdin_view[n:]
                            done = not stdin_view
                        except BlockingIOError:
                            done = False
                        except OSError:  # the program closed its stdin
                            done = True
                        if done:
                            poller.unregister(in_w)
                            stdin_pipe.clear()
                            os.close(in_w)
                    else:
                        if not _read_some(fd, bufs[fd], caps[fd]):
                            poller.unregister(fd)
                        if len(bufs[fd]) > caps[fd]:
                            over.add(fd)
                if over:
                    reason = "output_limit"
                    break
                if exited or (pidfd is None and _has_exited(pid)):
                    break
        finally:
            if stdin_pipe:
                stdin_pipe.clear()
                _close_quiet(in_w)
            # The child is not reaped yet, so its pid (= pgid = sid) cannot have been reused.
            _kill_group(pid)
            if reason is not None:
                _kill_quiet(pid)
            _, status, usage = _wait4(pid)
            wall = time.perf_counter() - start
            if pidfd is not None:
                _close_quiet(pidfd)
        for fd, buf in bufs.items():  # whatever is still in the pipes
            _drain(fd, buf, caps[fd])
            if len(buf) > caps[fd]:
                over.add(fd)
        self.kill_leftovers()
        result = classify(job, status, reason, bufs[out_r], bufs[err_r], bufs[res_r], over, out_r, err_r, res_r, cap)
        result["wall_time"] = round(wall, 6)
        result["peak_memory_kb"] = int(usage.ru_maxrss) if usage is not None else None
        for key in ("return_repr", "exc_type", "exc_message"):
            if isinstance(result[key], str):
                result[key] = _valid_text(result[key])
            elif result[key] is not None:  # a forged record: keep the host's schema intact
                result[key] = _valid_text(str(result[key]))
        if not isinstance(result["exit_code"], (int, type(None))) or isinstance(result["exit_code"], bool):
            result["exit_code"] = None
        return result

    def job_rlimits(self, limits: dict) -> tuple:
        """The job's (resource, (soft, hard)) pairs, clamped to the runner's hard caps."""
        cpu = max(1, math.ceil(float(limits["cpu_seconds"])))
        out_cap = int(limits["output_bytes"])
        memory = int(limits["memory_mb"]) << 20
        wanted = [(resource.RLIMIT_CPU, cpu, cpu + 1),
                  (resource.RLIMIT_FSIZE, max(4 * out_cap, 16 << 20), None),
                  (resource.RLIMIT_AS, memory, memory + _AS_HEADROOM)]
        if hasattr(resource, "RLIMIT_NPROC"):
            wanted.append((resource.RLIMIT_NPROC, int(limits["processes"]), None))
        return tuple((which, _clamp(self.hard_limits[which], soft, hard)) for which, soft, hard in wanted)

    def child_setup(self, job, rlimits, workdir, in_r, out_w, err_w, res_w) -> None:
        """Everything between fork and the program (the result channel becomes fd 3)."""
        os.setsid()
        # A PID namespace dies with its PID 1, so only a runner that is not PID 1 needs the
        # child to die with it (the ctypes call and the check cost ~0.1 ms of page faults).
        if self.libc is not None and self.pid != 1:
            self.libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != self.pid:  # the runner died between fork and prctl
                os._exit(_SETUP_FAILED)
        os.dup2(in_r, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.dup2(res_w, _RESULT_FD, inheritable=False)
        os.closerange(4, self.max_fd)  # protocol fds, pipe originals, everything else
        os.chdir(workdir)
        if self.pid == 1:
            _signal.signal(_signal.SIGTERM, _signal.SIG_DFL)  # the runner's PID-1 handler is not the program's
            if self.deaf:
                _signal.signal(_signal.SIGINT, _signal.default_int_handler)
        for which, limit in rlimits:
            resource.setrlimit(which, limit)
            if which == resource.RLIMIT_AS:
                _AS_LIFT[0] = (limit[1], limit[1])
        user_cpu = (job.get("limits") or {}).get("user_cpu_seconds")
        if user_cpu:  # SIGVTALRM's default action ends the process: classified as a timeout
            _signal.setitimer(_signal.ITIMER_VIRTUAL, float(user_cpu), 0.0)
        env = job.get("env")
        if env:
            for k, v in env.items():
                os.environ[str(k)] = str(v)

    # ------------------------------------------------------------ leftovers

    def kill_leftovers(self) -> int:
        """Kill and reap every process the job left behind; returns how many were killed.

        Orphans of the job are re-parented to the runner (child subreaper), so "the runner
        still has children" is the cheap test; only then is /proc scanned for descendants."""
        killed = 0
        give_up = time.monotonic() + _CLEANUP_SECONDS
        spins = 0
        while True:
            if not _reap_all():
                return killed
            spins += 1
            if spins <= 4:  # killed group members are usually gone within a millisecond
                time.sleep(0.0002 * spins)
                continue
            descendants = _descendants(self.pid)
            for p in descendants:
                _kill_group(p)
                _kill_quiet(p)
            killed += len(descendants)
            if time.monotonic() > give_up:
                os.write(2, f"runner: could not reap all leftovers of a job ({len(descendants)})\n".encode())
                return killed
            time.sleep(0.002)


# The rlimits set per job (RLIMIT_NPROC where the platform has it).
_JOB_RLIMITS = tuple(getattr(resource, n) for n in ("RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_AS", "RLIMIT_NPROC")
                     if hasattr(resource, n))

DEFAULT_LIMITS = {
    "cpu_seconds": 10.0,
    "wall_seconds": 15.0,
    "memory_mb": 1024,
    "output_bytes": 1 << 20,
    "processes": 64,
    "user_cpu_seconds": None,
}


# ---------------------------------------------------------------- classification


def classify(job, status, reason, out, err, res, over, out_r, err_r, res_r, cap) -> dict:
    """Turn what the child left (exit status, pipes, result record) into an Execution dict."""
    stdout = _text(out[:cap])
    stderr = _text(err[:cap])
    result = {
        "status": "ok",
        "stdout": stdout,
        "stderr": stderr,
        "return_repr": None,
        "exc_type": None,
        "exc_message": None,
        "exit_code": None,
    }
    calls, record, tampered = _read_records(bytes(res) if res_r not in over else b"", job)
    if job.get("calls") is not None:
        result["values"] = [{k: v for k, v in c.items() if k != "call"} for c in calls]
    signum = -os.WTERMSIG(status) if status is not None and os.WIFSIGNALED(status) else None
    code = os.WEXITSTATUS(status) if status is not None and os.WIFEXITED(status) else None
    user_cpu = job_limits(job).get("user_cpu_seconds")
    if reason is None and user_cpu and signum == -signal.SIGVTALRM:
        reason = "user_cpu"
    if tampered and reason is None:
        result.update(status="tampered", values=[] if "values" in result else None,
                      exc_message="the result channel carried records the runner did not write")
    elif reason == "user_cpu":
        result.update(status="timeout", exc_message=f"user cpu limit {user_cpu}s")
    elif reason == "timeout":
        result.update(status="timeout", exc_message=f"wall clock limit {job_limits(job)['wall_seconds']}s")
    elif reason == "output_limit" or out_r in over or err_r in over or res_r in over:
        result.update(status="output_limit", exc_message=f"output over {cap} bytes")
    elif record is not None and len(str(record.get("return_repr") or "")) > cap:
        result.update(status="output_limit", exc_message=f"return value repr over {cap} characters")
    elif record is not None:
        for k in ("status", "return_repr", "exc_type", "exc_message", "exit_code"):
            if k in record:
                result[k] = record[k]
    elif signum is not None:
        sig = -signum
        name = _signame(sig)
        if sig == signal.SIGXCPU:
            result.update(status="timeout", exc_message=f"cpu limit {job_limits(job)['cpu_seconds']}s ({name})")
        elif "MemoryError" in stderr or "Cannot allocate memory" in stderr:
            result.update(status="memory", exc_type="MemoryError", exc_message=f"killed by {name}")
        else:
            result.update(status="killed", exc_message=f"killed by {name}", exit_code=signum)
    elif code == _SETUP_FAILED and "sandbox setup failed" in stderr:
        result.update(status="sandbox_error", exc_message="sandbox setup failed")
    elif code is not None:
        result["exit_code"] = code
        if code == 0 and job.get("call") is None:
            result["status"] = "ok"
        else:
            what = "before the call returned" if job.get("call") is not None else ""
            result.update(status="exception", exc_type="SystemExit",
                          exc_message=f"exited with code {code} {what}".strip())
    else:
        result.update(status="sandbox_error", exc_message="child vanished without an exit status")
    return result


def job_limits(job: dict) -> dict:
    return {**DEFAULT_LIMITS, **(job.get("limits") or {})}


_CHILD_STATUSES = frozenset({"ok", "exception", "compile_error", "memory"})
_FINAL_KEYS = frozenset({"status", "return_repr", "exc_type", "exc_message", "exit_code"})
_CALL_SHAPES = (frozenset({"call", "value"}), frozenset({"call", "raised", "message"}),
                frozenset({"call", "not_value", "truthy"}))


def _read_records(res: bytes, job: dict) -> tuple[list[dict], dict | None, bool]:
    """(call records, final record, tampered) from the result channel. What the child writes is
    one line per call, in order, then the final record: anything else there (a record the
    program wrote itself, out of order, twice, malformed) is tampering. A last line cut short
    (a child killed mid-write) is not."""
    n = len(job.get("calls") or ())
    calls: list[dict] = []
    final = None
    lines = res.split(b"\n")
    for i, raw in enumerate(lines):
        last = i == len(lines) - 1
        if not raw and last:
            break
        try:
            obj = json.loads(raw.decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            return calls, final, not last
        if final is not None or not isinstance(obj, dict):
            return calls, final, True
        keys = frozenset(obj)
        if "call" in obj:
            if keys not in _CALL_SHAPES or obj["call"] != len(calls) or len(calls) >= n \
                    or not all(isinstance(v, str) for k, v in obj.items() if k != "call"):
                return calls, final, True
            calls.append(obj)
        elif obj.get("status") in _CHILD_STATUSES and keys <= _FINAL_KEYS:
            final = obj
        else:
            return calls, final, True
    return calls, final, False


# ---------------------------------------------------------------- the Python child


def _prepare_python(job: dict):
    """In the runner, before the fork: compile the source, the call and the calls (compile() is
    pure, and a fresh child pays ~4x for it in copy-on-write faults). Returns (code, call_code,
    call_codes) or None: a source that does not compile cleanly (an error, a warning) or is
    large is compiled by the child under the job's limits, so errors and warnings reach the
    program's stderr."""
    source, call, calls = job.get("source", ""), job.get("call"), job.get("calls")
    if not isinstance(source, str) or len(source) > _PRECOMPILE_MAX:
        return None
    exprs = ([] if call is None else [call]) + list(calls or ())
    if not all(isinstance(e, str) and len(e) <= _PRECOMPILE_MAX for e in exprs):
        return None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            code = _compile_program(source)
            call_code = None if call is None else _compile_call(call)
            call_codes = None if calls is None else [_compile_call(c) for c in calls]
        except Exception:
            return None
    return None if caught else (code, call_code, call_codes)


def _compile_program(source: str):
    return compile(source, PROGRAM_FILENAME, "exec", dont_inherit=True)


def _compile_call(call: str):
    return compile(call, "<call>", "eval", dont_inherit=True)


def _compile_or_error(call):
    """The call compiled, or the exception compiling it raised (reported as that call's)."""
    try:
        return _compile_call(call)
    except Exception as e:
        return e


def _child_python(job: dict, result_fd: int, result_ino: int, prepared) -> None:
    """Runs inside the prepared child: exec the source as __main__, eval the call (its repr is
    the result) or each of the calls (each value goes to the result channel as a plain value,
    the moment it is computed), report. sys.std*, sys.argv and a fresh __main__ are the
    runner's own (_prepare_child_state), so every child starts from them unchanged."""
    me = os.getpid()  # a program that forks must not report twice
    main = _MAIN
    call, calls = job.get("call"), job.get("calls")
    record: dict = {"status": "ok"}
    exit_code = 0
    try:
        code, call_code, call_codes = prepared or (_compile_program(job.get("source", "")), None, None)
        if calls is not None and call_codes is None:  # before the program runs: it may patch builtins
            call_codes = [_compile_or_error(c) for c in calls]
    except (SyntaxError, ValueError, RecursionError) as e:  # null bytes; nesting too deep to compile
        record = _exception_record(e, "compile_error")
        exit_code = 1
    except MemoryError as e:  # the parser's stack (deep nesting) or the address space ran out
        record = _memory_record(e)
        exit_code = 1
    else:
        try:
            exec(code, main.__dict__)
            if call is not None:
                if call_code is None:
                    call_code = _compile_call(call)
                record["return_repr"] = repr(eval(call_code, main.__dict__))
            if calls is not None:
                cap = int(job_limits(job)["output_bytes"])
                for k, expr in enumerate(call_codes):
                    if not _report_call(k, expr, main.__dict__, cap, result_fd, result_ino):
                        record = _memory_record(MemoryError("while evaluating a call"))
                        exit_code = 1
                        break
        except SystemExit as e:
            exit_code, text = _exit_code(e.code)
            if text:
                _safe_print(text)
            record = {"status": "ok", "exit_code": exit_code}
            if exit_code != 0 or call is not None or calls is not None:
                record.update(status="exception", exc_type="SystemExit", exc_message=_safe_str(e.code))
        except MemoryError as e:
            record = _memory_record(e)
            exit_code = 1
        except BaseException as e:
            record = _exception_record(e, "exception")
            exit_code = 1
    try:
        _run_exit_hooks()
    except BaseException:
        pass
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except BaseException:
            pass
    if os.getpid() != me:
        os._exit(exit_code & 0xFF)
    _send_record(result_fd, result_ino, record)
    os._exit(exit_code & 0xFF)


def _report_call(k: int, expr, ns: dict, cap: int, result_fd: int, result_ino: int) -> bool:
    """Evaluate call k and send its plain value (or what it raised, or why it is not a value).
    False after a MemoryError: the job stops there."""
    pv = _PLAIN
    try:
        if _type(expr) is not _CODE:
            raise expr  # the call did not compile
        value = eval(expr, ns)
    except MemoryError:
        return False
    except BaseException as e:  # SystemExit included: a call that exits has not returned
        rec = {"call": k, "raised": _type(e).__name__, "message": _safe_str(e)[:_MAX_CALL_MESSAGE]}
    else:
        try:
            rec = {"call": k, "value": pv.encode(value, cap)}
        except pv.NotPlain as e:
            # its truth value is all a truth test (``assert f(x)``) asks of it; a program that
            # lies about it could as well have returned True or False
            rec = {"call": k, "not_value": _safe_str(e), "truthy": _truth(value)}
        except MemoryError:
            return False
        except BaseException as e:  # an object whose introspection raises, a recursion limit set low...
            rec = {"call": k, "not_value": f"{_type(e).__name__} while encoding"}
    _send_record(result_fd, result_ino, rec)
    return True


def _truth(value) -> str:
    try:
        return "true" if value else "false"
    except BaseException:
        return "error"


def _send_record(result_fd: int, result_ino: int, record: dict) -> None:
    """One line on the result channel, unless the program closed or replaced it."""
    try:
        if os.fstat(result_fd).st_ino == result_ino:
            _write_all(result_fd, ("".join(_ENCODE(record, 0)) + "\n").encode("ascii"))
    except BaseException:
        pass


class _Quitter:
    """exit() and quit() as the site module defines them. The process sandbox starts the
    runner with -S, which leaves them out, but real programs (CodeNet solutions) call them."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"Use {self.name}() or Ctrl-D (i.e. EOF) to exit"

    def __call__(self, code=None):
        try:
            sys.stdin.close()
        except Exception:
            pass
        raise SystemExit(code)


def _install_quitters() -> None:
    for name in ("exit", "quit"):
        if not hasattr(builtins, name):
            setattr(builtins, name, _Quitter(name))


def _exception_record(e: BaseException, status: str) -> dict:
    try:
        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next  # hide the runner's own frames
        text = "".join(traceback.format_exception(type(e), e, tb))
    except BaseException:
        text = f"{type(e).__name__}\n"
    try:
        sys.stderr.write(text)
    except BaseException:
        try:
            os.write(2, text.encode("utf-8", "backslashreplace"))
        except OSError:
            pass
    return {"status": status, "exc_type": type(e).__name__, "exc_message": _safe_str(e)}


def _exit_code(code) -> tuple[int, str | None]:
    if code is None:
        return 0, None
    if isinstance(code, int) and not isinstance(code, bool):
        return code, None
    return 1, _safe_str(code)


def _safe_str(obj) -> str:
    try:
        text = str(obj)
    except BaseException:
        text = f"<unprintable {type(obj).__name__}>"
    return text[:_MAX_MESSAGE]


def _safe_print(text: str) -> None:
    try:
        sys.stderr.write(text + "\n")
    except BaseException:
        pass


def _record_encoder():
    """A pre-built encoder for the child's result record: calling json.dumps in every child
    walks (and so copies) more of the shared heap."""
    import json.encoder as enc

    if enc.c_make_encoder is not None:
        return enc.c_make_encoder(None, None, enc.encode_basestring_ascii, None, ":", ",", False, False, True)
    return lambda obj, _level: [json.dumps(obj)]


def _memory_record(e: MemoryError) -> dict:
    """The report of a MemoryError. RLIMIT_AS is first lifted to its hard limit (_AS_HEADROOM
    higher) so the report can be formatted; the lift allocates nothing: with the address space
    used up to the last page, even a tuple can raise MemoryError again (pymalloc needs a whole
    new arena)."""
    try:
        resource.setrlimit(resource.RLIMIT_AS, _AS_LIFT[0])
    except BaseException:
        pass
    return _exception_record(e, "memory")


def _run_exit_hooks() -> None:
    """What interpreter shutdown would do: wait for non-daemon threads, run atexit
    (only when the program registered something: touching memory is not free after fork)."""
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        threading._shutdown()
    if _ATEXIT is not None and _ATEXIT._ncallbacks() > _ATEXIT_BASELINE:
        _ATEXIT._run_exitfuncs()


# language -> (prepare: runs in the runner before the fork, child: runs in the forked child)
HANDLERS = {"python": (_prepare_python, _child_python)}
_RESULT_FD = 3
_PLAIN = None  # plainvalues.py (beside this file): the encoder of calls' values, loaded at startup
_type = type  # bound once: a program may rebind builtins.type
_CODE = types.CodeType
_AS_LIFT: list = [None]  # in a child: RLIMIT_AS (hard, hard), prepared by child_setup for _memory_record
_STDIO: tuple = ()
_MAIN = None  # the __main__ module every child execs its program in (empty in the runner)
_RUNNER_MODULE = None  # the runner's own __main__, kept alive
_ENCODE = None  # the C JSON encoder (ASCII output), built once at startup
_ORIGINAL_STDIO: tuple = ()
_ATEXIT = None  # the atexit module, bound at startup (an import statement per child costs page faults)
_ATEXIT_BASELINE = 0  # atexit callbacks the runner itself has (set at startup)


def _load_plain_values() -> None:
    """Load plainvalues.py from beside this file without putting this directory on sys.path
    (programs would import from it) and without importlib.util (children share what we load).
    It is importable as ``codemind_plainvalues`` by jobs that speak it themselves (the judges'
    test harness); a program that patches its copy only changes what its own job reports."""
    global _PLAIN
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plainvalues.py")
    module = types.ModuleType(PLAIN_VALUES_MODULE)
    module.__file__ = path
    with open(path, encoding="utf-8") as f:
        exec(compile(f.read(), path, "exec", dont_inherit=True), module.__dict__)
    sys.modules[PLAIN_VALUES_MODULE] = _PLAIN = module


def _prepare_child_state() -> None:
    """What every child's program sees, installed once in the runner: sys.stdin/stdout/stderr
    on fds 0/1/2 (in the runner /dev/null, /dev/null and its diagnostics; every child points
    them at its own pipes), sys.argv, and an empty __main__ module. A child that set these
    itself would pay page faults for each."""
    import io

    global _STDIO, _ORIGINAL_STDIO, _ENCODE, _MAIN, _RUNNER_MODULE
    _ENCODE = _record_encoder()
    # Keep the interpreter's original stdio objects alive once they are replaced below
    # (deallocating them would flush and close their streams).
    _ORIGINAL_STDIO = (sys.stdin, sys.stdout, sys.stderr, sys.__stdin__, sys.__stdout__, sys.__stderr__)
    _STDIO = (
        io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)),
                         encoding="utf-8", errors="surrogateescape"),
        io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)),
                         encoding="utf-8", errors="strict"),
        io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False)),
                         encoding="utf-8", errors="backslashreplace", line_buffering=True),
    )
    sys.stdin, sys.stdout, sys.stderr = _STDIO
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = _STDIO
    sys.argv = [PROGRAM_FILENAME]
    _RUNNER_MODULE = sys.modules.get("__main__")
    _MAIN = types.ModuleType("__main__")
    _MAIN.__dict__.update(__builtins__=builtins, __file__=PROGRAM_FILENAME, __cached__=None)
    sys.modules["__main__"] = _MAIN


# ---------------------------------------------------------------- small OS helpers


def _error(message: str) -> dict:
    return {"status": "sandbox_error", "stdout": "", "stderr": message, "return_repr": None,
            "exc_type": None, "exc_message": message.splitlines()[0] if message else None,
            "exit_code": None, "wall_time": 0.0, "peak_memory_kb": None}


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_some(fd: int, buf: bytearray, cap: int) -> bool:
    """Read what is available into buf (keeping at most cap+1 bytes); False at EOF."""
    try:
        chunk = os.read(fd, 65536)
    except BlockingIOError:
        return True
    except OSError:
        return False
    if not chunk:
        return False
    room = cap + 1 - len(buf)
    if room > 0:
        buf += chunk[:room]
    return True


def _drain(fd: int, buf: bytearray, cap: int) -> None:
    """Read what is in a (non-blocking) pipe now, without waiting for writers to close it."""
    while len(buf) <= cap:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # BlockingIOError: empty but a leftover process still holds it
            return
        if not chunk:
            return
        buf += chunk[: cap + 1 - len(buf)]


def _valid_text(text: str) -> str:
    """Lone surrogates (str(exception) can carry them) become backslash escapes."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _text(data: bytes | bytearray) -> str:
    return bytes(data).decode("utf-8", "replace")


def _pidfd_open(pid: int):
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _has_exited(pid: int) -> bool:
    try:
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return info is not None


def _wait4(pid: int):
    while True:
        try:
            return os.wait4(pid, 0)
        except InterruptedError:
            continue
        except ChildProcessError:
            return pid, None, None


def _reap_all() -> bool:
    """Reap every exited child; True if the runner still has (live) children."""
    while True:
        try:
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG)
        except ChildProcessError:
            return False
        except InterruptedError:
            continue
        if info is None:
            return True


def _descendants(root: int) -> list[int]:
    """Pids whose parent chain reaches root, from /proc (Linux)."""
    parent: dict[int, int] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        parent[int(name)] = int(fields[1])
    found = []
    for pid in parent:
        p, hops = pid, 0
        while p in parent and hops < 4096:
            p = parent[p]
            hops += 1
            if p == root:
                found.append(pid)
                break
    return found


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass


def _kill_quiet(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def _close_quiet(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def _clamp(cap: int, soft: int, hard: int | None = None) -> tuple[int, int]:
    """(soft, hard) lowered to a hard cap (a process may lower its hard limits, never raise them)."""
    hard = soft if hard is None else hard
    if cap != resource.RLIM_INFINITY:
        hard = min(hard, cap)
        soft = min(soft, hard)
    return soft, hard


def _max_fd() -> int:
    try:
        return max(64, min(os.sysconf("SC_OPEN_MAX"), 1 << 20))
    except (ValueError, OSError):
        return 4096


def _connect_unix(path: str) -> int:
    """A connected stream socket to the host's listener at path, as a bare fd (``_socket``:
    the ``socket`` module would drag in enum, selectors and more for every child to share)."""
    import _socket

    s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        s.connect(path)
    except OSError as e:
        sys.stderr.write(f"runner: cannot connect to {path}: {e}\n")
        sys.exit(4)
    return s.detach()


def _mkdtemp(parent: str, prefix: str) -> str:
    """tempfile.mkdtemp without importing tempfile (and random, shutil, bz2, lzma with it)."""
    while True:
        path = os.path.join(parent, prefix + os.urandom(6).hex())
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue


def _rmtree(path: str) -> None:
    """Remove a tree a hostile program may have chmod'ed or filled with odd entries.
    Symlinks are removed, never followed."""
    try:
        st = os.lstat(path)
    except OSError:
        return
    if not stat_isdir(st.st_mode):
        _unlink_quiet(path)
        return
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass
    try:
        entries = list(os.scandir(path))
    except OSError:
        entries = []
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            _rmtree(entry.path)
        else:
            _unlink_quiet(entry.path)
    try:
        os.rmdir(path)
    except OSError:
        pass


def stat_isdir(mode: int) -> bool:
    return (mode & 0o170000) == 0o040000


def _unlink_quiet(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _signame(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def _terminate(signum, frame) -> None:
    raise SystemExit(0)


def main(argv: list[str]) -> int:
    opts = _parse_args(argv)
    _ensure_hash_seed(opts.get("hash_seed", 0))
    _load_plain_values()
    runner = Runner(opts["workdir"], exclusive=bool(opts.get("exclusive")), connect=opts.get("connect"),
                    hash_seed=opts.get("hash_seed", 0))
    if runner.pid == 1 and opts.get("deaf"):
        # A namespace's PID 1 gets only the signals it has a handler for. Programs run as the
        # runner's uid, so any handler (Python's SIGINT -> KeyboardInterrupt included) would let
        # a program end the runner with os.kill(1, ...): --deaf drops them all (the Docker
        # sandbox removes its containers with SIGKILL, which needs no handler).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        runner.deaf = True
    elif runner.pid == 1:
        # A namespace's PID 1 ignores signals it has no handler for, so `docker stop` would
        # wait for its timeout: exit cleanly instead (the running job is killed on the way out).
        signal.signal(signal.SIGTERM, _terminate)
    for name in PRELOAD:
        try:
            __import__(name)
        except Exception:
            pass
    _install_quitters()
    import gc

    import atexit

    global _ATEXIT, _ATEXIT_BASELINE
    _ATEXIT, _ATEXIT_BASELINE = atexit, atexit._ncallbacks()
    gc.collect()
    gc.freeze()  # keep the shared heap out of every child's garbage collections (less copy-on-write)
    try:
        runner.serve()
    except BrokenPipeError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
