"""DER, SR and input prediction end to end through the openai backend and a scripted server.

A server that answers every question correctly must score 100% on every stage, and one that
answers wrongly 0%: no correct answer can be lost between stages.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from cli_helpers import codemind
from scripted_server import Script, serve

from codemind.benchmarks.base import BENCHMARKS
from codemind.sandbox.process import ProcessSandbox
from codemind.judges.base import Case
from codemind.judges.tests import TestsJudge
from codemind.tasks.code import extract_code
from codemind.tasks.mutate import mutate_assert, mutate_value, rng_for
from codemind.tasks.sr import SR
from codemind.tasks.summary import per_problem
from codemind.schema import Item, Prompt
from codemind.store.rundir import RunDir

LIMIT = 6


def _reference_table(benchmark: str, data_dir: Path) -> Script:
    """Answers computed by running the reference programs in this process."""
    script = Script()
    for p in BENCHMARKS.get(benchmark)(data_dir=data_dir).load()[:LIMIT]:
        if p.meta.get("spec"):
            script.solutions[p.meta["spec"].strip("\n")] = p.source
        for inp in p.inputs[:1]:
            ns: dict = {}
            exec(p.source, ns)  # trusted benchmark reference code
            value = repr(eval(inp.call, ns))
            script.outputs[(p.source, inp.call)] = value
            script.outputs[(p.source.strip("\n") + "\n", inp.call)] = value
            args = inp.call[len(p.entry_point) + 1 : -1]
            script.inputs[(p.source, value)] = f"{p.entry_point}({args})"
    return script


def _run(task: str, benchmark: str, data_dir: Path, tmp_path: Path, wrong: bool) -> tuple[list[dict], Script]:
    script = _reference_table(benchmark, data_dir)
    script.wrong = wrong
    server, url = serve(script)
    try:
        out = tmp_path / f"{task}-{benchmark}-{wrong}"
        proc = codemind("run", "--benchmark", benchmark, "--task", task, "--limit", LIMIT, "--sandbox", "process",
                        "--model", f"openai:scripted-{'wrong' if wrong else 'right'}", "--base-url", url,
                        "--out", out, "--json", env={"OPENAI_API_KEY": "test"})
        assert proc.returncode == 0, proc.stderr
    finally:
        server.shutdown()
    return [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()], script


def _by_stage(samples: list[dict]) -> dict[str | None, list[bool]]:
    stages: dict[str | None, list[bool]] = {}
    for s in samples:
        stages.setdefault(s.get("stage"), []).append(s["correct"])
    return stages


@pytest.mark.parametrize("bench", ["humaneval", "mbpp"])
def test_der_right_answers_score_100_on_every_stage(data_dir, tmp_path, bench):
    samples, script = _run("der", bench, data_dir, tmp_path, wrong=False)
    stages = _by_stage(samples)
    assert set(stages) == {"synthesis", "prediction", "reference"}
    assert len(stages["synthesis"]) == len(stages["prediction"]) == len(stages["reference"]) == LIMIT
    assert all(all(v) for v in stages.values()), [s for s in samples if not s["correct"]]
    assert not script.unanswered
    report = json.loads(codemind("report", tmp_path / f"der-{bench}-False", "--json").stdout)
    (summary,) = report["summary"]
    der = summary["der"]
    assert der["synthesis_pass_at_1"]["accuracy"] == der["r_der"]["accuracy"] == der["ier_reference"]["accuracy"] == 1
    assert der["consistency"]["reference_right_given_own_right"] == 1.0
    assert {m["group"]["stage"] for m in report["metrics"]} == {"synthesis", "prediction", "reference"}
    # the run directory records the model's own programs too: predictions about them report their constructs
    own = [p for p in RunDir(tmp_path / f"der-{bench}-False").recorded_programs() if "@" in p.id]
    assert len(own) == LIMIT and all(p.features and p.meta["reference_id"] == p.id.split("@")[0] for p in own)


def test_der_wrong_answers_score_0(data_dir, tmp_path):
    samples, _ = _run("der", "humaneval", data_dir, tmp_path, wrong=True)
    stages = _by_stage(samples)
    assert stages["synthesis"] and not any(stages["synthesis"])
    assert "prediction" not in stages  # no correct program, nothing to predict
    assert stages["reference"] and not any(stages["reference"])


def test_sr_variants(data_dir, tmp_path):
    samples, script = _run("sr", "mbpp", data_dir, tmp_path, wrong=False)
    stages = _by_stage(samples)
    assert set(stages) == {"with_test", "no_test", "misleading_test"}
    assert all(all(v) for v in stages.values())
    misleading = [p for p in script.requests if "Test:" in p]
    assert len(misleading) == 2 * LIMIT  # with_test and misleading_test prompts both show a test
    manifest = json.loads((tmp_path / "sr-mbpp-False" / "manifest.json").read_text())
    assert manifest["sr_mutations"]["mutated"] == LIMIT
    sr = json.loads(codemind("report", tmp_path / "sr-mbpp-False", "--json").stdout)["summary"][0]["sr"]
    assert sr["with_minus_none"]["difference"] == 0 and sr["with_minus_none"]["n_problems"] == LIMIT
    assert sr["r_sr"] == {"pass_initial": 1.0, "improved": 0, "total": LIMIT, "r_sr": 1.0}
    wrong, _ = _run("sr", "mbpp", data_dir, tmp_path, wrong=True)
    assert not any(s["correct"] for s in wrong)


def test_r_sr_by_hand():
    """R_SR = Pass_initial * exp(improved / total): 4 problems, 1 passes without the test, 3 with it
    (2 improved, 1 already passing; 1 passes without but not with, which improves nothing)."""
    rows = []
    for pid, none, with_ in [("a", True, True), ("b", False, True), ("c", False, True), ("d", False, False)]:
        rows += [{"benchmark": "b", "program_id": pid, "stage": "no_test", "correct": none},
                 {"benchmark": "b", "program_id": pid, "stage": "with_test", "correct": with_}]
    r = SR().summarize(rows)["r_sr"]
    assert (r["pass_initial"], r["improved"], r["total"]) == (0.25, 2, 4)
    assert r["r_sr"] == pytest.approx(0.25 * math.exp(0.5))
    assert SR().summary_cells(SR().summarize(rows))["R_SR"] == f"{0.25 * math.exp(0.5):.3f}"
    assert SR().summarize([])["r_sr"]["r_sr"] is None
    # ClassEval ids hold '@' themselves: each method is its own problem (DER's own programs, <id>@<n>, are not)
    methods = [{**r, "benchmark": "classeval", "program_id": f"ClassEval_0@A.{r['program_id']}"} for r in rows]
    assert SR().summarize(methods)["r_sr"]["total"] == 4
    own = [{**r, "program_id": f"ClassEval_0@A.m@{i}"} for i, r in enumerate(rows[:2])]
    assert len(per_problem(own)) == 1


def test_input_prediction(data_dir, tmp_path):
    samples, script = _run("input", "cruxeval", data_dir, tmp_path, wrong=False)
    assert len(samples) == LIMIT and all(s["correct"] for s in samples), samples
    wrong, _ = _run("input", "cruxeval", data_dir, tmp_path, wrong=True)
    assert not any(s["correct"] for s in wrong)


def test_misleading_mutation_is_deterministic_and_wrong():
    test = "assert Split([1,2,3,4,5,6]) == [1,3,5]"
    a = mutate_assert(test, rng_for(7, "mbpp", "554"))
    assert a == mutate_assert(test, rng_for(7, "mbpp", "554"))
    assert a[0] != test and a[0].startswith("assert Split([1,2,3,4,5,6]) == ")
    outcomes = {mutate_assert(test, rng_for(seed, "mbpp", "554"))[0] for seed in range(20)}
    assert len(outcomes) > 1  # the seed matters
    for value in [0, -5, 2.5, True, "", "abc", [], [1, 2], (1,), {"a": 1}, {1, 2}, None, [[1], [2]]]:
        for seed in range(5):
            m = mutate_value(value, rng_for(seed, "b", "p"))
            assert m != value or type(m) is not type(value), (value, m)


def test_code_extraction():
    assert extract_code("Sure:\n```python\ndef f(x):\n    return x\n```\nbye") == "def f(x):\n    return x\n"
    assert extract_code("```\nimport math\n```\n```python\ndef g():\n    pass\n```") == "def g():\n    pass\n"
    assert extract_code("```python\ndef h():\n    return 1") == "def h():\n    return 1\n"  # unterminated
    assert extract_code("def k(): return 2") == "def k(): return 2\n"
    assert extract_code("I cannot do that.") is None
    assert extract_code("") is None


def _case(code, tests="assert add(1, 2) == 3\n", finish="stop"):
    item = Item(key="k", benchmark="b", language="python", task="der", program_id="p",
                prompt=Prompt(id="x", hash="h", text=""), extractor="code", answer_kind="code", expected=None,
                context={"tests": tests})
    return Case(item=item, raw=code, extracted=code, finish_reason=finish)


def test_tests_judge_outcomes():
    cases = [
        _case("def add(a, b):\n    return a + b\n"),
        _case("def add(a, b):\n    return a - b\n"),
        _case("def add(a, b) return\n"),
        _case("def add(a, b):\n    while True: pass\n"),
        _case(None),
        _case(None, finish="length"),
    ]
    with ProcessSandbox(workers=2) as sb:
        outcomes = [j.outcome for j in TestsJudge().judge(cases, sb)]
    assert outcomes == ["correct", "wrong_value", "unparsable", "timeout", "no_answer", "truncated"]


def test_tests_judge_reuses_cached_test_runs(tmp_path, monkeypatch):
    """A rerun (after a kill) reads a finished test run from the execution cache instead of
    executing it again: we plant a different recorded result and the judge must report it."""
    from codemind.sandbox.cache import ExecCache
    from codemind.schema import CallValue, Execution
    from codemind.judges.tests import test_job

    monkeypatch.setenv("CODEMIND_CACHE_DIR", str(tmp_path))
    case = _case("def add(a, b):\n    return a + b\n")
    with ProcessSandbox(workers=1) as sb:
        assert TestsJudge().judge([case], sb)[0].outcome == "correct"
        key = test_job(case.extracted, case.item.context).key(sb.runtime)
        with ExecCache() as cache:
            assert cache.get(key).status == "ok"
            cache.put_many([(key, Execution(status="ok", values=[CallValue(value="4")]))])
        assert TestsJudge().judge([case], sb)[0].outcome == "wrong_value"
