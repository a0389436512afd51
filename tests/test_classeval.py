"""ClassEval: the 400 items load, ground truth executes in Docker (with the determinism probe),
IER and SR run end to end against a scripted server, and SR's unittest judge cannot be fooled.

Nothing here mocks the sandbox or the judge: answers come from an OpenAI-compatible server on
127.0.0.1 (tests/scripted_server.py), judged in the Docker sandbox.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap

import pytest
from cli_helpers import codemind
from docker_helpers import need_docker
from scripted_server import serve

from codemind.benchmarks.base import BENCHMARKS
from codemind.benchmarks.classeval import CALL, method_node
from codemind.groundtruth import execute_ground_truth
from codemind.judges.base import Case
from codemind.judges.tests import TestsJudge
from codemind.judges.unittest_checks import class_under_test, plan_unittest
from codemind.tasks.sr import SR
from codemind.tasks import sr_class

ADD = "ClassEval_9@BigNumCalculator.add"


@pytest.fixture(scope="module")
def programs(data_dir):
    return BENCHMARKS.get("classeval")(data_dir=data_dir).load()


@pytest.fixture(scope="module")
def by_id(programs):
    return {p.id: p for p in programs}


@pytest.fixture(scope="module")
def sandbox():
    need_docker()
    from codemind.sandbox import open_sandbox

    with open_sandbox("docker") as sb:
        yield sb


def test_all_400_items_load_with_what_sr_and_dsr_need(programs):
    assert len(programs) == 400 and len({p.id for p in programs}) == 400
    for p in programs:
        cls, method = p.meta["class_name"], p.meta["method"]
        assert p.id.endswith(f"@{cls}.{method}") and p.kind == "function" and p.entry_point is None
        assert [i.call for i in p.inputs] == [CALL] and p.inputs[0].label is not None
        assert p.source.startswith(p.meta["class_source"]) and "class Test(unittest.TestCase)" not in p.meta["class_source"]
        node = method_node(ast.parse(p.meta["skeleton"]), cls, method)
        assert node is not None  # the signature stays; the body is gone (a bare docstring keeps its text)
        assert [type(s).__name__ for s in node.body][-1:] in (["Pass"], ["Expr"])
        assert isinstance(p.meta["tests"], str)
    assert sum(plan_unittest(p.meta["tests"]).complete for p in programs) >= 340


def test_a_lone_method_is_spliced_into_its_class(by_id):
    p = by_id[ADD]
    context = {"class_name": "BigNumCalculator", "method": "add", "class_source": p.meta["class_source"]}
    lone = "import math\n\ndef add(num1, num2):\n    return 'x'\n"
    spliced = class_under_test(lone, context)
    tree = ast.parse(spliced)
    node = method_node(tree, "BigNumCalculator", "add")
    assert ast.unparse(node.body[0]) == "return 'x'"
    assert [ast.unparse(d) for d in node.decorator_list] == ["staticmethod"]  # kept from the class
    assert method_node(tree, "BigNumCalculator", "subtract") is not None
    assert spliced.startswith("import math")
    indented = textwrap.indent(lone.split("\n\n", 1)[1], "    ")
    assert class_under_test(indented, context) == class_under_test(lone.split("\n\n", 1)[1], context)
    whole = p.meta["class_source"]
    assert class_under_test(whole, context) == whole


@pytest.mark.docker
def test_ground_truth_in_docker_values_and_nondeterminism(by_id, sandbox):
    ids = [ADD, "ClassEval_4@AssessmentSystem.get_top_student", "ClassEval_87@TimeUtils.get_current_date",
           "ClassEval_45@ImageProcessor.load_image", "ClassEval_44@HtmlUtil.format_line_html_text"]
    truths = {t.program_id: t for t in execute_ground_truth([by_id[i] for i in ids], sandbox)}
    assert truths[ADD].status == "ok" and truths[ADD].expected == "'222222221122222222132'"
    # output.txt says Bob for 'Bob': the label is str(value), accepted as such
    assert truths["ClassEval_4@AssessmentSystem.get_top_student"].expected == "'Bob'"
    assert truths["ClassEval_4@AssessmentSystem.get_top_student"].status == "ok"
    today = truths["ClassEval_87@TimeUtils.get_current_date"]
    assert today.status == "does_not_run" and today.reason.startswith("nondeterministic")
    assert truths["ClassEval_45@ImageProcessor.load_image"].reason == "exception: NameError: name 'os' is not defined"
    gensim = truths["ClassEval_44@HtmlUtil.format_line_html_text"]
    assert gensim.status == "does_not_run" and gensim.reason.startswith("needs package gensim")


# ---------------------------------------------------------------- the SR judge under attack

HACKS = {
    "always_equal": "class _Eq(str):\n    def __eq__(self, o):\n        return True\n    __hash__ = str.__hash__\n\n"
                    "def add(num1, num2):\n    return _Eq('0')\n",
    "exit_before_tests": "import sys\nsys.exit(0)\n\ndef add(num1, num2):\n    return '0'\n",
    "os_exit": "import os\n\ndef add(num1, num2):\n    os._exit(0)\n",
    "patch_unittest": "import unittest\nunittest.TestCase.assertEqual = lambda *a, **k: None\n"
                      "unittest.TestCase.assertTrue = lambda *a, **k: None\n\ndef add(num1, num2):\n    return '0'\n",
    "clear_log": "def add(num1, num2):\n    import __main__\n    __main__._codemind_log.clear()\n    return '0'\n",
    # empties each test's log as it is returned, so no assert would fail
    "profile_empties_log": "import sys\n\ndef _hook(frame, event, arg):\n"
                           "    if event == 'return' and frame.f_code.co_name == '_codemind_case' and isinstance(arg, list):\n"
                           "        arg.clear()\n\nsys.setprofile(_hook)\n\ndef add(num1, num2):\n    return '0'\n",
    "fake_records": "def add(num1, num2):\n    import __main__\n    log = __main__._codemind_log\n"
                    "    log.append([0, ['111111111011111111100']])\n    return '0'\n",
    "patch_record": "def add(num1, num2):\n    import __main__\n    __main__._codemind_record = lambda *a: None\n"
                    "    return '0'\n",
    "wrong": "def add(num1, num2):\n    return str(int(num1) - int(num2))\n",
}


def _sr_item(program, test=None):
    return sr_class.item(SR(), program, sr_class.WITH_TEST, "with_test", test or sr_class.shown_test(program))


@pytest.mark.docker
def test_sr_judge_reference_right_and_hacks_wrong(by_id, sandbox):
    p = by_id[ADD]
    item = _sr_item(p)
    method = "".join(p.meta["class_source"].splitlines(keepends=True)[3:20])  # `def add` ... its return
    answers = {"reference_class": p.meta["class_source"], "reference_method": textwrap.dedent(method), **HACKS}
    cases = [Case(item=item, raw=a, extracted=a) for a in answers.values()]
    verdicts = dict(zip(answers, TestsJudge().judge(cases, sandbox)))
    assert verdicts["reference_class"].outcome == "correct", verdicts["reference_class"]
    assert verdicts["reference_method"].outcome == "correct", verdicts["reference_method"]
    for name in HACKS:
        assert not verdicts[name].correct, (name, verdicts[name])
    assert verdicts["exit_before_tests"].outcome == "exited_early"
    assert verdicts["os_exit"].outcome == "exited_early"
    assert verdicts["always_equal"].outcome in ("wrong_value", "invalid_answer")
    assert verdicts["profile_empties_log"].outcome == "exited_early"  # a top-level assert that never logged
    assert verdicts["wrong"].outcome == "wrong_value"


@pytest.mark.docker
def test_sr_judge_passes_the_reference_of_every_splittable_method(programs, sandbox):
    """The published class passes its own tests as checks (a few dataset bugs aside)."""
    usable = [p for p in programs if plan_unittest(p.meta["tests"]).complete]
    cases = [Case(item=_sr_item(p, "x"), raw="", extracted=p.meta["class_source"]) for p in usable]
    verdicts = TestsJudge().judge(cases, sandbox)
    correct = sum(v.correct for v in verdicts)
    assert correct >= 335, [(p.id, v.detail) for p, v in zip(usable, verdicts) if not v.correct][:20]


def test_misleading_test_changes_the_expected_value(by_id):
    import random

    test = sr_class.shown_test(by_id[ADD])
    assert test.startswith("def test_add(self):") and "self.assertEqual" in test
    mutated, old, new = sr_class.mutate_test(test, random.Random(0))
    assert old == '"111111111011111111100"' and new != old and mutated == test.replace(old, new)
    flip = "def test_x(self):\n    self.assertTrue(f())\n"
    assert sr_class.mutate_test(flip, random.Random(0))[0] == flip.replace("assertTrue", "assertFalse")


# ---------------------------------------------------------------- IER and SR end to end

OUTPUT_Q = re.compile(r".*\[PYTHON\]\n(.*)\nassert (.*?) == \?\?\n\[/PYTHON\]\n\[ANSWER\]\n?\Z", re.S)
PROBLEM = re.compile(r"Problem:\s*\n```\n(.*?)\n```", re.S)


class _Answers:
    """IER: the value the test computes by running the (trusted) dataset program here; SR: the
    reference class, or, for the problems in ``methods_only``, the reference method alone."""

    def __init__(self, programs, methods_only=()):
        self.values, self.classes, self.unanswered = {}, {}, []
        for p in programs:
            ns: dict = {}
            try:
                exec(compile(p.source, "main.py", "exec"), ns)  # trusted benchmark code
                self.values[p.source.strip()] = repr(eval(CALL, ns))
            except Exception:
                pass
            answer = p.meta["class_source"]
            if p.id in methods_only:
                node = method_node(ast.parse(answer), p.meta["class_name"], p.meta["method"])
                answer = textwrap.dedent(ast.get_source_segment(answer, node, padded=True))
            self.classes[p.meta["skeleton"].strip("\n")] = answer

    def answer(self, prompt: str) -> str:
        m = OUTPUT_Q.match(prompt)
        if m and m.group(1).strip() in self.values and m.group(2) == CALL:
            return f"[ANSWER]\nassert {CALL} == {self.values[m.group(1).strip()]}\n[/ANSWER]"
        m = PROBLEM.search(prompt)
        if m and m.group(1).strip("\n") in self.classes:
            return f"```python\n{self.classes[m.group(1).strip(chr(10))]}\n```"
        self.unanswered.append(prompt)
        return "?"


def _run(task, tmp_path, data_dir, answers, limit):
    server, url = serve(answers)
    try:
        out = tmp_path / task
        proc = codemind("run", "--benchmark", "classeval", "--task", task, "--limit", limit, "--sandbox", "docker",
                        "--data-dir", data_dir, "--model", "openai:scripted", "--base-url", url, "--out", out,
                        "--json", env={"OPENAI_API_KEY": "x"}, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
    finally:
        server.shutdown()
    return [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()], out


@pytest.mark.docker
def test_ier_end_to_end(programs, data_dir, tmp_path, sandbox):
    answers = _Answers(programs[:8])
    samples, out = _run("ier", tmp_path, data_dir, answers, 8)
    assert not answers.unanswered
    assert len(samples) >= 6 and all(s["correct"] for s in samples), [s for s in samples if not s["correct"]]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["ground_truth"]["does_not_run"] >= 1  # set_current_user_info_and_log reads the clock


@pytest.mark.docker
def test_sr_end_to_end(programs, data_dir, tmp_path, sandbox):
    first = programs[:6]
    answers = _Answers(first, methods_only={first[1].id, first[2].id})
    samples, out = _run("sr", tmp_path, data_dir, answers, 6)
    assert not answers.unanswered
    stages = {s["stage"] for s in samples}
    assert stages == {"with_test", "no_test", "misleading_test"}
    assert all(s["correct"] for s in samples), [(s["item_key"], s["outcome"]) for s in samples if not s["correct"]]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sr_mutations"]["mutated"] >= 1
    assert manifest["test_checks"]["as_checks"] == manifest["test_checks"]["problems"]
