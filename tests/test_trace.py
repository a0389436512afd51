"""The trace task (docs/trace.md): the tracer's traces checked by hand, hostile programs, the
sampler, the judge, and `codemind run --task trace` end to end against scripted servers that
answer by tracing the program themselves (all right, and all wrong).

The hand-checked expectations below (line sequences, values, loop counts) were written by
reading each program, not by running the tracer.
"""

from __future__ import annotations

import json
import time

import pytest
from cli_helpers import codemind
from docker_helpers import need_docker
from servers.trace_server import TraceScript, TraceServer

from codemind.benchmarks.base import BENCHMARKS
from codemind.judges.base import Case
from codemind.judges.trace import TraceJudge
from codemind.sandbox import open_sandbox
from codemind.sandbox.runner.plainvalues import decode
from codemind.schema import Limits, Program, TestInput
from codemind.tasks import tracing
from codemind.tasks.trace import CHAIN, STAGES, TraceTask, consistency_weight, extract_answer, extract_answer_lenient


def prog(source: str, call: str, pid: str = "p") -> Program:
    return Program(id=pid, benchmark="t", language="python", kind="function", source=source, entry_point="f",
                   inputs=[TestInput(index=0, call=call)])


@pytest.fixture(scope="module")
def sandbox():
    with open_sandbox("process", workers=2) as sb:
        yield sb


def traced(sandbox, source, call, expected=None, **caps):
    p = prog(source, call)
    ex = sandbox.run([tracing.trace_job(p, p.inputs[0], **caps)])[0]
    return tracing.read_trace(ex, expected)


def value(trace, line, name):
    enc = trace.state_after(line, name)
    return None if enc is None else decode(enc)


# ---------------------------------------------------------------- traces checked by hand

BRANCHES = """\
def f(xs):
    total = 0
    for x in xs:
        if x > 1:
            total += x
        else:
            total -= 1
    return total
"""


def test_loop_with_branches(sandbox):
    trace, why = traced(sandbox, BRANCHES, "f([1, 2, 3])", "4")
    assert why is None
    # module: line 1 (the def); f: 2, then per element the for line, the if and one branch; the
    # for line once more when the iterator is exhausted, then the return
    assert trace.lines == [1, 2, 3, 4, 7, 3, 4, 5, 3, 4, 5, 3, 8]
    assert trace.frames[1][0] == "f" and not trace.truncated and trace.ret == "4"
    assert value(trace, 2, "total") == 0
    assert value(trace, 3, "x") == 1
    assert value(trace, 7, "total") == -1  # the else branch ran first
    assert value(trace, 5, "total") == 1  # -1 + 2
    assert value(trace, 8, "total") == 4  # at the return event
    assert trace.next_line(4) == 7 and trace.next_line(7) == 3 and trace.next_line(5) == 3
    assert trace.next_line(8) == tracing.NO_LINE  # nothing of the program runs after the return
    assert trace.executed(6) is False  # `else:` is no line event
    assert trace.executed(5) is True
    assert trace.loop_count(3, 4, 7) == 3


RECURSION = """\
def f(n):
    if n <= 1:
        return 1
    r = n * f(n - 1)
    return r
"""


def test_recursion_keeps_frames_apart(sandbox):
    trace, why = traced(sandbox, RECURSION, "f(3)", "6")
    assert why is None
    assert trace.lines == [1, 2, 4, 2, 4, 2, 3, 5, 5]
    assert [fr[0] for fr in trace.frames.values()] == ["<module>", "f", "f", "f"]
    assert trace.frames[2][2] == 1 and trace.frames[3][2] == 2  # each call's parent frame
    # after line 4 first runs (in f(3)) the frame's next event is its line 5: r == 3 * f(2) == 6
    assert value(trace, 4, "r") == 6
    assert trace.next_line(4) == 2  # the recursive call's first line
    assert trace.next_line(3) == 5  # f(1) returns into f(2), at its line 5


WHILE_BREAK = """\
def f(n):
    i = 0
    seen = []
    while True:
        i += 1
        if i % 2:
            continue
        seen.append(i)
        if len(seen) == n:
            break
    return seen
"""


def test_while_with_continue_and_break(sandbox):
    trace, why = traced(sandbox, WHILE_BREAK, "f(2)", "[2, 4]")
    assert why is None
    # i = 1, 2, 3, 4: the body runs four times before the break
    assert trace.loop_count(4, 5, 10) == 4
    assert value(trace, 8, "seen") == [2]
    assert value(trace, 5, "i") == 1
    assert trace.next_line(7) == 4  # continue goes back to the loop's head
    assert trace.next_line(10) == 11


CALLS = """\
def g(a):
    b = a * 2
    return b

def f(x):
    y = g(x) + 1
    z = [g(y), y]
    return z
"""


def test_calls_and_lists(sandbox):
    trace, why = traced(sandbox, CALLS, "f(5)", "[22, 11]")
    assert why is None
    assert trace.lines == [1, 5, 6, 2, 3, 7, 2, 3, 8]
    assert trace.next_line(6) == 2  # into g
    assert trace.next_line(3) == 7  # back in f, at its next line
    assert value(trace, 6, "y") == 11
    assert value(trace, 7, "z") == [22, 11]
    assert value(trace, 2, "b") == 10  # the first call of g


GENERATOR = """\
def gen(n):
    for i in range(n):
        yield i * i

def f(n):
    out = list(gen(n))
    return out
"""


def test_generator_frames_are_one_frame(sandbox):
    trace, why = traced(sandbox, GENERATOR, "f(3)", "[0, 1, 4]")
    assert why is None
    assert [fr[0] for fr in trace.frames.values()] == ["<module>", "f", "gen"]
    assert trace.loop_count(2, 3, 3) == 3
    assert value(trace, 6, "out") == [0, 1, 4]


def test_values_over_the_cap_and_objects_are_not_asked(sandbox):
    source = "class A:\n    pass\n\ndef f(n):\n    big = list(range(n))\n    a = A()\n    k = 1\n    return k\n"
    trace, why = traced(sandbox, source, "f(1000)", "1", max_value=64)
    assert why is None
    steps = {s.line: s for s in trace.steps if s.event == "l"}
    assert steps[6].diff["big"] == "!big" and steps[7].diff["a"] == "!obj"
    assert trace.state_after(5, "big") is None and trace.state_after(6, "a") is None
    assert value(trace, 7, "k") == 1


def test_truncated_traces_ask_only_what_was_recorded(sandbox):
    source = "def f(n):\n    t = 0\n    for i in range(n):\n        t += i\n    last = t\n    return last\n"
    trace, why = traced(sandbox, source, "f(10000)", "49995000", max_steps=50)
    assert why is None and trace.truncated and len(trace.steps) == 50
    assert trace.lines[:6] == [1, 2, 3, 4, 3, 4]
    assert trace.executed(4) is True and trace.executed(5) is None  # not recorded: cannot tell
    assert trace.loop_count(3, 4, 4) is None  # the loop had not ended when the trace stopped
    assert trace.next_line(5) is None
    choice = tracing.choose(prog(source, "f(10000)"), TestInput(index=0, call="f(10000)"), trace, 0)
    assert choice["truncated"] and choice["loop"] is None
    assert choice["chain"]["line"] in (2, 3, 4) and choice["chain"]["executed"]


CLASS = """\
class Counter:
    def __init__(self):
        self.n = 0

    def add(self, k):
        self.n += k
        return self.n

class Test:
    def test(self):
        c = Counter()
        got = c.add(2)
        return got + c.add(3)
"""


def test_a_class_and_its_test_call(sandbox):
    trace, why = traced(sandbox, CLASS, "Test().test()", "7")
    assert why is None
    # a class body is a frame of its own that starts at its class line: module 1, Counter's body
    # 1 2 5, module 9, Test's body 9 10; then the call: test 11, __init__ 3, test 12, add 6 7,
    # test 13, add 6 7
    assert trace.lines == [1, 1, 2, 5, 9, 9, 10, 11, 3, 12, 6, 7, 13, 6, 7]
    assert [fr[0] for fr in trace.frames.values()] == ["<module>", "Counter", "Test", "test", "__init__", "add",
                                                      "add"]
    assert value(trace, 12, "got") == 2
    assert trace.next_line(11) == 3


def test_the_trace_job_goes_through_the_execution_cache(tmp_path, sandbox):
    from codemind.sandbox.cache import ExecCache, run_cached

    p = prog(BRANCHES, "f([1, 2, 3])")
    job = tracing.trace_job(p, p.inputs[0])
    with ExecCache(tmp_path / "exec.sqlite") as cache:
        first = run_cached(sandbox, [job], cache=cache)[0]
        assert len(cache) == 1
        again = run_cached(sandbox, [job], cache=cache)[0]
    assert again == first  # read back, not executed again
    assert job.key(sandbox.runtime) != tracing.trace_job(p, p.inputs[0], max_steps=10).key(sandbox.runtime)


# ---------------------------------------------------------------- hostile programs

HOSTILE = {
    # switching tracing off: named outright (screened before anything runs) or reached by a
    # computed name (the tracer's guard records it and the trace is refused)
    "settrace": ("import sys\ndef f(x):\n    sys.settrace(None)\n    return x\n", "f(1)", "1"),
    "computed settrace": ("import sys\ndef f(x):\n    getattr(sys, 'set' + 'trace')(None)\n    y = x + 1\n"
                          "    return y\n", "f(1)", "2"),
    "computed setprofile": ("import sys\ndef f(x):\n    getattr(sys, 'setpro' + 'file')(print)\n    return x\n",
                            "f(1)", "1"),
    "os._exit": ("import os\ndef f(x):\n    os._exit(0)\n", "f(1)", None),
    "computed os._exit": ("import os\ndef f(x):\n    getattr(os, '_ex' + 'it')(0)\n", "f(1)", None),
    "SystemExit": ("def f(x):\n    raise SystemExit(0)\n", "f(1)", None),
    "frames": ("import sys\ndef f(x):\n    sys._getframe().f_trace = None\n    return x\n", "f(1)", "1"),
    "the tracer": ("def f(x):\n    return __codemind_trace__\n", "f(1)", None),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_programs_give_no_trace(sandbox, name):
    source, call, expected = HOSTILE[name]
    screened = tracing.screen(source)
    trace, why = traced(sandbox, source, call, expected)
    assert trace is None or screened is not None, (name, why)
    if screened is None:
        assert why, name
    # the task leaves it out, with a reason, whichever way it was caught
    p = prog(source, call)
    truth = _truth(expected)
    ctx = _ctx([p], {("p", 0): truth}, sandbox)
    stages = list(TraceTask().plan(ctx))
    assert all(not s.items for s in stages), name
    why_out = ctx.manifest_extra["usable_programs"]["coverage"]["unusable_programs"]["p"]
    assert why_out.split(":")[0] in ("not traceable", "trace failed", "ground truth does not run"), why_out


def test_fake_trace_output_on_stdout_changes_nothing(sandbox):
    source = ('def f(x):\n    print(\'{"call": 0, "value": "{}"}\')\n    print("[[0, \\"l\\", 99, {}]]")\n'
              '    y = x + 1\n    return y\n')
    trace, why = traced(sandbox, source, "f(1)", "2")
    assert why is None and trace.lines == [1, 2, 3, 4, 5] and value(trace, 4, "y") == 2


@pytest.mark.parametrize("rebind", ["repr = lambda v: 'forged'", "len = lambda v: 0", "type = lambda *a: int",
                                    "isinstance = lambda *a: True", "dict = list", "set = list",
                                    "str = lambda *a: 'x'"])
def test_redefined_builtins_give_the_true_trace_or_none(sandbox, rebind):
    """The tracer binds what it calls before the program runs: its trace stays exact. Some
    rebindings break the runner's own encoding of the result (set, str): then there is no trace
    at all (the job is tampered or its value not plain), never a forged one."""
    source = f"import builtins\ndef f(x):\n    builtins.{rebind}\n    y = [x, x]\n    return y\n"
    trace, why = traced(sandbox, source, "f(1)", "[1, 1]")
    if trace is None:
        assert why.startswith(("trace job tampered", "tracer gave no trace")), why
    else:
        assert trace.lines == [1, 2, 3, 4, 5] and value(trace, 4, "y") == [1, 1] and trace.ret == "[1, 1]"


def test_a_program_that_loops_forever_gives_no_trace(sandbox):
    p = prog("def f(x):\n    while True:\n        x += 1\n", "f(1)")
    job = tracing.trace_job(p, p.inputs[0], max_steps=100)
    job = job.model_copy(update={"limits": Limits(cpu_seconds=2, wall_seconds=3)})
    ex = sandbox.run([job])[0]
    trace, why = tracing.read_trace(ex, None)
    assert trace is None and why.startswith("trace job timeout"), why


def test_a_trace_that_disagrees_with_the_untraced_run_is_refused(sandbox):
    source = "import sys\ndef f(x):\n    return x if getattr(sys, 'get' + 'trace')() is None else x + 1\n"
    trace, why = traced(sandbox, source, "f(1)", "1")  # untraced it returns 1; traced, 2
    assert trace is None and "another value" in why


def test_a_program_drawing_random_numbers_traces_the_same_every_time_and_differs_under_the_probe(sandbox):
    """Every trace job seeds `random` (0), so the harness's trace and any later one agree; the
    determinism probe seeds it otherwise (1), so a trace that depends on the draws is found."""
    p = prog("import random\ndef f(n):\n    x = random.randrange(10**9)\n    y = random.random()\n    return n\n", "f(3)")
    jobs = [tracing.trace_job(p, p.inputs[0]), tracing.trace_job(p, p.inputs[0]), tracing.probe_job(p, p.inputs[0])]
    first, again, probe = [tracing.read_trace(ex, "3")[0] for ex in sandbox.run(jobs)]
    assert first is not None and again is not None and probe is not None
    assert tracing.same_trace(first, again) and value(first, 3, "x") == value(again, 3, "x")
    assert not tracing.same_trace(first, probe)


# ---------------------------------------------------------------- the sampler and the task's plan


def _truth(expected, status=None):
    from codemind.groundtruth import GroundTruth

    return GroundTruth(program_id="p", input_index=0, execution=None, expected=expected,
                       status=status or ("ok" if expected is not None else "does_not_run"))


def _ctx(programs, truths, sandbox, seed=0):
    from codemind.sandbox.cache import run_cached
    from codemind.tasks.base import StageContext

    return StageContext(programs=list(programs), truths=truths, prompt_id=None, seed=seed, samples=lambda: [],
                        execute=lambda ps: {}, run_jobs=lambda jobs: run_cached(sandbox, jobs, use_cache=False))


def test_the_sampler_is_seeded_and_recorded(sandbox):
    progs = [prog(BRANCHES, f"f({xs})", pid=f"p{i}") for i, xs in enumerate(([1, 2, 3], [0], [5, 5], [], [2]))]
    truths = {(p.id, 0): _truth(str(sum(x if x > 1 else -1 for x in eval(p.inputs[0].call[2:-1]))))
              for p in progs}
    for p in progs:
        truths[(p.id, 0)] = truths[(p.id, 0)].model_copy(update={"program_id": p.id})
    runs = []
    for seed in (0, 0, 1):
        ctx = _ctx(progs, truths, sandbox, seed)
        stages = list(TraceTask().plan(ctx))
        runs.append((ctx.manifest_extra["trace"], stages))
    (a, sa), (b, _), (c, _) = runs
    assert a["questions"] == b["questions"] and a["seed"] == 0 and a["sampler"] == tracing.SAMPLER
    assert a["questions"] != c["questions"]  # another seed, other lines (5 programs: almost surely)
    assert [s.name for s in sa] == list(STAGES)
    chain_items = {s.name: s.items for s in sa}
    for stage in CHAIN:  # the chain asks the same programs, line and variable in every stage
        assert [i.program_id for i in chain_items[stage]] == [i.program_id for i in chain_items["coverage"]]
    for i in chain_items["state"]:
        q = i.context["question"]
        assert f"variable {q['variable']} right after line {q['line']} " in i.prompt.text
        assert " 1 | def f(xs):" in i.prompt.text or "1 | def f(xs):" in i.prompt.text
    # [] never enters the loop: its body lines never run, so some chain may be a "no" question
    executed = {k: v["chain"]["executed"] for k, v in a["questions"].items()}
    assert executed["p3#0"] in (True, False)


def test_a_run_without_a_sandbox_context_is_a_bug():
    from codemind.tasks.base import StageContext

    ctx = StageContext(programs=[], truths={}, prompt_id=None, seed=0, samples=lambda: [], execute=lambda ps: {})
    with pytest.raises(RuntimeError, match="run_jobs"):
        list(TraceTask().plan(ctx))


# ---------------------------------------------------------------- the judge


def _case(kind, answer, expected, **q):
    from codemind.schema import Item, Prompt

    item = Item(key="k", benchmark="t", language="python", task="trace", stage=kind, program_id="p",
                prompt=Prompt(id=kind, hash="h", text=""), extractor="trace-answer", expected=expected,
                context={"question": {"question": kind, **q}})
    return Case(item=item, raw=answer, extracted=answer)


@pytest.mark.parametrize("kind,answer,expected,q,outcome", [
    ("coverage", "yes", "yes", {"executed": True}, "correct"),
    ("coverage", "No.", "no", {"executed": False}, "correct"),
    ("coverage", "True", "no", {"executed": False}, "wrong_value"),
    ("coverage", "maybe", "no", {"executed": False}, "unparsable"),
    ("state", "[3, 6]", "[3, 6]", {"value": "[3,6]"}, "correct"),
    ("state", "(3, 6)", "[3, 6]", {"value": "[3,6]"}, "wrong_value"),  # strict types
    ("state", "1.0", "1", {"value": "1"}, "wrong_value"),
    ("state", "True", "1", {"value": "1"}, "wrong_value"),
    ("state", "[3, 6]; list", "[3, 6]", {"value": "[3,6]"}, "correct"),  # REval's value; type
    ("state", "Nil", "Nil", {"value": None}, "correct"),
    ("state", "None", "Nil", {"value": None}, "wrong_value"),
    ("state", "Nil", "1", {"value": "1"}, "wrong_value"),
    ("state", "__import__('os').system('touch /tmp/x')", "1", {"value": "1"}, "invalid_answer"),
    ("state", "set()", "set()", {"value": '{"s":[]}'}, "correct"),
    ("path", "7", "7", {}, "correct"),
    ("path", "line 7", "7", {}, "correct"),
    ("path", "-1", "-1", {}, "correct"),
    ("path", "seven", "7", {}, "unparsable"),
    ("loops", "3", "3", {}, "correct"),
    ("loops", "4", "3", {}, "wrong_value"),
    ("output", "[1, 2]", "[1, 2]", {}, "correct"),
    ("output", "(1, 2)", "[1, 2]", {}, "wrong_value"),
])
def test_trace_judge(kind, answer, expected, q, outcome):
    j = TraceJudge().judge([_case(kind, answer, expected, line=3, **q)], None)[0]
    assert j.outcome == outcome, j
    assert j.correct == (outcome == "correct")
    assert j.measures["question"] == kind and j.measures["line"] == 3


def test_extractors():
    assert extract_answer("7\n[/ANSWER]") == "7"
    assert extract_answer("[ANSWER]\n[1, 2]\n[/ANSWER] more") == "[1, 2]"
    assert extract_answer("  \n") is None
    assert extract_answer_lenient("Answer: 7\nBecause the loop...") == "7"
    assert extract_answer_lenient("```python\n[1, 2]\n```") == "[1, 2]"


def test_consistency_weights_are_revals():
    w = lambda c, s, p, o: consistency_weight(dict(zip(CHAIN, (c, s, p, o))))  # noqa: E731
    assert w(1, 1, 1, 1) == 1.0 and w(1, 1, 1, 0) == 0.5 and w(1, 1, 0, 0) == 0.25 and w(1, 0, 0, 0) == 0.125
    assert w(0, 1, 1, 1) == 0.0 and w(1, 0, 1, 1) == 0.0 and w(0, 0, 0, 0) == 0.0


def test_summary():
    rows = []
    for pid, right in (("a", (1, 1, 1, 1)), ("b", (1, 1, 0, 0)), ("c", (0, 1, 1, 1))):
        for stage, ok in zip(CHAIN, right):
            rows.append({"benchmark": "t", "program_id": pid, "input_index": 0, "sample_index": 0, "stage": stage,
                         "correct": bool(ok)})
    rows.append({"benchmark": "t", "program_id": "a", "input_index": 0, "sample_index": 0, "stage": "loops",
                 "correct": True})
    s = TraceTask().summarize(rows)
    assert s["coverage"]["correct"] == 2 and s["loops"]["n"] == 1
    assert s["consistency"]["n"] == 3 and s["consistency"]["score"] == pytest.approx((1 + 0.25 + 0) / 3)
    assert s["chain_all_right"]["correct"] == 1
    cells = TraceTask().summary_cells(s)
    assert set(cells) == {f"trace {k}" for k in STAGES} | {"trace consistency"}


# ---------------------------------------------------------------- end to end


BENCHES = ("humaneval", "mbpp", "cruxeval", "classeval")
LIMIT = 12


@pytest.fixture(scope="module")
def docker_ready():
    need_docker()


def _run(tmp_path, bench, wrong, limit=LIMIT, extra=()):
    progs = BENCHMARKS.get(bench)(language="python", name=bench).load()
    progs = progs[:limit] if limit else progs
    script = TraceScript(wrong=wrong).add(progs)
    out = tmp_path / f"{bench}-{'wrong' if wrong else 'right'}"
    t0 = time.monotonic()
    with TraceServer(script) as url:
        args = ["run", "-b", bench, "--task", "trace", "--model", "openai:scripted-trace", "--base-url", url,
                "--out", out, "--json", *extra]
        if limit:
            args += ["--limit", limit]
        proc = codemind(*args, env={"OPENAI_API_KEY": "x"}, timeout=1200)
    secs = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert not script.unknown and not script.kinds.get("untraceable"), (script.kinds, script.unknown[:1])
    manifest = json.loads((out / "manifest.json").read_text())
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    return out, json.loads(proc.stdout), manifest, samples, secs, len(progs)


@pytest.mark.docker
@pytest.mark.parametrize("bench", BENCHES)
def test_trace_run_right_and_wrong(data_dir, docker_ready, tmp_path, bench):
    out, report, manifest, samples, secs, n = _run(tmp_path, bench, wrong=False)
    assert manifest["sandbox"]["kind"] == "docker"
    usage = manifest["usable_programs"]
    assert list(usage) == list(STAGES)
    for stage, rec in usage.items():
        assert rec["used"] + rec["unusable"] == rec["programs"] == n, (stage, rec)
        assert rec["items"] == sum(1 for s in samples if s["stage"] == stage)
    assert usage["coverage"]["items"] >= 0.5 * n, usage["coverage"]
    assert all(s["correct"] for s in samples), [s for s in samples if not s["correct"]][:3]
    summary = report["summary"][0]["trace"]
    assert summary["consistency"]["score"] == 1.0
    assert all(summary[k]["accuracy"] == 1.0 for k in STAGES if summary[k]["n"]), summary
    # the manifest records the sampler's choices, and the samples the question asked
    questions = manifest["trace"]["questions"]
    for s in samples:
        q = questions[f"{s['program_id']}#{s['input_index']}"]
        if s["stage"] in ("coverage", "state", "path"):
            assert s["measures"]["line"] == q["chain"]["line"] and s["measures"]["variable"] == q["chain"]["variable"]
        if s["stage"] == "loops":
            assert s["measures"]["line"] == q["loop"]["line"]

    # the same questions answered wrong: every one is wrong
    out_w, report_w, manifest_w, samples_w, _, _ = _run(tmp_path, bench, wrong=True)
    assert manifest_w["trace"]["questions"] == questions
    assert len(samples_w) == len(samples) and not any(s["correct"] for s in samples_w)
    assert report_w["summary"][0]["trace"]["consistency"]["score"] == 0.0

    # per construct, and codemind.load columns for the questions
    by = codemind("report", out, "--by", "construct", "--json")
    assert by.returncode == 0, by.stderr[-2000:]
    assert json.loads(by.stdout)["constructs"], "no construct rows"
    from codemind.store.load import load

    df = load(out)
    assert {"stage", "question", "line"} <= set(df.columns)
    assert set(df["question"]) == set(df["stage"]) and df["line"].notna().any()
    print(f"\ntrace {bench} --limit {LIMIT}: {secs:.1f} s right, {len(samples)} samples")


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize("bench", BENCHES)
def test_trace_full_benchmark(data_dir, docker_ready, tmp_path, bench):
    """A whole benchmark, no --limit (CI runs the same through tests/test_tasks_full.py)."""
    out, report, manifest, samples, secs, n = _run(tmp_path, bench, wrong=False, limit=None)
    assert all(s["correct"] for s in samples), [s for s in samples if not s["correct"]][:3]
    assert manifest["usable_programs"]["coverage"]["used"] >= 0.8 * n
    print(f"\ntrace {bench} full: {secs:.1f} s, {n} programs, {len(samples)} samples")
