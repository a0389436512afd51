"""Label-only questions: a judge that compares with the dataset's label (codemind-exact
against="label", the CodeMind paper's) gets the labelled inputs whose program does not run
here, or that the adapter excluded, as the authors did; every judge that compares with the
executed output never sees them, and nothing else changes."""

from __future__ import annotations

import json
import os

import pytest

from cli_helpers import codemind
from codemind.benchmarks.stdin_common import INPUT_CAP_BYTES, stdin_program
from codemind.groundtruth import GroundTruth
from codemind.judges.base import JUDGES
from codemind.tasks.base import TASKS, StageContext

SANDBOX = os.environ.get("CODEMIND_TEST_SANDBOX", "process")


def _truth(pid, index, status, expected=None, reason=None):
    return GroundTruth(program_id=pid, input_index=index, execution=None, expected=expected, status=status,
                       reason=reason)


def _plan(task_name, programs, truths, label_judge, prompt_id="codemind"):
    ctx = StageContext(programs=programs, truths={(t.program_id, t.input_index): t for t in truths},
                       prompt_id=prompt_id, seed=0, samples=lambda: [], execute=lambda ps: {},
                       label_judge=label_judge)  # fmt: skip
    task = TASKS.get(task_name)()
    stage = next(task.plan(ctx))
    return stage.items, ctx.manifest_extra["usable_programs"][task_name]


def test_judges_declare_whether_they_compare_with_labels():
    assert JUDGES.get("codemind-exact")().uses_label
    assert JUDGES.get("codemind-exact")(against="label").uses_label
    assert not JUDGES.get("codemind-exact")(against="executed").uses_label
    for name in ("value", "stdout", "cruxeval", "tests"):
        assert not JUDGES.get(name)().uses_label, name


def _programs():
    big = "1\n" * (INPUT_CAP_BYTES // 2 + 1)
    ok = stdin_program(id="ok", benchmark="t", language="python", source="print(1)\n", tests=[("", "1\n")], meta={})
    crash = stdin_program(id="crash", benchmark="t", language="python", source="print(1/0)\n",
                          tests=[("", "7\n"), ("x", None)], meta={})  # fmt: skip
    huge = stdin_program(id="huge", benchmark="t", language="python", source="print(2)\n", tests=[(big, "2\n")],
                         meta={})  # fmt: skip
    truths = [_truth("ok", 0, "ok", "1\n"), _truth("crash", 0, "does_not_run", reason="exception: ZeroDivisionError"),
              _truth("crash", 1, "does_not_run", reason="exception: ZeroDivisionError"),
              _truth("huge", 0, "excluded", reason=huge.meta["excluded_inputs"][0]["reason"])]  # fmt: skip
    return [ok, crash, huge], truths


def test_ier_asks_labelled_unrun_inputs_only_under_a_label_judge():
    programs, truths = _programs()
    assert programs[2].inputs == [] and programs[2].meta["excluded_inputs"][0]["stdin"].startswith("1\n")
    items, usage = _plan("ier", programs, truths, label_judge=False)
    assert [i.program_id for i in items] == ["ok"] and "label_only" not in usage
    assert usage["unusable_programs"].keys() == {"crash", "huge"}

    items, usage = _plan("ier", programs, truths, label_judge=True)
    got = [(i.program_id, i.input_index, i.ground_truth, i.label_only, i.expected, i.label) for i in items]
    assert got == [("ok", 0, "ok", False, "1\n", "1\n"),
                   ("crash", 0, "does_not_run", True, None, "7\n"),  # input 1 states no label: not asked
                   ("huge", 0, "excluded", True, None, "2\n")]  # fmt: skip
    assert "1\n1\n1\n" in items[2].prompt.text  # the excluded input is shown, as the authors' prompt did
    assert usage["used"] == 3 and usage["unusable"] == 0 and usage["items"] == 3
    assert usage["label_only"] == {"items": 2, "judged_on_executed_output": 1,
                                   "by_ground_truth": {"does_not_run": 1, "excluded": 1},
                                   "programs": ["crash", "huge"]}  # fmt: skip


def test_other_tasks_never_build_label_only_items():
    programs, truths = _programs()
    programs = [p.model_copy(update={"kind": "function", "entry_point": "f", "inputs": [
        i.model_copy(update={"call": "f()", "stdin": None}) for i in p.inputs]}) for p in programs]
    items, usage = _plan("input", programs, truths, label_judge=True, prompt_id="cruxeval-direct")
    assert not any(i.label_only for i in items) and "label_only" not in usage


def test_label_only_items_are_judged_on_the_label_alone():
    from codemind.judges.base import Case

    programs, truths = _programs()
    items, _ = _plan("ier", programs, truths, label_judge=True)
    crash = items[1]
    judge = JUDGES.get("codemind-exact")()
    got = judge.judge([Case(item=crash, raw="7", extracted="7"), Case(item=crash, raw="1", extracted="1"),
                       Case(item=crash, raw=None, extracted=None)], None)  # fmt: skip
    assert [(j.outcome, j.correct) for j in got] == [("correct", True), ("wrong_value", False), ("no_answer", False)]
    assert all(j.detail == "judged on the label only (ground truth does_not_run)" for j in got)
    # an executed-output judge never has a reference for them: the pipeline refuses the mix
    executed = JUDGES.get("codemind-exact")(against="executed")
    (j,) = executed.judge([Case(item=crash, raw="7", extracted="7")], None)
    assert (j.outcome, j.correct) == ("sandbox_error", False)


def _file(tmp_path):
    lines = [
        {"id": "ok", "language": "python", "kind": "stdin", "source": "print(input())\n",
         "inputs": [{"stdin": "5\n", "label": "5\n"}]},
        {"id": "py2", "language": "python", "kind": "stdin", "source": "print 'hi'\n",
         "inputs": [{"stdin": "", "label": "hi\n"}]},
        {"id": "boom", "language": "python", "kind": "stdin", "source": "import sys\nsys.exit(3)\n",
         "inputs": [{"stdin": "", "label": "anything\n"}]},
    ]  # fmt: skip
    programs = tmp_path / "progs.jsonl"
    programs.write_text("".join(json.dumps(x) + "\n" for x in lines))
    answers = {"ok": "5", "py2": "hi", "boom": "nothing"}
    replay = tmp_path / "answers.jsonl"
    replay.write_text("".join(json.dumps({"item_id": k, "text": f"<<<Output>>>\n{v}\n[END-OF-RESPONSE]"}) + "\n"
                              for k, v in answers.items()))  # fmt: skip
    return programs, replay


@pytest.mark.parametrize("judge,args,expected", [
    ("codemind-exact", [], {"ok": "correct", "py2": "correct", "boom": "wrong_value"}),
    ("codemind-exact", ["--judge-arg", "against=executed"], {"ok": "correct"}),
    ("stdout", [], {"ok": "correct"}),
])  # fmt: skip
def test_run_end_to_end_label_judge_vs_executed_judges(tmp_path, judge, args, expected):
    """`codemind run` on a file: benchmark: programs that do not run (Python 2, exit 3) are
    asked only of the label judge; the executed judges report them as does_not_run, as before."""
    programs, replay = _file(tmp_path)
    out = tmp_path / "run"
    proc = codemind("run", "--benchmark", f"file:{programs}", "--task", "ier", "--prompt", "codemind",
                    "--judge", judge, *args, "--model", f"replay:{replay}", "--out", out, "--sandbox", SANDBOX)
    assert proc.returncode == 0, proc.stderr
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert {s["program_id"]: s["outcome"] for s in samples} == expected
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["ground_truth"] == {"ok": 1, "does_not_run": 2}  # ground truth is executed either way
    usage = manifest["usable_programs"]["ier"]
    if len(expected) == 1:
        assert "label_only" not in usage and set(usage["unusable_programs"]) == {"py2", "boom"}
        assert usage["unusable_programs"]["py2"].startswith("ground truth does not run: python2:")
    else:
        assert usage["label_only"]["items"] == 2 and usage["label_only"]["programs"] == ["boom", "py2"]
        only = [s for s in samples if s["ground_truth"] == "does_not_run"]
        assert {s["program_id"] for s in only} == {"py2", "boom"}
        assert all(s["expected"] is None and s["detail"].startswith("judged on the label only") for s in only)


def test_pipeline_refuses_label_only_items_for_an_executed_output_judge(tmp_path):
    """A task that built label-only items for a judge that compares with executed output (a
    bug) stops the run before anything is judged: such an item has no reference to judge on."""
    from codemind.config import RunConfig
    from codemind.pipeline import run

    programs, replay = _file(tmp_path)
    TASKS.register("toy-leaky", lazy="toys.task:LeakyTask")
    try:
        config = RunConfig(benchmark=f"file:{programs}", task="toy-leaky", prompt="codemind", judge="stdout",
                           model=f"replay:{replay}", sandbox=SANDBOX, out=tmp_path / "run")  # fmt: skip
        with pytest.raises(RuntimeError, match="has label-only items"):
            run(config)
    finally:
        TASKS.unregister("toy-leaky")
    samples = tmp_path / "run" / "samples.jsonl"
    assert not samples.exists() or samples.read_text() == ""
