"""Java support: compile many programs in one `javac` call, run each with a fast-start JVM.

A cold `javac` costs about a second per program; one `javac` over a few hundred programs
costs ~30 ms each. So a batch of Java jobs is compiled in one call inside the sandbox:
every distinct program is moved into its own package (`package cmNNN;`) so that the
dozens of classes named `Main` do not clash, and its file is named after its public
class (CodeNet says `Main`, Avatar has `Punctuation`, `codeforces`, ...). javac stops
generating classes at the first error anywhere, so files with errors are taken out
with their own diagnostics (status compile_error) and the rest is compiled again.

The compiled class files travel back to the host (base64) and each run job carries
the bytes of its own program, so any warm worker can run any program: the worker
writes them to the job's private temp dir and starts `java` with flags that cut JVM
start-up (C1 only, serial GC, the JDK's CDS archive, no perf-data file).

Both steps are plain Python jobs for the runner (the scripts in javabatch/ run inside the
sandbox), so the runner needs no Java-specific code and every limit it applies to a
Python job (wall clock, process-group kill, output cap, private temp dir) applies.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Callable

from codemind import resources
from codemind.sandbox.base import Progress
from codemind.schema import ExecJob, Execution, Limits

PKG_PREFIX = "cm"

# JVM flags for short programs: C1 only, serial GC, class-data sharing, no hsperfdata
# file, and reservations small enough to live under an address-space rlimit.
FAST_JVM_FLAGS = [
    "-XX:TieredStopAtLevel=1",
    "-XX:+UseSerialGC",
    "-Xshare:auto",
    "-XX:-UsePerfData",
    "-XX:CompressedClassSpaceSize=64m",
    "-XX:ReservedCodeCacheSize=32m",
    "-XX:MaxMetaspaceSize=128m",
    "-Xss16m",
    "-Dfile.encoding=UTF-8",
    # The JDK 8/11 the programs were written for let them reflect into these (fast-IO tricks
    # on String.value and PrintStream.autoFlush); JDK 17 refuses unless they are opened.
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
]

# Address space a JVM job gets beyond its memory limit: competitive programs run their solver
# in a thread with a 128-512 MiB stack, which the JVM reserves up front. A reservation is not
# memory: -Xmx (sized from memory_mb) and the container's memory limit bound what is used.
JVM_STACK_ROOM_MB = 1024


def jvm_flags(limits: Limits) -> list[str]:
    """Fast-start flags plus a heap that fits the job's memory limit."""
    mb = limits.memory_mb
    heap = mb - 640 if mb >= 896 else max(32, mb // 4)  # the rest: code cache, metaspace, stacks
    return [*FAST_JVM_FLAGS, f"-Xmx{heap}m"]


def jvm_job_limits(limits: Limits) -> Limits:
    """The runner limits of a job that starts a JVM for a program with these limits."""
    return limits.model_copy(update={"memory_mb": limits.memory_mb + JVM_STACK_ROOM_MB})


# ---------------------------------------------------------------- source preparation

_COMMENT_OR_STRING = re.compile(
    r'//[^\n]*|/\*.*?\*/|"""(?:\\.|[^\\])*?"""|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S
)
_TYPE_DECL = re.compile(
    r"\b((?:(?:public|final|abstract|static|strictfp|sealed|non-sealed)\s+)*)(class|interface|enum|record)\s+([A-Za-z_$][\w$]*)"
)
_MAIN = re.compile(r"\bstatic\b[^;{}()]*\bvoid\s+main\s*\(")
_PACKAGE = re.compile(r"^\s*package\s+[\w.]+\s*;", re.M)


def _blank(m: re.Match) -> str:
    return re.sub(r"[^\n]", " ", m.group(0))


@dataclass(frozen=True)
class JavaUnit:
    """One program as it is compiled: its package, file and the class to run."""

    pkg: str
    path: str  # relative source path, e.g. "cm3/Main.java"
    text: str  # source with the package line
    main: str  # fully qualified class to run, e.g. "cm3.Main"


def top_level_types(source: str) -> list[tuple[str, bool, bool]]:
    """(name, is_public, has_main) for each top-level type, comments and strings ignored."""
    code = _COMMENT_OR_STRING.sub(_blank, source)
    out: list[tuple[str, bool, bool]] = []
    depth = 0
    decls = list(_TYPE_DECL.finditer(code))
    di = 0
    current: list | None = None  # [name, public, has_main, body_start]
    for i, ch in enumerate(code):
        while di < len(decls) and decls[di].start() <= i:
            m = decls[di]
            di += 1
            if depth == 0 and current is None:
                current = [m.group(3), "public" in m.group(1).split(), False, None]
        if ch == "{":
            depth += 1
            if depth == 1 and current is not None and current[3] is None:
                current[3] = i
        elif ch == "}":
            depth -= 1
            if depth == 0 and current is not None and current[3] is not None:
                body = code[current[3] : i]
                current[2] = bool(_MAIN.search(body))
                out.append((current[0], current[1], current[2]))
                current = None
    return out


def prepare(source: str, index: int) -> JavaUnit:
    """Put the program in package cm<index>, name its file after its public class and
    find the class whose main() to run (the public one first, else any with main)."""
    types = top_level_types(source)
    public = [t for t in types if t[1]]
    with_main = [t for t in types if t[2]]
    file_class = public[0][0] if public else (with_main[0][0] if with_main else "Main")
    main_class = next((t[0] for t in public if t[2]), None) or (
        with_main[0][0] if with_main else file_class
    )
    pkg = f"{PKG_PREFIX}{index}"
    code = _COMMENT_OR_STRING.sub(_blank, source)
    m = _PACKAGE.search(code)
    if m:  # replace the program's own package line, keep line numbers
        text = source[: m.start()] + source[m.start() : m.end()].replace(
            source[m.start() : m.end()].strip(), f"package {pkg};"
        ) + source[m.end() :]
    else:  # same line as the first line of the program, so line numbers stay right
        text = f"package {pkg}; " + source
    return JavaUnit(pkg, f"{pkg}/{file_class}.java", text, f"{pkg}.{main_class}")


# ---------------------------------------------------------------- the in-sandbox scripts (javabatch/*.py)

# javabatch/compile_batch.py reads {"files": {path: text}, "flags": [...]} on stdin, prints one
# JSON object: {"classes": {pkg: {relpath: b64}}, "errors": {pkg: message}}.
COMPILE_SCRIPT = resources.text("codemind.sandbox", "javabatch/compile_batch.py")

JAVAC_FLAGS = [
    "-encoding", "UTF-8", "-nowarn", "-proc:none", "-g:source,lines", "-Xmaxerrs", "10000",
    "-J-XX:+UseSerialGC", "-J-Xshare:auto", "-J-XX:-UsePerfData", "-J-Xss16m",
    "-J-XX:CompressedClassSpaceSize=64m", "-J-XX:ReservedCodeCacheSize=64m",
]


def compile_request(units: list[JavaUnit], memory_mb: int) -> str:
    """The stdin of the compile job."""
    heap = max(256, memory_mb - 640)
    return json.dumps({"files": {u.path: u.text for u in units}, "flags": [*JAVAC_FLAGS, f"-J-Xmx{heap}m"]})


def compile_limits(n: int, base: Limits) -> Limits:
    """Generous limits for one javac over n programs (class bytes come back on stdout)."""
    return Limits(
        cpu_seconds=60 + 2.0 * n,
        wall_seconds=90 + 2.0 * n,
        memory_mb=max(2048, base.memory_mb),
        output_bytes=max(base.output_bytes, 64 << 20),
        processes=max(base.processes, 256),
    )


# The run step (javabatch/run_program.py, after CLASSES, FLAGS and MAIN are set): write this
# program's classes into the job's temp dir, then exec java so the JVM inherits the runner's
# stdio, rlimits and process group.
RUN_SCRIPT = resources.text("codemind.sandbox", "javabatch/run_program.py")


def run_source(classes: dict[str, str], main: str, limits: Limits) -> str:
    """Python source of the run job for one compiled program."""
    return (
        f"CLASSES = {classes!r}\nFLAGS = {jvm_flags(limits)!r}\nMAIN = {main!r}\n" + RUN_SCRIPT
    )


# ---------------------------------------------------------------- the warm batch JVM

# A JVM start costs ~0.1 s of CPU; most benchmark programs run in a few ms. So run jobs
# go in batches to one warm JVM (cmrun.BatchMain, javabatch/BatchMain.java, compiled with every
# javac batch) that runs each program in a fresh class loader and thread group with its own
# stdin/stdout/stderr, under the JDK's SecurityManager. A program's batch result counts only if
# nothing it did can reach another program (see BatchMain's docstring); anything else (a
# denied permission, JVM-wide state changed, threads left, timeout, OutOfMemoryError, output
# cap) makes the batch answer "fallback" for it and stop: that program runs in a JVM of its
# own, the rest of the batch in a new batch.
BATCH_PKG = "cmrun"
BATCH_MAIN_SOURCE = resources.text("codemind.sandbox", "javabatch/BatchMain.java")

# Source text of programs the batch JVM would only answer "fallback" for, or whose code could
# outlive them (finalizers, cleaners, pool threads, shutdown hooks): they run one JVM each from
# the start. Unicode escapes are decoded first (javac reads `\u0066inalize` as `finalize`).
# This only saves time: BatchMain's checks hold without it.
_NOT_BATCHED = re.compile(
    r"FileDescriptor|finaliz|Cleaner|ForkJoin|parallel|CompletableFuture|Executor|ShutdownHook|Timer"
    r"|setDefault|setPropert|setOut|setErr|setIn\b|setAccessible|setSecurityManager|getenv"
    r"|ProcessBuilder|\.exec\s*\(|Unsafe|System\s*\.\s*load"
)
_UNICODE_ESCAPE = re.compile(r"\\+u+([0-9a-fA-F]{4})")
# The JDK packages BatchMain lets programs use (its PACKAGES); a program naming another runs alone.
_BATCH_PACKAGES = frozenset(
    re.findall(r'"([\w.]+)"', BATCH_MAIN_SOURCE[BATCH_MAIN_SOURCE.index("PACKAGES = Set.of(") :].split(";")[0])
)
_JDK_NAME = re.compile(r"\b((?:java|javax|jdk|sun|com\.sun|org\.(?:w3c|xml|ietf))(?:\.[a-z_][a-z0-9_]*)*)\s*\.\s*[A-Z*]")


def batchable(job: ExecJob) -> bool:
    """Whether a job may go to a warm batch JVM (see _NOT_BATCHED and _BATCH_PACKAGES); jobs with
    an environment of their own run alone, since the batch JVM has the batch's."""
    src = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), job.source)
    if job.env or _NOT_BATCHED.search(src):
        return False
    return all(m.group(1) in _BATCH_PACKAGES for m in _JDK_NAME.finditer(src))


def content_hash_of_batch_main() -> str:
    """Part of the sandbox identity: what the batch JVM runs and how it is started."""
    import hashlib

    return hashlib.sha256((BATCH_MAIN_SOURCE + BATCH_SCRIPT).encode()).hexdigest()[:16]


BATCH_UNIT = JavaUnit(BATCH_PKG, f"{BATCH_PKG}/BatchMain.java", BATCH_MAIN_SOURCE, f"{BATCH_PKG}.BatchMain")

# The batch run step (javabatch/run_batch.py, after RUNTIME, PROGRAMS, REQUEST and FLAGS are set):
# write BatchMain's and the programs' classes and the request, then exec the batch JVM.
BATCH_SCRIPT = resources.text("codemind.sandbox", "javabatch/run_batch.py")


def batch_job(items: list[tuple[str, JavaUnit, dict[str, str], ExecJob]], runtime: dict[str, str]) -> ExecJob:
    """One runner job that runs several programs in one warm JVM. items: (id, unit, its
    class files, the original job)."""
    import base64
    import struct

    req = bytearray(struct.pack(">i", len(items)))
    programs: dict[str, str] = {}
    for ident, unit, classes, job in items:
        data = job.stdin.encode("utf-8", "surrogateescape")
        for s in (ident, unit.main):
            b = s.encode()
            req += struct.pack(">H", len(b)) + b
        req += struct.pack(">qiiq", int(job.limits.wall_seconds * 1000), job.limits.output_bytes, len(data), 16 << 20)
        req += data
        programs.update(classes)
    limits = Limits(
        wall_seconds=sum(j.limits.wall_seconds for *_, j in items) + 30,
        cpu_seconds=sum(j.limits.cpu_seconds for *_, j in items) + 30,
        memory_mb=max(j.limits.memory_mb for *_, j in items),
        output_bytes=sum(2 * j.limits.output_bytes for *_, j in items) + (1 << 20),
        processes=max(j.limits.processes for *_, j in items),
    )
    src = (f"RUNTIME = {runtime!r}\nPROGRAMS = {programs!r}\nREQUEST = {base64.b64encode(bytes(req)).decode()!r}\n"
           f"FLAGS = {jvm_flags(limits)!r}\n" + BATCH_SCRIPT)
    return ExecJob(language="python", source=src, limits=jvm_job_limits(limits))


def batch_results(ex: Execution, ids: list[str]) -> tuple[dict[str, Execution], str | None]:
    """The programs a batch answered for good, and the id of the one it answered "fallback" for
    (None if none). Strict: only the batch's ids, in order, each once; the first line that is
    anything else ends what is believed (the programs not answered run again)."""
    out: dict[str, Execution] = {}
    expected = iter(ids)
    for line in ex.stdout.splitlines():
        try:
            r = json.loads(line)
            if not isinstance(r, dict) or r.get("id") != next(expected, None):
                break
            if "fallback" in r:
                return out, str(r["id"])
            code = int(r["exit"])
            raw = Execution(status="ok" if code == 0 else "exception", stdout=r["stdout"], stderr=r["stderr"],
                            exit_code=code, wall_time=float(r.get("wall", 0.0)))
        except (ValueError, KeyError, TypeError):
            break
        out[str(r["id"])] = java_outcome(raw)
    return out, None


# ---------------------------------------------------------------- outcomes

_UNCAUGHT = re.compile(r'^Exception in thread "main" ([\w.$]+)(?::\s?(.*))?$', re.M)


def java_outcome(ex: Execution) -> Execution:
    """Turn the runner's view of a `java` process into a Java outcome: an uncaught
    exception's class and message, OutOfMemoryError as memory."""
    if ex.status not in ("ok", "exception"):
        return ex
    if "Error occurred during initialization of VM" in ex.stdout + ex.stderr:
        oom = "OutOfMemoryError" in ex.stdout + ex.stderr or "reserve" in ex.stdout + ex.stderr
        return ex.model_copy(update={"status": "memory" if oom else "sandbox_error",
                                     "exc_type": "java.lang.OutOfMemoryError" if oom else None,
                                     "exc_message": "the JVM could not start within the limits"})
    m = _UNCAUGHT.search(ex.stderr)
    if m:
        typ, msg = m.group(1), (m.group(2) or "").strip()
        status = "memory" if typ == "java.lang.OutOfMemoryError" else "exception"
        return ex.model_copy(update={"status": status, "exc_type": typ, "exc_message": msg})
    if "java.lang.OutOfMemoryError" in ex.stderr or "Could not reserve enough space" in ex.stderr:
        return ex.model_copy(update={"status": "memory", "exc_type": "java.lang.OutOfMemoryError"})
    if ex.exit_code not in (0, None):
        return ex.model_copy(
            update={"status": "exception", "exc_type": "SystemExit", "exc_message": str(ex.exit_code)}
        )
    return ex.model_copy(update={"status": "ok", "exc_type": None, "exc_message": None})


def compile_error(message: str) -> Execution:
    return Execution(status="compile_error", stderr=message, exc_type="CompileError",
                     exc_message=message.splitlines()[0] if message else "")


def decode_compile_output(stdout: str) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    data = json.loads(stdout)
    return data["classes"], data["errors"]


def run_java(
    jobs: list[ExecJob],
    run_python: Callable[[list[ExecJob], Progress | None], list[Execution]],
    workers: int = 1,
    max_batch: int = 400,
    progress: Progress | None = None,
    warm: bool = True,
) -> list[Execution]:
    """Run Java jobs on any sandbox that runs Python jobs: compile every distinct program in
    a few javac calls (one per worker, at most max_batch programs each), run the jobs in
    warm batch JVMs where they behave (warm=True), and the rest one JVM per job. Results are
    in the order of `jobs`."""
    index: dict[str, int] = {}
    for j in jobs:
        index.setdefault(j.source, len(index))
    units = [prepare(src, i) for src, i in index.items()]
    if not units:
        return []
    k = min(len(units), max(workers, math.ceil(len(units) / max_batch)))
    chunks = [units[i::k] for i in range(k)]
    base = jobs[0].limits
    compile_jobs = [
        ExecJob(language="python", source=COMPILE_SCRIPT,
                stdin=compile_request(c + ([BATCH_UNIT] if warm else []), base.memory_mb),
                limits=compile_limits(len(c), base))
        for c in chunks
    ]
    classes: dict[str, dict[str, str]] = {}
    failed: dict[str, Execution] = {}
    for chunk, r in zip(chunks, run_python(compile_jobs, None)):
        try:
            if r.status != "ok":
                raise ValueError(f"{r.status}: {r.exc_message or ''} {r.stderr[-1500:]}")
            got, errs = decode_compile_output(r.stdout)
        except ValueError as e:
            for u in chunk:
                failed[u.pkg] = Execution(status="sandbox_error", stderr=f"javac step failed: {e}",
                                          exc_message="javac step failed")
            continue
        classes.update(got)
        for pkg, msg in errs.items():
            failed[pkg] = compile_error(msg)
    runtime = classes.pop(BATCH_PKG, None)
    failed.pop(BATCH_PKG, None)
    out: list[Execution | None] = [None] * len(jobs)
    todo: list[int] = []
    for i, j in enumerate(jobs):
        u = units[index[j.source]]
        if u.pkg in failed or u.pkg not in classes:
            out[i] = failed.get(u.pkg) or Execution(status="sandbox_error", stderr="no class files")
            if progress:
                progress(1)
        else:
            todo.append(i)
    if warm and runtime:
        pending = [i for i in todo if batchable(jobs[i])]
        size = max(1, min(64, math.ceil(len(pending) / (2 * workers))))
        while pending:  # each round answers or sets aside at least one program per batch
            batches = [pending[b : b + size] for b in range(0, len(pending), size)]
            items = [[(str(i), units[index[jobs[i].source]], classes[units[index[jobs[i].source]].pkg], jobs[i])
                      for i in b] for b in batches]
            pending = []
            for b, ex in zip(batches, run_python([batch_job(it, runtime) for it in items], None)):
                got, fell = batch_results(ex, [str(i) for i in b])
                for ident, res in got.items():
                    out[int(ident)] = res
                if fell is not None:  # it runs alone; the programs after it go to the next round
                    pending += b[b.index(int(fell)) + 1 :]
                if progress:
                    progress(len(got))
        todo = [i for i in todo if out[i] is None]
    run_jobs = []
    for i in todo:
        u = units[index[jobs[i].source]]
        run_jobs.append(ExecJob(language="python", source=run_source(classes[u.pkg], u.main, jobs[i].limits),
                                stdin=jobs[i].stdin, limits=jvm_job_limits(jobs[i].limits), env=jobs[i].env))
    for i, ex in zip(todo, run_python(run_jobs, progress) if run_jobs else []):
        out[i] = java_outcome(ex)
    return out  # type: ignore[return-value]


__all__ = [
    "JavaUnit", "prepare", "top_level_types", "COMPILE_SCRIPT", "compile_request", "compile_limits",
    "run_source", "run_java", "java_outcome", "compile_error", "decode_compile_output", "jvm_flags", "jvm_job_limits",
]
