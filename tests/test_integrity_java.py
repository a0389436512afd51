"""Java programs in one warm batch JVM cannot reach each other (real Docker engine).

Each case runs a hostile program and, in the same `sandbox.run([...])` call (so in the same
batch JVM if it were allowed to stay there), two normal programs. Every program must get
exactly what it gets alone, in a JVM of its own: the normal ones are not affected, and the
hostile one is not cut short or changed by the batch. Each case runs twice: as in production,
and with the source filter that keeps such programs out of batches switched off, so that
BatchMain's own checks are what is tested. One worker, so all three share a container.
Skips without an engine, except in CI (CI=true), where it fails.
"""

from __future__ import annotations

import json

import pytest
from docker_helpers import need_docker

from codemind.schema import ExecJob, Execution, Limits

pytestmark = pytest.mark.docker

LIMITS = Limits(wall_seconds=10, cpu_seconds=10)


@pytest.fixture(scope="module")
def sb():
    from codemind.sandbox.docker import DockerSandbox

    need_docker()
    s = DockerSandbox(workers=1)
    yield s
    s.close()


def _java(src: str, stdin: str = "") -> ExecJob:
    return ExecJob(language="java", source=src, stdin=stdin, limits=LIMITS)


def _key(ex: Execution) -> tuple:
    return ex.status, ex.stdout, ex.exit_code, ex.exc_type


_ALONE: dict[tuple[str, str], Execution] = {}


def alone(sb, job: ExecJob) -> Execution:
    """What the program gives in a JVM of its own (no batch JVM at all)."""
    k = (job.source, job.stdin)
    if k not in _ALONE:
        sb.opts["java_warm"] = False
        try:
            _ALONE[k] = sb.run([job])[0]
        finally:
            sb.opts["java_warm"] = True
    return _ALONE[k]


# Shows, in its stdout, whatever another program could have changed: the default locale and
# time zone, a system property, the Integer cache, the default uncaught-exception handler,
# thread numbering, its stdin, and output from others' leftover threads (it waits 0.4 s).
PROBE = _java(
    "import java.util.*;\n"
    "public class Main { public static void main(String[] a) throws Exception {\n"
    "  String word = new Scanner(System.in).next();\n"
    "  Thread.sleep(400);\n"
    "  Thread t = new Thread(() -> { throw new IllegalStateException(\"in a thread\"); }); t.start(); t.join();\n"
    "  Integer two = 2;\n"
    "  System.out.print(String.format(\"%.2f\", 1.5) + \" \" + TimeZone.getDefault().getID() + \" \" + two + \" \"\n"
    "      + new Thread(() -> {}).getName() + \" \" + word + System.getProperty(\"line.separator\"));\n"
    "  System.out.println(\"end\");\n"
    "} }\n",
    stdin="probe\n",
)
HELLO = _java(
    "public class Hello { public static void main(String[] a) {"
    " System.out.println(\"hi \" + new java.util.Scanner(System.in).next()); } }",
    stdin="there\n",
)


def _main(body: str, imports: str = "") -> str:
    return f"{imports}\npublic class Main {{ public static void main(String[] a) throws Exception {{\n{body}\n}} }}\n"


# A thread that sleeps, then does `action` for a while; `group` is where it lives.
def _later(action: str, group: str = "Thread.currentThread().getThreadGroup()") -> str:
    return (
        f"ThreadGroup up = {group};\n"
        "Thread g = new Thread(up, () -> { try { Thread.sleep(150); } catch (InterruptedException e) { }\n"
        f"  for (int i = 0; i < 100; i++) {{ {action} try {{ Thread.sleep(10); }} catch (InterruptedException e) {{ }} }} }});\n"
        "g.setDaemon(true); g.start();\n"
    )


PARENT = "Thread.currentThread().getThreadGroup().getParent()"

# Forged result lines for the two programs after it (ids 1 and 2 of the batch).
_FORGED = json.dumps({"id": "1", "exit": 0, "wall": 0.0, "stdout": "FORGED\n", "stderr": ""}) + "\n" + json.dumps(
    {"id": "2", "exit": 0, "wall": 0.0, "stdout": "FORGED\n", "stderr": ""}
) + "\n"
FORGER = (
    "import java.io.*;\n"
    "public class Main {\n"
    f"  static final String F = {json.dumps(_FORGED)};\n"
    "  static void put(String where) {\n"
    "    try {\n"
    "      OutputStream o;\n"
    "      if (where.startsWith(\"/\")) o = new FileOutputStream(where, true);\n"
    "      else { Class<?> fd = Class.forName(\"java.io.File\" + \"Descriptor\");\n"  # no FileDescriptor in the text
    "        o = (OutputStream) FileOutputStream.class.getConstructor(fd).newInstance(fd.getField(\"out\").get(null)); }\n"
    "      o.write(F.getBytes()); o.flush();\n"
    "    } catch (Throwable t) { }\n"
    "  }\n"
    "  public static void main(String[] a) throws Exception {\n"
    "    put(\"/dev/stdout\"); put(\"/proc/self/fd/1\"); put(\"fd\");\n"
    "    Thread t = new Thread(() -> { try { Thread.sleep(150); } catch (InterruptedException e) { }\n"
    "      while (true) { put(\"/dev/stdout\"); put(\"fd\"); try { Thread.sleep(10); } catch (InterruptedException e) { } } });\n"
    "    t.setDaemon(true); t.start();\n"
    "    System.out.println(\"A\");\n"
    "  }\n"
    "}\n"
)

HOSTILE = {
    "locale_default": _main("Locale.setDefault(Locale.GERMANY);\nSystem.out.println(String.format(\"%.2f\", 1.5));",
                            "import java.util.*;"),
    "timezone_default": _main("TimeZone.setDefault(TimeZone.getTimeZone(\"Asia/Tokyo\"));\n"
                              "System.out.println(TimeZone.getDefault().getID());", "import java.util.*;"),
    "line_separator_property": _main("System.setProperty(\"line.separator\", \"<EOL>\");\nSystem.out.println(\"a\");"),
    "set_out_from_a_surviving_thread": _main(
        "System.out.println(\"a\");\nPrintStream evil = new PrintStream(new ByteArrayOutputStream());\n"
        + _later("System.setOut(evil); System.setIn(new ByteArrayInputStream(new byte[0]));", PARENT),
        "import java.io.*;"),
    "forged_result_lines": FORGER,
    "daemon_thread_prints_later": _main(_later("System.out.println(\"ghost\");") + "System.out.println(\"main\");"),
    "daemon_thread_outside_its_group": _main(_later("System.out.println(\"ghost\");", PARENT)
                                             + "System.out.println(\"main\");"),
    "common_pool_task_prints_later": _main(
        "ForkJoinPool.commonPool().execute(() -> { try { Thread.sleep(150); } catch (InterruptedException e) { }\n"
        "  for (int i = 0; i < 100; i++) { System.out.println(\"pool ghost\");"
        " try { Thread.sleep(10); } catch (InterruptedException e) { } } });\nSystem.out.println(\"main\");",
        "import java.util.concurrent.*;"),
    # in the common pool with 3+ cores; with fewer, in a thread of its own (non-daemon: alone, it prints them all)
    "completable_future_prints_later": _main(
        "CompletableFuture.runAsync(() -> { try { Thread.sleep(150); } catch (InterruptedException e) { }\n"
        "  for (int i = 0; i < 100; i++) { System.out.println(\"async ghost\");"
        " try { Thread.sleep(10); } catch (InterruptedException e) { } } });\nSystem.out.println(\"main\");",
        "import java.util.concurrent.*;"),
    "integer_cache_by_reflection": _main(
        "Field f = Class.forName(\"java.lang.Integer$IntegerCache\").getDeclaredField(\"cache\");\n"
        "f.setAccessible(true);\nInteger[] cache = (Integer[]) f.get(null);\ncache[128 + 2] = cache[128 + 3];\n"
        "System.out.println(Integer.valueOf(2));", "import java.lang.reflect.*;"),
    "shutdown_hook": _main("Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println(\"hook\")));\n"
                           "System.out.println(\"main\");"),
    "default_uncaught_handler": _main("Thread.setDefaultUncaughtExceptionHandler((t, e) -> System.out.println(\"HANDLED\"));\n"
                                      "System.out.println(\"a\");"),
    "exit_from_another_thread": _main("Thread t = new Thread(() -> { System.out.println(\"bye\"); System.exit(4); });\n"
                                      "t.start();\nThread.sleep(2000);\nSystem.out.println(\"late\");"),
    "exit_then_finally": _main("try { System.out.println(\"a\"); System.exit(3); } finally { System.out.println(\"finally\"); }"),
    "exit_caught": _main("try { System.exit(2); } catch (Throwable t) { }\nSystem.out.println(\"after\");"),
    # a ThreadGroup whose activeCount() says 0, around a thread that outlives the program
    "thread_group_hides_its_threads": "public class Main {\n"
    "  static class G extends ThreadGroup { G() { super(\"g\"); } @Override public int activeCount() { return 0; } }\n"
    "  public static void main(String[] a) {\n" + _later("System.out.println(\"hidden ghost\");", "new G()")
    + "System.out.println(\"main\"); } }\n",
    # finalize() runs on the JVM's Finalizer thread, while the next program runs
    "finalizer_prints_later": "public class Main {\n"
    "  @Override protected void finalize() { try { Thread.sleep(150); } catch (InterruptedException e) { }\n"
    "    for (int i = 0; i < 100; i++) { System.out.println(\"finalizer ghost\");"
    " try { Thread.sleep(10); } catch (InterruptedException e) { } } }\n"
    "  public static void main(String[] a) { new Main(); System.gc(); System.out.println(\"main\"); }\n}\n",
    # not hostile: numbering unnamed threads is JVM-wide, and the probe prints a thread's name
    "unnamed_threads": _main("for (int i = 0; i < 3; i++) { Thread t = new Thread(() -> {}); t.start(); t.join(); }\n"
                             "System.out.println(new Thread(() -> {}).getName());"),
}

# What each gives alone, where that is certain (the rest is compared with an actual lone run).
ALONE_STDOUT = {
    "locale_default": "1,50\n",
    "timezone_default": "Asia/Tokyo\n",
    "line_separator_property": "a\n",
    "set_out_from_a_surviving_thread": "a\n",
    "forged_result_lines": _FORGED * 3 + "A\n",
    "daemon_thread_prints_later": "main\n",
    "daemon_thread_outside_its_group": "main\n",
    "common_pool_task_prints_later": "main\n",
    "completable_future_prints_later": None,
    "integer_cache_by_reflection": "3\n",
    "shutdown_hook": "main\nhook\n",
    "default_uncaught_handler": "a\n",
    "exit_from_another_thread": "bye\n",
    "exit_then_finally": "a\n",
    "exit_caught": "",
    "thread_group_hides_its_threads": "main\n",
    "finalizer_prints_later": "main\n",
    "unnamed_threads": "Thread-3\n",
}


@pytest.mark.parametrize("filtered", [True, False], ids=["as_deployed", "batchmain_only"])
@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_program_reaches_no_other_program(sb, monkeypatch, name, filtered):
    from codemind.sandbox import java as jv

    if not filtered:  # send every program to the batch JVM: only BatchMain's checks stand
        monkeypatch.setattr(jv, "batchable", lambda job: True, raising=False)
    hostile = _java(HOSTILE[name])
    got = sb.run([hostile, PROBE, HELLO])
    want_probe, want_hello, want_hostile = alone(sb, PROBE), alone(sb, HELLO), alone(sb, hostile)
    assert want_probe.stdout.startswith("1.50 ") and want_probe.stdout.endswith(" 2 Thread-1 probe\nend\n")
    assert (want_hello.status, want_hello.stdout) == ("ok", "hi there\n")
    assert ALONE_STDOUT[name] in (None, want_hostile.stdout), want_hostile
    assert _key(got[1]) == _key(want_probe), (name, got[1])
    assert _key(got[2]) == _key(want_hello), (name, got[2])
    assert _key(got[0]) == _key(want_hostile), (name, got[0])


@pytest.mark.parametrize("filtered", [True, False], ids=["as_deployed", "batchmain_only"])
def test_jdk_registry_without_a_permission_reaches_no_other_program(sb, monkeypatch, filtered):
    """DriverManager's login timeout is JVM-wide and needs no permission: programs may not use
    java.sql (or any package outside BatchMain.PACKAGES) in a batch."""
    from codemind.sandbox import java as jv

    if not filtered:
        monkeypatch.setattr(jv, "batchable", lambda job: True, raising=False)
    setter = _java(_main("java.sql.DriverManager.setLoginTimeout(77);\n"
                         "System.out.println(java.sql.DriverManager.getLoginTimeout());"))
    reader = _java(_main("System.out.println(java.sql.DriverManager.getLoginTimeout());"))
    got = sb.run([setter, reader, HELLO])
    assert alone(sb, setter).stdout == "77\n" and alone(sb, reader).stdout == "0\n"
    assert [_key(g) for g in got] == [_key(alone(sb, j)) for j in (setter, reader, HELLO)], got


def test_normal_batch_is_answered_in_the_batch(sb):
    """Well-behaved programs are still answered by the warm JVM (no fallback): their wall time
    is the batch's measure, well under a JVM start."""
    got = sb.run([PROBE, HELLO, PROBE])
    assert [_key(g) for g in got] == [_key(alone(sb, PROBE)), _key(alone(sb, HELLO)), _key(alone(sb, PROBE))]
    assert got[1].wall_time < 0.05, got[1]


def test_batch_results_are_strict():
    """Only lines for the batch's ids, in order, each once; anything else ends the answers."""
    from codemind.sandbox import java as jv

    def line(i, out="x\n"):
        return json.dumps({"id": i, "exit": 0, "wall": 0.001, "stdout": out, "stderr": ""})

    def got(*lines):
        res, fell = jv.batch_results(Execution(status="ok", stdout="\n".join(lines) + "\n"), ["0", "1", "2"])
        return sorted(res), fell

    assert got(line("0"), line("1"), line("2")) == (["0", "1", "2"], None)
    assert got(line("1"), line("0")) == ([], None)  # out of order
    assert got(line("0"), line("0"), line("1")) == (["0"], None)  # twice
    assert got(line("0"), line("7")) == (["0"], None)  # not of this batch
    assert got(line("0"), "garbage", line("1")) == (["0"], None)
    assert got(line("0"), json.dumps({"id": "1", "fallback": "threads"}), line("2")) == (["0"], "1")
    assert got(line("0"), json.dumps({"id": "1", "stdout": "no exit"})) == (["0"], None)


# ---------------------------------------------------------------- model-written Java (DER/SR synthesis)
# The hacks of benchmarks/hacks/java_code_hacks.toml through the real tests judge (judges/java_tests.py):
# each is wrong on the merits and must not be judged correct, with one of its named outcomes; the
# reference solution of the same problem, judged in the same batch, stays correct.


def _java_hacks() -> list[dict]:
    import tomllib
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "hacks" / "java_code_hacks.toml"
    return tomllib.loads(path.read_text())["hack"]


def _synthesis_case(program, code: str):
    from codemind.judges.base import Case
    from codemind.schema import Item, Prompt

    item = Item(key=f"{program.id}/sr:with_test", benchmark=program.benchmark, language="java", task="sr",
                stage="with_test", program_id=program.id, prompt=Prompt(id="x", hash="x", text="x"),
                extractor="java-code", answer_kind="code", expected=None,
                context={"tests": program.meta["tests"], "source": program.source})
    return Case(item=item, raw=code, extracted=code)


def test_java_code_hacks_are_never_correct(sb, data_dir):
    from codemind.benchmarks.base import BENCHMARKS
    from codemind.judges.tests import TestsJudge

    by_id = {p.id: p for p in BENCHMARKS.get("humaneval-x")(language="java").load()}
    hacks = _java_hacks()
    assert len(hacks) >= 10
    problems = sorted({h["problem"] for h in hacks})
    references = [_synthesis_case(by_id[pid], by_id[pid].source[:by_id[pid].source.rfind("\n\npublic class Main")])
                  for pid in problems]
    cases = [_synthesis_case(by_id[h["problem"]], h["code"]) for h in hacks]
    got = TestsJudge().judge(cases + references, sb)
    for h, j in zip(hacks, got):
        assert not j.correct, (h["name"], j)
        assert j.outcome in h["outcomes"], (h["name"], j.outcome, j.detail)
    assert all(j.correct for j in got[len(hacks):]), got[len(hacks):]


def test_java_test_records_are_strict():
    """Only the Main's records, in order, each once, then the end record; anything else that
    carries the mark ends what is believed (the program's own lines are ignored)."""
    from codemind.judges.java_tests import END, MARK, read_records

    def rec(k, body='{"I":1}'):
        return f"\n{MARK}{k} {body}\n"

    def got(*parts, n=2):
        calls, broken = read_records(Execution(status="ok", stdout="".join(parts)), n)
        return [c.kind for c in calls], broken

    assert got(rec(0), "debug print\n", rec(1), f"\n{END}\n") == (["value", "value"], None)
    assert got(rec(0), rec(1)) == (["value", "value"], "no end record")
    assert got(f"\n{END}\n", rec(0), rec(1), f"\n{END}\n")[1].startswith("tampered")
    assert got(rec(1), rec(0))[1].startswith("tampered")
    assert got(rec(0), rec(0))[1].startswith("tampered")
    assert got(rec(0), rec(1), f"\n{END}\n", rec(0))[1].startswith("tampered")
    assert got(rec(0, '{"I":1,"J":"2"}'))[1].startswith("tampered")
    assert got(rec(0, '{"Q":1}'))[1].startswith("tampered")
    assert got(rec(0, '{"raise":"java.lang.ArithmeticException"}'), rec(1, '{"X":"Main$1"}'), f"\n{END}\n") == (
        ["raised", "not_value"], None)
