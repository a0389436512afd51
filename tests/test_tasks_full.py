"""Every task on every benchmark (and language) it supports, in full: no --limit.

Each run is `codemind run` in a subprocess, as a user would start it, against a scripted
OpenAI-compatible server on 127.0.0.1 (tests/servers/task_server.py: reference solutions for
synthesis prompts, the dataset's labels for output prediction, the program's own input for
input prediction) and the default sandbox, which must be Docker (CI has it). For each run:

- exit code 0 and no traceback;
- every item of every stage has exactly --samples samples, each with an outcome from
  codemind.schema.OUTCOMES;
- the manifest accounts for every program of the benchmark: per stage, programs = used +
  unusable, each unusable one with a reason of a known kind, items = the items on disk;
  ground-truth status counts cover every input (and excluded program);
- the task really supports the benchmark: items > 0 and most programs used, so a benchmark
  that silently produces nothing fails.

Which task supports which benchmark is written down here (SUPPORTED) after reading the task
builders, and checked against them (test_support_matrix_matches_the_task_builders), so a
change in either shows up. Unsupported pairs are one line on stderr and exit code 2.

Per-run wall times are printed at the end of the module (CI: a 2-core machine).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter, defaultdict
from functools import lru_cache

import pytest
from docker_helpers import need_docker
from cli_helpers import assert_one_line_error, codemind
from servers.task_server import TaskScript, TaskServer

from codemind.benchmarks.base import BENCHMARKS
from codemind.schema import OUTCOMES
from codemind.tasks import base as task_base
from codemind.tasks.base import TASKS
from codemind.tasks import dsr, trace
from codemind.tasks.sr import NOT_MUTABLE


PAIRS = [
    ("humaneval", "python"), ("mbpp", "python"), ("mbpp-full", "python"), ("cruxeval", "python"),
    ("codenet", "python"), ("codenet", "java"), ("codenet-plt", "python"), ("codenet-plt", "java"),
    ("avatar", "python"), ("avatar", "java"), ("avatar-latest", "python"), ("avatar-latest", "java"),
    ("avatar-full", "python"), ("avatar-full", "java"), ("humaneval-x", "python"), ("humaneval-x", "java"),
    ("classeval", "python"),
]  # fmt: skip
PY_FUNCTIONS = {("humaneval", "python"), ("mbpp", "python"), ("mbpp-full", "python"), ("cruxeval", "python"),
                ("humaneval-x", "python")}
# IER: any program with an input that runs; input prediction: Python functions (a return value
# to find an input for); DER/SR: Python functions with a spec and tests (CRUXEval has no spec),
# and HumanEval-X Java (a Solution class to write; tests the judge splits into checks).
SUPPORTED = {
    "ier": set(PAIRS),
    "input": PY_FUNCTIONS,
    "der": PY_FUNCTIONS - {("cruxeval", "python")} | {("humaneval-x", "java")},
    "sr": PY_FUNCTIONS - {("cruxeval", "python")} | {("classeval", "python"), ("humaneval-x", "java")},
    # DSR: the benchmarks of CodeMind's DSR (codemind/tasks/dsr.py BENCHMARKS), Python
    "dsr": {("humaneval", "python"), ("cruxeval", "python"), ("avatar-latest", "python"), ("classeval", "python")},
    # trace: Python function programs (a call to trace), ClassEval's Test().test() included
    "trace": PY_FUNCTIONS | {("classeval", "python")},
}
STAGES = {
    "ier": ["ier"],
    "input": ["input"],
    "der": ["synthesis", "prediction", "reference"],
    "sr": ["with_test", "no_test", "misleading_test"],
    "dsr": ["dsr"],
    "trace": list(trace.STAGES),
}
REASONS = {task_base.NO_INPUT, task_base.NOT_RUN, task_base.NOT_FUNCTION, task_base.NOT_PYTHON, task_base.NO_SPEC,
           task_base.NO_TESTS, task_base.NO_SHOWN_TEST, task_base.NOT_ASKABLE, task_base.NOT_VALUE, NOT_MUTABLE,
           dsr.NOT_DSR, dsr.NOT_PADDED, dsr.REFERENCE_FAILS, trace.NOT_TRACEABLE, trace.TRACE_FAILED, trace.NO_QUESTION,
           trace.NO_LOOP}
# The whole of CodeNet (about 1,900 programs per language; Java: five javac calls over ~400
# programs each) is most of this module's time.
SAMPLES = {"humaneval": 2}  # more than one sample per item somewhere; 1 elsewhere (cost)
MIN_USED = 0.85  # share of a benchmark's programs a supported task must use
# DSR on ClassEval uses about 338 of 400: 50 methods' unittest tests cannot be split into checks
# (as for SR) and 12 reference classes fail their own tests in the sandbox (6 need gensim)
MIN_USED_OF = {("dsr", "classeval"): 0.8}

TIMES: list[tuple[str, float, int, str]] = []  # (run, seconds, items, note)


@lru_cache(maxsize=None)
def programs(bench: str, language: str) -> tuple:
    return tuple(BENCHMARKS.get(bench)(language=language, name=bench).load())


def _runs():
    """Benchmark-major order: a benchmark's later tasks reuse its executed ground truth (the
    session's execution cache) and generations (DER's reference stage asks IER's questions)."""
    for bench, lang in PAIRS:
        for task in STAGES:
            if (bench, lang) in SUPPORTED[task]:
                yield pytest.param(task, bench, lang, id=f"{task}-{bench}-{lang}")


@pytest.fixture(scope="module")
def docker_ready():
    need_docker()


@pytest.fixture(scope="module", autouse=True)
def _timings(request):
    yield
    if not TIMES:
        return
    lines = ["", "test_tasks_full: per-run wall time (s), items (all stages), requests by kind"]
    lines += [f"  {name:34s} {secs:6.1f} {items:6d}  {note}" for name, secs, items, note in TIMES]
    lines.append(f"  {'total':34s} {sum(t[1] for t in TIMES):6.1f}")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print("\n".join(lines), flush=True)


def test_support_matrix_matches_the_task_builders(data_dir):
    """SUPPORTED is what the builders say: a pair is supported iff some program of it passes
    the task's static checks (the ones run before anything executes). PAIRS is every
    registered benchmark in every language it has, and STAGES every registered task."""
    registered = {(name, lang) for name in BENCHMARKS.names() for lang in BENCHMARKS.get(name).languages}
    assert set(PAIRS) == registered
    assert set(STAGES) == set(TASKS.names())
    for bench, lang in PAIRS:
        progs = programs(bench, lang)
        assert progs, (bench, lang)
        for task in STAGES:
            builder = TASKS.get(task)()
            usable = [p for p in progs if builder.static_problem(p) is None]
            assert bool(usable) == ((bench, lang) in SUPPORTED[task]), (task, bench, lang)
            if (bench, lang) in SUPPORTED[task]:
                assert len(usable) >= MIN_USED * len(progs), (task, bench, lang, len(usable), len(progs))


@pytest.mark.parametrize("task,bench,lang", [("der", "cruxeval", "python"), ("input", "codenet", "java"),
                                             ("sr", "codenet", "java"), ("input", "avatar", "python")])
def test_unsupported_pairs_are_one_line_and_exit_2(data_dir, tmp_path, task, bench, lang):
    out = tmp_path / "run"
    proc = codemind("run", "--benchmark", bench, "--language", lang, "--task", task, "--model", "openai:none",
                    "--base-url", "http://127.0.0.1:9/v1", "--out", out, env={"OPENAI_API_KEY": "x"})
    assert_one_line_error(proc, f"task {task} cannot use any of the")
    assert not out.exists(), "nothing may be written for a run that cannot start"


@pytest.mark.docker
@pytest.mark.parametrize("task,bench,lang", list(_runs()))
def test_full_run(data_dir, docker_ready, tmp_path, task, bench, lang):
    progs = programs(bench, lang)
    n = SAMPLES.get(bench, 1)
    script = TaskScript().add(progs)
    out = tmp_path / "run"
    t0 = time.monotonic()
    with TaskServer(script) as url:
        proc = codemind("run", "--benchmark", bench, "--language", lang, "--task", task, "--samples", n,
                        "--model", f"openai:scripted-{task}", "--base-url", url, "--out", out, "--json",
                        env={"OPENAI_API_KEY": "x"}, timeout=900)
    secs = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert not script.unknown, f"prompts of no known kind: {script.unknown[0][-800:]}"

    manifest = json.loads((out / "manifest.json").read_text())
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert manifest["sandbox"]["kind"] == "docker", "the default sandbox must be Docker where it is ready"
    TIMES.append((f"{task} {bench} {lang}", secs, len({s["item_key"] for s in samples}),
                  " ".join(f"{k}={v}" for k, v in sorted(script.kinds.items()))))

    # every item of every stage: exactly n samples, each with a known outcome
    per_item: dict[tuple[str, str], list[int]] = defaultdict(list)
    for s in samples:
        assert s["outcome"] in OUTCOMES, s
        assert s["task"] == task and s["benchmark"] == bench and s["language"] == lang, s
        per_item[(s["stage"] or task, s["item_key"])].append(s["sample_index"])
    wrong = {k: v for k, v in per_item.items() if sorted(v) != list(range(n))}
    assert not wrong, f"items without exactly {n} samples: {list(wrong.items())[:5]}"

    # the manifest accounts for every program, stage by stage
    usage = manifest["usable_programs"]
    assert list(usage) == STAGES[task]
    ids = {p.id for p in progs}
    for stage, rec in usage.items():
        on_disk = {key for st, key in per_item if st == stage}
        assert rec["items"] == len(on_disk), (stage, rec["items"], len(on_disk))
        assert rec["used"] == len({s["program_id"] for s in samples if (s["stage"] or task) == stage}), stage
        assert rec["used"] + rec["unusable"] == rec["programs"], (stage, rec)
        assert rec["unusable"] == len(rec["unusable_programs"]) == sum(rec["reasons"].values()), (stage, rec)
        assert set(rec["reasons"]) <= REASONS, (stage, rec["reasons"])
        if rec["of"] == "benchmark programs":
            assert rec["programs"] == len(progs), (stage, rec["programs"], len(progs))
            assert set(rec["unusable_programs"]) <= ids, stage

    # ground truth: one status per input, one row per program without any
    rows = sum(max(1, len(p.inputs) + len(p.meta.get("excluded_inputs") or [])) for p in progs)
    gt = manifest["ground_truth"]
    assert sum(gt.values()) == rows, (gt, rows)
    runnable = gt.get("ok", 0) + gt.get("label_mismatch", 0)
    first = usage[STAGES[task][0]]
    if lang == "java" and task in ("der", "sr"):  # Java problems whose tests are not checks are left out
        untested = [pid for pid, why in first["unusable_programs"].items() if why.startswith(task_base.NO_TESTS)]
        runnable -= sum(1 for p in progs if p.id in untested and p.inputs)  # (their inputs all run)
    if task in ("ier", "input", "der"):  # one item per input whose ground truth ran (first inputs only),
        # but for those whose return value no answer can state (a class, a datetime: NOT_VALUE)
        left_out = sum(first.get("inputs_left_out", {}).values()) if task != "der" else \
            first["reasons"].get(task_base.NOT_VALUE, 0)
        assert first["items"] == runnable - left_out, (first["items"], left_out, gt)
        assert left_out <= 0.05 * runnable, (left_out, runnable)
    elif task == "trace":  # one chain per traced program (first inputs only); the rest left out with a reason
        assert first["items"] == first["used"] == len(progs) - first["unusable"], first
    elif task == "dsr":  # every program with an input that ran (or tests), unless its padding failed
        left_out = sum(first["reasons"].get(r, 0) for r in (task_base.NO_INPUT, task_base.NOT_RUN, dsr.NOT_PADDED,
                                                              dsr.REFERENCE_FAILS, task_base.NO_TESTS))
        assert first["items"] == len(progs) - left_out, first
    else:  # SR shows the stated value: only programs without any input are left out (ClassEval: and
        # methods whose unittest tests cannot be split into checks, or have none; Java: and problems
        # whose tests are not checks)
        left_out = first["reasons"].get(task_base.NO_INPUT, 0)
        if bench == "classeval":
            left_out += first["reasons"].get(task_base.NO_TESTS, 0) + first["reasons"].get(task_base.NO_SHOWN_TEST, 0)
        elif lang == "java":
            left_out += first["reasons"].get(task_base.NO_TESTS, 0)
        assert first["items"] == len(progs) - left_out, first

    # the task really supports this benchmark
    min_used = MIN_USED_OF.get((task, bench), MIN_USED)
    assert first["items"] > 0 and first["used"] >= min_used * len(progs), (first["used"], len(progs))

    outcomes = Counter((s["stage"] or task, s["outcome"]) for s in samples)
    if task == "der":
        correct = sum(1 for s in samples if s["stage"] == "synthesis" and s["correct"])
        assert usage["prediction"]["programs"] == correct  # one own program per correct synthesis sample
        assert correct >= 0.95 * first["items"] * n, outcomes  # the server answers with the references
        assert usage["reference"]["items"] == first["items"]
    if task in ("der", "sr"):  # how each problem's tests were judged: as checks, or whole by the harness
        cov = manifest["test_checks"]
        assert cov["problems"] == usage[STAGES[task][0]]["items"] == cov["as_checks"] + cov["run_whole"]
        assert cov["as_checks"] >= 0.9 * cov["problems"] and len(cov["run_whole_problems"]) == cov["run_whole"]
    if task == "sr":
        assert usage["misleading_test"]["items"] == manifest["sr_mutations"]["mutated"]
        assert usage["with_test"]["items"] == usage["no_test"]["items"]
    if task == "trace":  # the server answers from the program's own trace: every answer is right
        wrong = [(s["stage"], s["program_id"], s["outcome"], s["expected"], s["extracted"]) for s in samples
                 if not s["correct"]]
        assert not wrong, wrong[:5]
        assert manifest["trace"]["traced"] >= first["items"]
    if task == "dsr":  # the server answers with the unpadded originals: all pass, all score 1
        padding = manifest["dsr_padding"]
        assert padding["padded"] == first["items"] and len(padding["left_out"]) <= 0.02 * len(progs), padding
        assert all(s["correct"] and s["score"] == 1.0 for s in samples), outcomes
    if lang == "java" and task in ("der", "sr"):  # the server writes the reference: judged correct, every one
        stages = STAGES[task] if task == "sr" else ["synthesis"]
        wrong = [(s["stage"], s["program_id"], s["outcome"], s["detail"]) for s in samples
                 if s["stage"] in stages and not s["correct"]]
        assert not wrong, wrong[:5]
    # the server answers with the truth where the dataset states it: most answers are right
    right = sum(1 for s in samples if (s["stage"] or task) == STAGES[task][0] and s["correct"])
    assert right >= 0.4 * first["items"] * n, outcomes


# ---------------------------------------------------------------- selection without a sandbox


def _truth(pid: str, index: int, status: str, expected: str | None = "1", reason: str | None = None):
    from codemind.groundtruth import GroundTruth

    return GroundTruth(program_id=pid, input_index=index, execution=None, expected=expected, status=status,
                       reason=reason)


def _ctx(progs, truths):
    from codemind.tasks.base import StageContext

    return StageContext(programs=list(progs), truths={(t.program_id, t.input_index): t for t in truths},
                        prompt_id=None, seed=0, samples=lambda: [], execute=lambda ps: {})


def test_programs_a_task_cannot_use_are_recorded_with_their_reason():
    """No input (asserts only in loops), an input that did not run, a call the prompt cannot
    show (f(1)(2)), no spec: each task leaves the program out with its reason, never crashes
    (DER once reached program.inputs[0] for programs without inputs)."""
    from codemind.schema import Program, TestInput

    def prog(pid, inputs, spec="Add one.", **meta):
        return Program(id=pid, benchmark="t", language="python", kind="function", source="def f(x):\n    return x\n",
                       entry_point="f", inputs=inputs, meta={"spec": spec, "tests": "assert f(1) == 1\n", **meta})

    progs = [
        prog("ok", [TestInput(index=0, call="f(1)", label="1")]),
        prog("loops", [], skipped_asserts=[{"assert": "assert f(x) == x", "reason": "inside a for block"}]),
        prog("broken", [TestInput(index=0, call="f(2)", label="2")]),
        prog("curried", [TestInput(index=0, call="f(1)(2)", label="1")]),
        prog("nospec", [TestInput(index=0, call="f(3)", label="3")], spec=""),
    ]
    truths = [_truth("ok", 0, "ok"), _truth("loops", 0, "excluded", None, "no usable input: inside a for block"),
              _truth("broken", 0, "does_not_run", None, "exception: ZeroDivisionError"), _truth("curried", 0, "ok"),
              _truth("nospec", 0, "ok")]
    expect = {
        "ier": {"loops": task_base.NO_INPUT, "broken": task_base.NOT_RUN, "curried": task_base.NOT_ASKABLE},
        "input": {"loops": task_base.NO_INPUT, "broken": task_base.NOT_RUN},  # its prompt shows no arguments
        "der": {"loops": task_base.NO_INPUT, "broken": task_base.NOT_RUN, "curried": task_base.NOT_ASKABLE,
                "nospec": task_base.NO_SPEC},
        "sr": {"loops": task_base.NO_INPUT, "nospec": task_base.NO_SPEC},  # SR shows the stated value
    }
    for task, unusable in expect.items():
        ctx = _ctx(progs, truths)
        stages = list(TASKS.get(task)().plan(ctx))
        first = ctx.manifest_extra["usable_programs"][STAGES[task][0]]
        got = {pid: why.split(":")[0] for pid, why in first["unusable_programs"].items()}
        assert got == unusable, (task, first["unusable_programs"])
        assert first["used"] + first["unusable"] == len(progs)
        assert {i.program_id for i in stages[0].items} == {p.id for p in progs} - set(unusable), task
    assert "inside a for block" in first["unusable_programs"]["loops"]


def test_a_run_with_no_items_stops_before_its_run_directory_exists(tmp_path, monkeypatch):
    """Every program passes the static checks but none has an input that ran: a UserError (the
    CLI's one line and exit 2) after ground truth, and no run directory."""
    from codemind.benchmarks.base import Benchmark
    from codemind.config import RunConfig
    from codemind.errors import UserError
    from codemind.pipeline import run
    from codemind.schema import Program, TestInput

    class Broken(Benchmark):
        name = "broken-fixture"

        def load(self):
            return [Program(id=f"p{i}", benchmark=self.name, language="python", kind="function",
                            source="def f(x):\n    return 1 / 0\n", entry_point="f",
                            inputs=[TestInput(index=0, call=f"f({i})", label="1")],
                            meta={"spec": "One.", "tests": "assert f(1) == 1\n"}) for i in range(3)]

    monkeypatch.setitem(BENCHMARKS._entries, Broken.name, Broken)
    monkeypatch.setenv("CODEMIND_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("OPENAI_API_KEY", "x")
    for task in ("ier", "input", "der"):
        out = tmp_path / task
        config = RunConfig(benchmark=Broken.name, task=task, model="openai:none", base_url="http://127.0.0.1:9/v1",
                           sandbox="process", workers=1, out=out)
        with pytest.raises(UserError, match=rf"task {task} has no items on {Broken.name} .*3 {task_base.NOT_RUN}"):
            run(config)
        assert not out.exists()
