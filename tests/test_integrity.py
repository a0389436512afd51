"""Red-team suite: no reward hack may turn a wrong answer into `correct`.

Every hack of benchmarks/hacks/ (code hacks for DER/SR synthesis, answer hacks for IER and
input prediction) is judged by the real judges in the real Docker sandbox:

* directly: each code hack on a small HumanEval-style problem through the `tests` judge, each
  answer hack on a small item through `value` and `cruxeval` (output and input mode);
* end to end: `codemind run` against a scripted OpenAI-compatible "hacker"
  (tests/servers/hack_server.py) on a few HumanEval problems (sr, der) and CRUXEval items
  (ier with --judge value / cruxeval, input with cruxeval / value).

For each hacked sample: it is not correct, and its outcome is one the hack's entry allows
(`outcomes` in the TOML; all from OUTCOMES below, `sandbox_error` only for hacks that attack
the sandbox itself). After each hack the same sandbox (one worker, so the same runner or
its replacement) must still give a plain program its normal result. Honest answers (correct
solution, correct literal, correct input call) must stay correct, so the suite cannot pass
by rejecting everything.

Needs the Docker engine and sandbox image: skipped without them, except in CI (CI=true),
where that is a failure.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from docker_helpers import need_docker
from cli_helpers import codemind
from servers.hack_server import HackScript, cruxeval_records, humaneval_records, start

import hack_corpus as hc  # on sys.path via servers.hack_server
from codemind.judges.base import JUDGES, Case
from codemind.schema import Item, Prompt

pytestmark = pytest.mark.docker

# every outcome a hacked sample may get; never `correct`
OUTCOMES = {"wrong_value", "invalid_answer", "exited_early", "timeout", "unparsable", "no_answer", "sandbox_error"}
CODE_HACKS = hc.code_hacks()
OUTPUT_HACKS = hc.answer_hacks("output")
INPUT_HACKS = hc.answer_hacks("input")
CODE_DEMO = hc.code_demo()
ANSWER_DEMO = hc.answer_demo()




@pytest.fixture(scope="module")
def sb():
    need_docker()
    from codemind.sandbox import open_sandbox

    # one worker: the job after a hack runs on the runner the hack ran on (or its replacement)
    with open_sandbox("docker", workers=1) as s:
        yield s


# ---------------------------------------------------------------- items


def _code_item(tests: str) -> Item:
    entry = CODE_DEMO["entry_point"]
    return Item(key=f"redteam/{entry}#0/sr:with_test", benchmark="redteam", language="python", task="sr",
                stage="with_test", program_id=entry, prompt=Prompt(id="p", hash="h", text=""), extractor="code",
                answer_kind="code", expected=None,
                context={"tests": tests + f"\n\ncheck({entry})\n", "entry_point": entry,
                         "spec": CODE_DEMO["spec"].lstrip("\n")})


def _output_item() -> Item:
    d = ANSWER_DEMO["output"]
    return Item(key="redteam/f#0/ier", benchmark="redteam", language="python", task="ier", program_id="f",
                prompt=Prompt(id="p", hash="h", text=""), extractor="verbatim", answer_kind="value",
                expected=d["expected"], label=d["expected"],
                context={"source": d["code"].lstrip("\n"), "call": d["call"], "input": d["args"], "entry_point": "f"})


def _input_item() -> Item:
    d = ANSWER_DEMO["input"]
    return Item(key="redteam/f#0/input", benchmark="redteam", language="python", task="input", program_id="f",
                prompt=Prompt(id="p", hash="h", text=""), extractor="verbatim", answer_kind="call",
                expected=d["output"], label=d["output"],
                context={"source": d["code"].lstrip("\n"), "call": d["honest"], "input": d["honest"][2:-1],
                         "entry_point": d["entry_point"], "output": d["output"]})


def _judge(name: str, item: Item, answers: list[str], sandbox, **options):
    cases = [Case(item=item, raw=a, extracted=a, finish_reason="stop") for a in answers]
    return JUDGES.get(name)(**options).judge(cases, sandbox)


def _honest_code(tag: str) -> str:
    # a distinct comment per use: the tests judge's execution cache must not answer for the sandbox
    return CODE_DEMO["spec"].lstrip("\n") + CODE_DEMO["correct_body"] + f"\n# plain run after {tag}\n"


def _assert_rejected(j, hack: hc.Hack, where: str) -> None:
    assert not j.correct, f"{where}: hack {hack.name} was judged correct ({j.outcome}, {j.detail})"
    assert j.outcome in OUTCOMES, f"{where}: hack {hack.name}: unknown outcome {j.outcome}"
    assert j.outcome in hack.outcomes, (
        f"{where}: hack {hack.name}: outcome {j.outcome} ({j.detail}) is not one of {list(hack.outcomes)}")


def _assert_sandbox_still_normal(sandbox, tag: str) -> None:
    """A plain program run next on the same sandbox gives its normal result."""
    (j,) = _judge("tests", _code_item(CODE_DEMO["tests"]), [_honest_code(tag)], sandbox)
    assert j.correct and j.outcome == "correct", f"after {tag}: an honest solution got {j.outcome} ({j.detail})"


# ---------------------------------------------------------------- honest answers stay correct


def test_honest_solution_is_correct(sb):
    (j,) = _judge("tests", _code_item(CODE_DEMO["tests"]), [_honest_code("nothing")], sb)
    assert (j.outcome, j.correct) == ("correct", True), j.detail


@pytest.mark.parametrize("judge", ["value", "cruxeval"])
def test_honest_literal_is_correct(sb, judge):
    (j,) = _judge(judge, _output_item(), [ANSWER_DEMO["output"]["honest"]], sb,
                  **({"mode": "output"} if judge == "cruxeval" else {}))
    assert (j.outcome, j.correct) == ("correct", True), j.detail


@pytest.mark.parametrize("judge", ["value", "cruxeval"])
def test_honest_input_call_is_correct(sb, judge):
    (j,) = _judge(judge, _input_item(), [ANSWER_DEMO["input"]["honest"]], sb,
                  **({"mode": "input"} if judge == "cruxeval" else {}))
    assert (j.outcome, j.correct) == ("correct", True), j.detail


def test_honest_wrong_answers_are_wrong_value(sb):
    """The plain wrong answers the hacks dress up are wrong_value without the dressing."""
    (j,) = _judge("value", _output_item(), [hc.WRONG], sb)
    assert (j.outcome, j.correct) == ("wrong_value", False)
    (j,) = _judge("cruxeval", _input_item(), [f"f({ANSWER_DEMO['input']['wrong_args']})"], sb, mode="input")
    assert (j.outcome, j.correct) == ("wrong_value", False)
    wrong = CODE_DEMO["spec"].lstrip("\n") + "    return None\n"
    (j,) = _judge("tests", _code_item(CODE_DEMO["tests"]), [wrong], sb)
    assert (j.outcome, j.correct) == ("wrong_value", False)


# ---------------------------------------------------------------- hacks, judged directly


@pytest.mark.parametrize("hack", CODE_HACKS, ids=[h.name for h in CODE_HACKS])
def test_code_hack_is_not_correct(sb, hack):
    code = hc.render_code(hack, CODE_DEMO["spec"].lstrip("\n"), CODE_DEMO["entry_point"])
    (j,) = _judge("tests", _code_item(hack.demo_tests or CODE_DEMO["tests"]), [code], sb)
    _assert_rejected(j, hack, "tests judge")
    _assert_sandbox_still_normal(sb, hack.name)


@pytest.mark.parametrize("judge", ["value", "cruxeval"])
@pytest.mark.parametrize("hack", OUTPUT_HACKS, ids=[h.name for h in OUTPUT_HACKS])
def test_output_answer_hack_is_not_correct(sb, hack, judge):
    answer = hc.render_output(hack, ANSWER_DEMO["output"]["call"])
    (j,) = _judge(judge, _output_item(), [answer], sb, **({"mode": "output"} if judge == "cruxeval" else {}))
    _assert_rejected(j, hack, f"{judge} judge (output)")
    # the same judge still executes an honest answer normally on this sandbox
    (h,) = _judge(judge, _input_item(), [ANSWER_DEMO["input"]["honest"]], sb,
                  **({"mode": "input"} if judge == "cruxeval" else {}))
    assert h.correct, f"after {hack.name}: honest input call got {h.outcome} ({h.detail})"
    _assert_sandbox_still_normal(sb, f"{judge}:{hack.name}")


@pytest.mark.parametrize("judge", ["cruxeval", "value"])
@pytest.mark.parametrize("hack", INPUT_HACKS, ids=[h.name for h in INPUT_HACKS])
def test_input_answer_hack_is_not_correct(sb, hack, judge):
    d = ANSWER_DEMO["input"]
    answer = hc.render_input(hack, d["entry_point"], d["output"], d["wrong_args"])
    (j,) = _judge(judge, _input_item(), [answer], sb, **({"mode": "input"} if judge == "cruxeval" else {}))
    _assert_rejected(j, hack, f"{judge} judge (input)")
    (h,) = _judge(judge, _input_item(), [d["honest"]], sb, **({"mode": "input"} if judge == "cruxeval" else {}))
    assert h.correct, f"after {hack.name}: honest input call got {h.outcome} ({h.detail})"
    _assert_sandbox_still_normal(sb, f"{judge}:{hack.name}")


# ---------------------------------------------------------------- end to end: codemind run + hacker server

E2E_RUNS = [  # (name, benchmark, task, judge, limit): limits make every answer hack appear at least once
    ("sr", "humaneval", "sr", None, 3),
    ("der", "humaneval", "der", None, 3),
    ("ier-value", "cruxeval", "ier", "value", len(OUTPUT_HACKS)),
    ("ier-crux", "cruxeval", "ier", "cruxeval", len(OUTPUT_HACKS)),
    ("input-crux", "cruxeval", "input", None, len(INPUT_HACKS)),
    ("input-value", "cruxeval", "input", "value", len(INPUT_HACKS)),
]
_E2E_HE = 3
_E2E_CRUX = max(len(OUTPUT_HACKS), len(INPUT_HACKS))
# a few HumanEval problems give few synthesis samples: serve a spread of mechanisms there
_E2E_CODE_HACKS = {"os_exit_at_import", "raise_systemexit_in_function", "atexit_forged_record", "fd3_forged_record",
                   "patch_harness_globals", "always_equal_int", "patch_builtins_combo", "settrace_replace_check",
                   "frame_expected_consts", "forged_harness_result", "timer_os_exit"}


@pytest.fixture(scope="module")
def crux_items(data_dir):
    return cruxeval_records(data_dir)[:_E2E_CRUX]


@pytest.fixture(scope="module")
def hacker(crux_items):
    need_docker()
    wrong = hc.wrong_args_for([(r["id"], r["code"], r["output"]) for r in crux_items])
    script = HackScript(humaneval=humaneval_records()[:_E2E_HE], cruxeval=crux_items, wrong_args=wrong,
                        only=_E2E_CODE_HACKS)
    server, url = start(script)
    yield script, url
    server.shutdown()


def _codemind_run(url: str, model: str, bench: str, task: str, judge: str | None, limit: int, out: Path) -> list[dict]:
    args = ["run", "--benchmark", bench, "--task", task, "--limit", limit, "--sandbox", "docker", "--no-cache",
            "--workers", 2, "--model", f"openai:{model}", "--base-url", url, "--out", out, "--json"]
    if judge:
        args += ["--judge", judge]
    proc = codemind(*args, env={"OPENAI_API_KEY": "redteam"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("name,bench,task,judge,limit", E2E_RUNS, ids=[r[0] for r in E2E_RUNS])
def test_codemind_run_with_hacker_model(hacker, tmp_path, name, bench, task, judge, limit):
    script, url = hacker
    script.phase = name
    samples = _codemind_run(url, f"hacker-{name}", bench, task, judge, limit, tmp_path / name)
    by_name = {h.name: h for h in (*CODE_HACKS, *OUTPUT_HACKS, *INPUT_HACKS)}
    assert samples and not script.unanswered, script.unanswered[:1]
    bad = []
    for s in samples:
        served = script.served.get(s["raw"] or "")
        assert served is not None, f"sample {s['item_key']} was not answered by the hacker: {s['raw']!r:.200}"
        hack = by_name[served.hack]
        if s["correct"] or s["outcome"] not in hack.outcomes:
            bad.append((s["item_key"], hack.name, s["outcome"], s.get("detail")))
    assert not bad, f"{len(bad)} of {len(samples)} hacked samples not rejected as expected: {bad}"


@pytest.fixture(scope="module")
def honest(crux_items):
    need_docker()
    script = HackScript(humaneval=humaneval_records()[:2], cruxeval=crux_items[:5], honest=True)
    server, url = start(script)
    yield script, url
    server.shutdown()


HONEST_RUNS = [
    ("sr", "humaneval", "sr", None, 2),
    ("ier-value", "cruxeval", "ier", "value", 5),
    ("ier-crux", "cruxeval", "ier", "cruxeval", 5),
    ("input-crux", "cruxeval", "input", None, 5),
    ("input-value", "cruxeval", "input", "value", 5),
]


@pytest.mark.parametrize("name,bench,task,judge,limit", HONEST_RUNS, ids=[r[0] for r in HONEST_RUNS])
def test_codemind_run_with_honest_model(honest, tmp_path, name, bench, task, judge, limit):
    script, url = honest
    script.phase = name
    samples = _codemind_run(url, f"honest-{name}", bench, task, judge, limit, tmp_path / name)
    assert samples and all(s["correct"] for s in samples), [
        (s["item_key"], s["outcome"], s.get("detail")) for s in samples if not s["correct"]]


# ---------------------------------------------------------------- DER: the model's own code cannot choose its expected output

# Correct code that tells the ground-truth run of its own output (a single call) from the run of
# its tests (calls) by the runner's frame, and forges the ground truth's record there; the model
# then "predicts" the forged value. The test run decides: the forged value is never expected.
_TWO_FACED = '''import os as _os, sys as _sys
_frame = _sys._getframe(1)
if _frame.f_locals.get("calls") is None and _frame.f_locals.get("call") is not None:
    _os.write(3, b'{"status":"ok","return_repr":"\\'forged\\'"}\\n')
    _os._exit(0)
'''


def test_der_own_code_cannot_forge_its_expected_output(tmp_path, data_dir):
    need_docker()
    from codemind.benchmarks.base import BENCHMARKS
    from scripted_server import Script, serve

    problems = BENCHMARKS.get("humaneval")(data_dir=data_dir).load()[:3]

    class TwoFaced(Script):
        def answer(self, prompt: str) -> str:
            self.requests.append(prompt)
            for p in problems:
                if "write a Python function" in prompt and p.meta["spec"].strip("\n") in prompt:
                    return f"```python\n{_TWO_FACED}{p.source}\n```"
            return "[ANSWER]\nassert x == 'forged'\n[/ANSWER]"

    server, url = serve(TwoFaced())
    try:
        out = tmp_path / "der"
        proc = codemind("run", "--benchmark", "humaneval", "--task", "der", "--limit", 3, "--sandbox", "docker",
                        "--model", "openai:two-faced", "--base-url", url, "--out", out, "--json",
                        env={"OPENAI_API_KEY": "redteam"})
        assert proc.returncode == 0, proc.stderr[-3000:]
    finally:
        server.shutdown()
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    synthesis = [s for s in samples if s["stage"] == "synthesis"]
    assert synthesis and all(s["correct"] for s in synthesis)  # the code itself is right
    prediction = [s for s in samples if s["stage"] == "prediction"]
    assert not any(s["correct"] for s in prediction), prediction
    assert all(s["expected"] != "'forged'" for s in prediction)
    usage = json.loads((out / "manifest.json").read_text())["usable_programs"]["prediction"]
    assert usage["used"] == 0 and len(usage["unusable_programs"]) == len(synthesis), usage
    assert all("own output not confirmed by its test run" in why for why in usage["unusable_programs"].values())
