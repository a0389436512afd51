"""The process sandbox on real programs, hostile ones included (no mocks)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from codemind.sandbox.process import ProcessSandbox
from codemind.schema import ExecJob, Limits

FAST = Limits(wall_seconds=2.0, cpu_seconds=2.0, memory_mb=512)


@pytest.fixture(scope="module")
def sandbox():
    with ProcessSandbox(workers=2) as sb:
        yield sb


def run1(sb: ProcessSandbox, source: str, **kw):
    (result,) = sb.run([ExecJob(source=textwrap.dedent(source), **kw)])
    return result


def _alive(pid: int, start: str) -> bool:
    """True if pid is a live (non-zombie) process started at `start` (guards pid reuse)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[0] != "Z" and fields[19] == start


def _wait_all_gone(marks: Path, timeout: float = 3.0) -> list[str]:
    """Pids recorded (as 'pid starttime') in `marks` that are still alive after `timeout`."""
    entries = [line.split() for line in marks.read_text().splitlines() if line.strip()]
    deadline = time.monotonic() + timeout
    while True:
        alive = [p for p, s in entries if _alive(int(p), s)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


MARK = """
import os
def mark(path):
    stat = open('/proc/self/stat').read()
    start = stat[stat.rfind(')') + 2:].split()[19]
    with open(path, 'a') as f:
        f.write(f"{os.getpid()} {start}\\n")
"""


# ---------------------------------------------------------------- normal programs


def test_function_call_returns_repr(sandbox):
    r = run1(sandbox, "def f(xs):\n    return sorted(xs) + ['a']\n", call="f([3, 1, 2])")
    assert r.status == "ok"
    assert r.return_repr == "[1, 2, 3, 'a']"
    assert r.wall_time > 0 and r.peak_memory_kb and r.peak_memory_kb > 0
    assert r.runtime == sandbox.runtime


def test_stdin_program_prints(sandbox):
    r = run1(sandbox, "n = int(input())\nfor i in range(n):\n    print(i * i)\n", stdin="4\n")
    assert r.status == "ok"
    assert r.stdout == "0\n1\n4\n9\n"
    assert r.return_repr is None


def test_large_stdin_is_streamed(sandbox):
    data = "x" * 300_000 + "\n"
    r = run1(sandbox, "import sys\nprint(len(sys.stdin.read()))\n", stdin=data)
    assert r.status == "ok" and r.stdout == f"{len(data)}\n"


def test_exception_type_message_and_traceback(sandbox):
    r = run1(sandbox, "def f(d):\n    return d['missing']\n", call="f({})")
    assert r.status == "exception"
    assert r.exc_type == "KeyError"
    assert r.exc_message == "'missing'"
    assert "Traceback" in r.stderr and 'File "main.py", line 2' in r.stderr
    assert "runner.py" not in r.stderr  # the runner's own frames are hidden


def test_syntax_error_is_compile_error(sandbox):
    r = run1(sandbox, "def f(:\n    pass\n", call="f()")
    assert r.status == "compile_error" and r.exc_type == "SyntaxError"


def test_sources_too_deep_to_compile_are_outcomes_not_sandbox_errors(sandbox):
    # CPython gives up on these while compiling (RecursionError, or MemoryError from the
    # parser's stack), as `python3 main.py` would; the sandbox itself is fine.
    r = run1(sandbox, "x = a" + ".b" * 30000 + "\n")
    assert (r.status, r.exc_type) == ("compile_error", "RecursionError"), r
    r = run1(sandbox, "x = " + "-" * 60000 + "1\n")
    assert (r.status, r.exc_type) == ("memory", "MemoryError"), r
    assert run1(sandbox, "print('next')").stdout == "next\n"


def test_name_main_and_module_state(sandbox):
    src = """
    import dataclasses, pickle
    @dataclasses.dataclass
    class P:
        x: int
    if __name__ == "__main__":
        print(pickle.loads(pickle.dumps(P(3))))
    """
    r = run1(sandbox, src)
    assert r.status == "ok" and r.stdout == "P(x=3)\n"


def test_compile_warnings_reach_the_programs_stderr_every_time(sandbox):
    # The runner compiles clean sources before forking; one that warns is compiled by the
    # child, so the warning is the program's (and is not swallowed by an earlier job's registry).
    for _ in range(2):
        r = run1(sandbox, "x = 1000\nprint(x is 1000)\n")
        assert r.status == "ok" and r.stdout == "True\n"
        assert "SyntaxWarning" in r.stderr and "main.py" in r.stderr


def test_a_call_that_does_not_compile_runs_the_program_first(sandbox):
    r = run1(sandbox, "print('side effect')\ndef f(x):\n    return x\n", call="f(1,,)")
    assert r.status == "exception" and r.exc_type == "SyntaxError" and r.stdout == "side effect\n"


def test_every_job_starts_from_the_same_interpreter_state(sandbox):
    dirty = """
    import sys, io, __main__
    LEAK = 1
    sys.argv.append('x')
    sys.modules['__main__'].extra = 2
    sys.stdout = io.StringIO()
    """
    clean = """
    import sys, __main__
    print(sys.argv, 'LEAK' in globals(), hasattr(__main__, 'extra'), __main__.__file__,
          sys.stdout is sys.__stdout__, sys.stdin is sys.__stdin__, __name__)
    """
    for _ in range(2):
        assert run1(sandbox, dirty).status == "ok"
        r = run1(sandbox, clean)
        assert r.stdout == "['main.py'] False False main.py True True __main__\n", r


def test_large_sources_are_compiled_in_the_child(sandbox):
    big = "DATA = [" + ",".join(str(i) for i in range(20000)) + "]\ndef f():\n    return sum(DATA)\n"
    assert len(big) > 1 << 16
    r = run1(sandbox, big, call="f()")
    assert r.status == "ok" and r.return_repr == str(sum(range(20000)))
    r = run1(sandbox, big + "def g(:\n", call="f()")
    assert r.status == "compile_error" and r.exc_type == "SyntaxError"


def test_sys_exit_and_os_exit(sandbox):
    assert run1(sandbox, "import sys\nprint('a')\nsys.exit(0)\n").status == "ok"
    r = run1(sandbox, "import sys\nsys.exit(0)\n")
    assert r.status == "ok" and r.exit_code == 0
    r = run1(sandbox, "import sys\nsys.exit(4)\n")
    assert r.status == "exception" and r.exc_type == "SystemExit" and r.exit_code == 4
    r = run1(sandbox, "import os\nprint('partial', flush=True)\nos._exit(3)\n")
    assert r.status == "exception" and r.exit_code == 3 and r.stdout == "partial\n"
    r = run1(sandbox, "import os\nos._exit(0)\n")
    assert r.status == "ok" and r.exit_code == 0
    # a function program that exits never returned a value
    r = run1(sandbox, "import sys\ndef f():\n    sys.exit(0)\n", call="f()")
    assert r.status == "exception" and r.exc_type == "SystemExit" and r.return_repr is None


def test_hash_seed_is_pinned(sandbox):
    src = "print(list({'apple', 'banana', 'cherry', 'date', 'elder', 'fig', 'grape'}))\n"
    first = run1(sandbox, src).stdout
    with ProcessSandbox(workers=1) as other:  # fresh runner processes
        again = run1(other, src).stdout
    reference = subprocess.run(
        [sys.executable, "-S", "-c", src], capture_output=True, text=True, env={"PYTHONHASHSEED": "0"}
    ).stdout
    assert first == again == reference


def test_results_come_back_in_job_order(sandbox):
    jobs = [
        ExecJob(source=f"import time\ndef f():\n    time.sleep({(7 * i) % 5} / 200)\n    return {i}\n", call="f()")
        for i in range(30)
    ]
    seen = []
    results = sandbox.run(jobs, progress=seen.append)
    assert [r.return_repr for r in results] == [str(i) for i in range(30)]
    assert sum(seen) == 30


# ---------------------------------------------------------------- limits


def test_infinite_loop_times_out_and_next_job_runs(sandbox):
    t = time.monotonic()
    r = run1(sandbox, "while True:\n    pass\n", limits=Limits(wall_seconds=1.0, cpu_seconds=5))
    assert r.status == "timeout"
    assert 0.9 <= r.wall_time < 3.0 and time.monotonic() - t < 8.0
    assert run1(sandbox, "print('next')").stdout == "next\n"


def test_sleeping_program_times_out_on_wall_clock(sandbox):
    r = run1(sandbox, "import time\ntime.sleep(30)\n", limits=Limits(wall_seconds=0.5))
    assert r.status == "timeout" and r.wall_time < 2.5


def test_cpu_limit_is_a_timeout(sandbox):
    # a generous wall clock: on a loaded machine one CPU second can take many wall seconds
    r = run1(sandbox, "while True:\n    pass\n", limits=Limits(wall_seconds=120, cpu_seconds=1))
    assert r.status == "timeout" and "cpu limit" in r.exc_message


def test_memory_bomb(sandbox):
    r = run1(sandbox, "x = bytearray(8 * 1024 ** 3)\n", limits=FAST)
    assert r.status == "memory" and r.exc_type == "MemoryError"
    grow = Limits(wall_seconds=10, cpu_seconds=10, memory_mb=128)
    r = run1(sandbox, "a = []\nwhile True:\n    a.append(bytearray(10 ** 7))\n", limits=grow)
    assert r.status == "memory" and r.wall_time < 10


def test_huge_output_is_capped(sandbox):
    limits = Limits(wall_seconds=5, output_bytes=10_000)
    r = run1(sandbox, "while True:\n    print('y' * 1000)\n", limits=limits)
    assert r.status == "output_limit"
    assert 0 < len(r.stdout) <= 10_000
    r = run1(sandbox, "def f():\n    return 'z' * 50_000\n", call="f()", limits=limits)
    assert r.status == "output_limit" and r.return_repr is None


# ---------------------------------------------------------------- hostile programs


def test_setsid_grandchild_does_not_survive(sandbox, tmp_path):
    marks = tmp_path / "pids"
    src = MARK + f"""
import time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:          # double fork: re-parented away from the program
        mark({str(marks)!r})
        time.sleep(1000)
    os._exit(0)
time.sleep(0.3)
print('main done')
"""
    r = run1(sandbox, src, limits=Limits(wall_seconds=5))
    assert r.status == "ok" and r.stdout == "main done\n"
    assert marks.read_text().strip(), "the grandchild never ran"
    assert _wait_all_gone(marks) == []


def test_fork_tree_is_contained(sandbox, tmp_path):
    """128 processes, half of them in new sessions, all sleeping: the wall clock must kill
    every one (RLIMIT_NPROC does not bind as root, so this is the process-group/orphan sweep)."""
    marks = tmp_path / "pids"
    src = MARK + f"""
import time
for i in range(7):
    try:
        if os.fork() == 0 and i % 2:
            os.setsid()
    except OSError:
        pass
mark({str(marks)!r})
time.sleep(1000)
"""
    r = run1(sandbox, src, limits=Limits(wall_seconds=1.5, processes=256))
    assert r.status == "timeout"
    assert len(marks.read_text().splitlines()) > 8
    assert _wait_all_gone(marks) == []
    assert run1(sandbox, "print(1)").stdout == "1\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="RLIMIT_NPROC does not apply to root")
def test_fork_bomb_hits_nproc(sandbox):
    src = "import os\nwhile True:\n    os.fork()\n"
    r = run1(sandbox, src, limits=Limits(wall_seconds=3, processes=32))
    assert r.status in ("exception", "timeout")
    assert run1(sandbox, "print(2)").stdout == "2\n"


def test_closing_std_fds_and_result_channel(sandbox):
    r = run1(sandbox, "import os\nos.closerange(0, 256)\n")
    assert r.status == "ok"
    r = run1(sandbox, "import os\nos.close(1)\nos.close(2)\nprint('lost')\n")
    assert r.status in ("ok", "exception")  # print to a closed fd: never a runner crash
    r = run1(sandbox, "import os, sys\nos.close(3)\nos.open('/dev/null', os.O_WRONLY)\nprint('x')\n")
    assert r.status == "ok" and r.stdout == "x\n"
    assert run1(sandbox, "print(3)").stdout == "3\n"


def test_signal_death_is_killed(sandbox):
    r = run1(sandbox, "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    assert r.status == "killed" and "SIGSEGV" in (r.exc_message or "")


def test_program_killing_its_runner_gives_sandbox_error_then_recovers(sandbox):
    r = run1(sandbox, "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nimport time\ntime.sleep(5)\n")
    assert r.status == "sandbox_error"
    assert run1(sandbox, "print('alive')").stdout == "alive\n"


def test_dead_runner_is_replaced_and_job_retried(sandbox, tmp_path):
    flag = tmp_path / "killed-once"
    src = f"""
import os, signal
flag = {str(flag)!r}
if not os.path.exists(flag):
    open(flag, 'w').close()
    os.kill(os.getppid(), signal.SIGKILL)
    import time; time.sleep(5)
print('second attempt')
"""
    r = run1(sandbox, src)
    assert flag.exists()
    assert r.status == "ok" and r.stdout == "second attempt\n"


def test_java_is_a_clear_sandbox_error(sandbox):
    (r,) = sandbox.run([ExecJob(language="java", source="class Main {}")])
    assert r.status == "sandbox_error" and "java not supported" in r.stderr


def test_identity_is_loud_about_isolation(sandbox):
    ident = sandbox.identity()
    assert ident["kind"] == "process"
    assert ident["isolation"] == "weak (rlimits only)"
    assert ident["executable"] and ident["python"] and len(ident["runner_sha256"]) == 64
    assert len(sandbox.runtime) == 16


def test_job_dir_is_fresh_for_every_job(sandbox):
    r = run1(sandbox, "import os\nopen('junk', 'w').write('x')\nos.symlink('/', 'root')\nos.chmod('.', 0)\n")
    assert r.status == "ok"
    r = run1(sandbox, "import os\nprint(sorted(os.listdir('.')), os.getcwd() == os.environ['HOME'])\n")
    assert r.stdout == "[] True\n"
    assert os.path.isdir("/")  # the symlink was removed, not followed


def test_odd_text_never_breaks_the_record(sandbox):
    r = run1(sandbox, "raise ValueError('\\udc80 half a pair')\n")
    assert r.status == "exception" and r.exc_message == "\\udc80 half a pair"
    r.model_dump_json()  # valid UTF-8 throughout
    r = run1(sandbox, "import sys\nsys.stdout.buffer.write(b'\\xff\\xfeok')\n")
    assert r.status == "ok" and r.stdout.endswith("ok")


def test_runner_protocol_directly(tmp_path):
    """The wire protocol as documented in runner.py, spoken by hand; started with -I (which
    ignores PYTHONHASHSEED) the runner must pin the seed itself."""
    import json
    import struct

    from codemind.sandbox.process import RUNNER_PATH

    proc = subprocess.Popen(
        [sys.executable, "-I", str(RUNNER_PATH), "--workdir", str(tmp_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )

    def send(obj) -> None:
        body = json.dumps(obj).encode()
        proc.stdin.write(struct.pack(">I", len(body)) + body)
        proc.stdin.flush()

    def recv() -> dict:
        (n,) = struct.unpack(">I", proc.stdout.read(4))
        return json.loads(proc.stdout.read(n))

    try:
        hello = recv()["hello"]
        assert hello["protocol"] == 1 and hello["hash_randomization"] == 0
        send({"op": "ping"})
        assert recv() == {"op": "pong"}
        send({"id": "a", "job": {"source": "def f(x):\n    return hash('ab') == hash('ab'), x\n", "call": "f(1)"}})
        reply = recv()
        assert reply["id"] == "a" and reply["execution"]["return_repr"] == "(True, 1)"
        body = b"not json"
        proc.stdin.write(struct.pack(">I", len(body)) + body)
        proc.stdin.flush()
        bad = recv()
        assert bad["id"] is None and bad["execution"]["status"] == "sandbox_error"
        send({"id": 7, "job": {"source": "print(7)"}})
        assert recv()["execution"]["stdout"] == "7\n"
        assert any(tmp_path.iterdir())  # the runner's private dir
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    assert not any(tmp_path.iterdir())  # removed at EOF


def test_pool_turns_broken_transports_into_sandbox_errors():
    """The generic pool (also used by the Docker sandbox) never raises for a runner that cannot
    start or that speaks no protocol; each job becomes a sandbox_error with the reason."""
    from codemind.sandbox.pool import PipeTransport, WorkerPool

    class Missing(PipeTransport):
        def command(self):
            return ["/nonexistent/python3", "runner.py"]

    class Mute(PipeTransport):
        def command(self):
            return [sys.executable, "-c", "import sys; sys.stderr.write('no runner here'); sys.exit(0)"]

    for transport, needle in ((Missing, "FileNotFoundError"), (Mute, "no runner here")):
        pool = WorkerPool(lambda seed, t=transport: t(), workers=2, runtime="test")
        try:
            results = pool.run([ExecJob(source="print(1)"), ExecJob(source="print(2)")])
        finally:
            pool.close()
        assert [r.status for r in results] == ["sandbox_error", "sandbox_error"]
        assert all(needle in r.stderr for r in results), results[0].stderr


def test_exit_and_quit_exist_as_in_a_normal_interpreter(sandbox):
    """The runner starts Python with -S (no site), which would leave exit()/quit() undefined;
    CodeNet solutions call them."""
    done, failed, plain = sandbox.run([
        ExecJob(source="print('a')\nexit()\nprint('never')"),
        ExecJob(source="quit(3)"),
        ExecJob(source="print(1)", stdin=""),
    ])
    assert (done.status, done.stdout, done.exit_code) == ("ok", "a\n", 0)
    assert (failed.status, failed.exc_type, failed.exit_code) == ("exception", "SystemExit", 3)
    assert plain.status == "ok"


def test_program_atexit_handlers_run_once_and_only_for_that_program(sandbox):
    """Programs' atexit handlers run as at interpreter shutdown; the next program starts with
    none (every child is a fresh fork)."""
    r = run1(sandbox, """
        import atexit
        atexit.register(lambda: print("bye"))
        print("hi")
    """)
    assert (r.status, r.stdout) == ("ok", "hi\nbye\n"), r
    assert run1(sandbox, "print('next')").stdout == "next\n"
