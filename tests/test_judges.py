"""Each judge on real executions (process sandbox), including its edge cases."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from codemind.errors import UserError
from codemind.judges.base import JUDGES, Case
from codemind.judges.codemind_exact import exact_match, normalise
from codemind.judges.compare import same
from codemind.judges.stdout import stdout_equal
from codemind.sandbox import open_sandbox
from codemind.schema import Item, Prompt

DATA = Path(os.environ.get("CODEMIND_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))

F = "def f(nums):\n    output = []\n    for n in nums:\n        output.append((nums.count(n), n))\n    output.sort(reverse=True)\n    return output"
F_OUT = "[(4, 1), (4, 1), (4, 1), (4, 1), (2, 3), (2, 3)]"
F_IN = "[1, 1, 3, 1, 3, 1]"


@pytest.fixture(scope="module")
def sandbox():
    with open_sandbox("process", workers=2) as sb:
        yield sb


def item(expected, label=None, task="ier", answer_kind="value", source=F, inp=F_IN):
    return Item(
        key="t/x#0/" + task, benchmark="t", language="python", task=task, program_id="x",
        prompt=Prompt(id="p", hash="h", text="..."), extractor="verbatim", answer_kind=answer_kind,
        expected=expected, label=label,
        context={"source": source, "call": f"f({inp})", "input": inp, "entry_point": "f"},
    )


def judge(name, cases, sandbox=None, **options):
    return JUDGES.get(name)(**options).judge(cases, sandbox)


def outcomes(name, answers, it, sandbox=None, **options):
    cases = [Case(item=it, raw=a, extracted=a) for a in answers]
    return [(j.outcome, j.correct) for j in judge(name, cases, sandbox, **options)]


# ---------------------------------------------------------------- strict value comparison


@pytest.mark.parametrize(
    "a,b,want",
    [
        (1, 1.0, False), (True, 1, False), ((1, 2), [1, 2], False), (0.1 + 0.2, 0.3, True),
        (1e-300, 2e-300, False), (float("nan"), float("nan"), True), (-0.0, 0.0, True),
        (float("inf"), float("inf"), True), (float("inf"), float("-inf"), False),
        ({"a": 1, "b": [1]}, {"b": [1], "a": 1}, True), ({1: "x"}, {1.0: "x"}, False),
        ({"x", "y"}, {"y", "x"}, True), (set(), frozenset(), False), ("1", 1, False),
        ([1, (2, 3.0)], [1, (2, 3)], False), (None, None, True), (1 + 2j, 1 + 2j, True),
    ],
)
def test_same(a, b, want):
    assert same(a, b) is want


# ---------------------------------------------------------------- value judge


def test_value_judge_literals_without_sandbox():
    it = item("[1, 2]")
    got = outcomes("value", ["[1, 2]", "[1,2]", "(1, 2)", "[1, 2.0]", "[1, 2", "", None], it)
    assert got == [("correct", True), ("correct", True), ("wrong_value", False), ("wrong_value", False),
                   ("unparsable", False), ("no_answer", False), ("no_answer", False)]
    assert outcomes("value", ["True"], item("1")) == [("wrong_value", False)]
    assert outcomes("value", ["0.30000000000000004"], item("0.3")) == [("correct", True)]


def test_value_judge_truncated():
    it = item("3")
    j = judge("value", [Case(item=it, raw="The answer is", extracted=None, finish_reason="length")])
    assert (j[0].outcome, j[0].correct) == ("truncated", False)


def test_value_judge_executed_fallback(sandbox):
    cases = [
        ("inf", "float('inf')", "correct"),
        ("-inf", "float('-inf')", "correct"),
        ("-inf", "inf", "wrong_value"),
        ("nan", "float('nan')", "correct"),
        ("frozenset({1})", "frozenset({1})", "correct"),
        ("frozenset({1})", "{1}", "wrong_value"),
        ("set()", "set()", "correct"),
        ("1024", "2 ** 10", "correct"),
        ("3", "undefined_name", "invalid_answer"),  # no value: names outside the pure grammar
        ("3", "1/0", "wrong_value"),  # a well-formed value that raises
        ("3", "f(3)", "invalid_answer"),  # the program is not reachable from an output prediction
        ("3", "__import__('os')._exit(0)", "invalid_answer"),
        ("3", "type('E', (), {'__eq__': lambda s, o: True})()", "invalid_answer"),
        ("3", "(lambda: 3)", "invalid_answer"),  # a function is not a plain value
    ]
    for expected, answer, want in cases:
        assert outcomes("value", [answer], item(expected), sandbox)[0][0] == want, (expected, answer)


def test_value_judge_needs_sandbox_only_when_evaluating():
    with pytest.raises(UserError):
        outcomes("value", ["float('inf')"], item("inf"), None)


def test_value_judge_input_prediction_runs_the_call(sandbox):
    it = item(F_OUT, task="input", answer_kind="call")
    got = outcomes("value", ["f([1, 1, 3, 1, 3, 1])", "f([3, 1, 1, 3, 1, 1])", "f([1])", "[1, 1, 3, 1, 3, 1]",
                             "f(None)", "g([1])"], it, sandbox)
    assert got == [("correct", True), ("correct", True), ("wrong_value", False), ("unparsable", False),
                   ("wrong_value", False), ("unparsable", False)]


def test_value_judge_stdout_items():
    it = item("3\n4\n", answer_kind="stdout")
    assert outcomes("value", ["3\n4", "3 \n4\n\n", "34"], it) == [("correct", True), ("correct", True),
                                                                  ("wrong_value", False)]


# ---------------------------------------------------------------- cruxeval judge (SOURCE.md §5 table)


def test_cruxeval_judge_output_mode(sandbox):
    it = item(F_OUT)
    answers = [
        F_OUT, F_OUT.replace(" ", ""), F_OUT.replace("(", "[").replace(")", "]"), "[(4, 1), (4, 1)",
        "1/0", "undefined_name", '__import__("sys").exit(0)', F_OUT + " # done", F_OUT + "\nraise ValueError",
        "0 or True", "f([1, 1, 3, 1, 3, 1])", "f([1,1,3,1,3,1])", "", "exit()",
    ]
    cases = [Case(item=it, raw=a, extracted=a) for a in answers]
    # as written (rescore's reading): upstream's verdicts, its injection holes included
    got = [j.correct for j in judge("cruxeval", cases, sandbox, strict=False)]
    assert got == [True, True, False, False, False, False, False, True, False, True, False, True, False, False]
    # strict (runs): "0 or True" extends the assertion, f(...) runs the program: not values
    strict = judge("cruxeval", cases, sandbox)
    assert [j.correct for j in strict] == [True, True, False, False, False, False, False, True, False, False, False,
                                           False, False, False]
    assert [strict[i].outcome for i in (5, 6, 8, 9, 11)] == ["invalid_answer"] * 5
    skip = judge("cruxeval", [Case(item=it, raw="x", extracted="f([1, 1, 3, 1, 3, 1])")], sandbox)[0]
    assert (skip.outcome, skip.detail) == ("wrong_value", "cruxeval-skip")


def test_cruxeval_judge_input_mode_and_timeout(sandbox):
    it = item(F_OUT, task="input", answer_kind="call")
    answers = ["f([1, 1, 3, 1, 3, 1])", "f([3, 3, 1, 1, 1, 1])", "[1, 1, 3, 1, 3, 1]", "f(None)", "f([1, 1, 3",
               "f([1]) or True"]
    got = judge("cruxeval", [Case(item=it, raw=a, extracted=a) for a in answers], sandbox, strict=False)
    assert [j.correct for j in got] == [True, True, False, False, False, True]
    assert got[2].detail == "cruxeval-skip"
    strict = judge("cruxeval", [Case(item=it, raw=a, extracted=a) for a in answers], sandbox)
    assert [j.correct for j in strict] == [True, True, False, False, False, False]
    assert strict[5].outcome == "invalid_answer"
    loop = item("1", source="def f(x):\n    while True:\n        pass")
    j = judge("cruxeval", [Case(item=loop, raw="", extracted="f(1)")], sandbox, mode="input")[0]
    assert (j.outcome, j.correct) == ("timeout", False)


def test_cruxeval_judge_bad_options():
    with pytest.raises(UserError):
        JUDGES.get("cruxeval")(mode="both")
    with pytest.raises(UserError):
        JUDGES.get("cruxeval")(rule="2023")


# ---------------------------------------------------------------- codemind-exact


def test_codemind_normalisation():
    assert normalise(' "a b"\n') == "ab"
    assert normalise("`x`") == "x"
    assert normalise("''x''") == "'x'"  # only one quote each side
    assert normalise("7[END-OF-RESPONSE]", prediction=True) == "7"
    assert exact_match('\n"hello world"\n', "'helloworld'")
    assert not exact_match("[1, 2]", "(1, 2)")


def test_codemind_exact_against_label_or_executed():
    it = item("[1, 2]", label="[1,2,3]")
    assert outcomes("codemind-exact", ["[1, 2, 3]", "[1, 2]"], it) == [("correct", True), ("wrong_value", False)]
    assert outcomes("codemind-exact", ["[1, 2, 3]", "[1, 2]"], it, against="executed") == [
        ("wrong_value", False), ("correct", True)]
    blank = item("''", label="''")
    assert outcomes("codemind-exact", ["\n\n"], blank) == [("correct", True)]
    with pytest.raises(UserError):
        JUDGES.get("codemind-exact")(against="paper")


def test_codemind_exact_reproduces_authors_success_lists():
    """The judge on every predict.txt against the dataset's output.txt gives the authors' list."""
    gens = sorted((DATA / "codemind" / "generations").glob("*.jsonl.gz"))
    root = DATA / "codemind" / "paper_v1_2024-02"
    if not gens or not root.is_dir():
        pytest.skip("no CodeMind data")
    total = 0
    for f in gens:
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                if row["kind"] != "authors_parsed":
                    continue
                ref = (root / row["benchmark"] / row["item_id"] / "output.txt").read_text(encoding="utf-8")
                got = row["raw"] != "FILE_NOT_FOUND" and exact_match(row["raw"], ref)
                assert got == row["judged_correct_by_authors"], (f.name, row["item_id"])
                total += 1
    assert total == 16183


# ---------------------------------------------------------------- stdout


def test_stdout_normalisation_and_float_tol():
    assert stdout_equal("1 2  \n3\n\n", "1 2\n3")
    assert stdout_equal("a\r\nb", "a\nb")
    # the answer's leading whitespace is unrecoverable (extractors strip answers): not judged
    assert stdout_equal(" 1", "1") and stdout_equal("\n  YES \n", "YES")
    assert not stdout_equal("a\n 1", "a\n1")  # a later line's indentation matters
    assert not stdout_equal("0.3333", "0.333333333")
    assert stdout_equal("0.3333333333", "0.333333333", float_tol=1e-6)
    assert not stdout_equal("0.34", "0.333333333", float_tol=1e-6)
    assert stdout_equal("nan", "nan", float_tol=1e-6)  # identical tokens are equal


def test_stdout_ignores_blank_lines_around_the_output():
    assert stdout_equal("\nYES\n", "YES\n")  # CodeMind's <<<Output>>>\nYES answer format
    assert not stdout_equal("A\n\nB\n", "A\nB\n")  # blank lines inside the output still count


def test_stdout_judge_outcomes():
    it = item("3\n", answer_kind="stdout")
    assert outcomes("stdout", ["3", "4", "", None], it) == [("correct", True), ("wrong_value", False),
                                                          ("no_answer", False), ("no_answer", False)]
    silent = item("", answer_kind="stdout")
    assert outcomes("stdout", [""], silent) == [("correct", True)]
    assert outcomes("stdout", ["3.0000001"], it, float_tol=1e-6) == [("correct", True)]
