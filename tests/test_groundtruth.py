"""Ground truth: executed values, label_mismatch / does_not_run / excluded, verify() JSON."""

from __future__ import annotations

import pytest

from codemind.groundtruth import GroundTruth, execute_ground_truth, label_agrees, values_equal, verify
from codemind.sandbox import open_sandbox
from codemind.schema import Program, TestInput


@pytest.fixture(scope="module")
def sandbox():
    with open_sandbox("process") as sb:
        yield sb


def prog(pid: str, source: str, *inputs: tuple[str, str | None], meta: dict | None = None) -> Program:
    return Program(
        id=pid,
        benchmark="handmade",
        language="python",
        kind="function",
        source=source,
        entry_point="f",
        inputs=[TestInput(index=i, call=c, label=lab) for i, (c, lab) in enumerate(inputs)],
        meta=meta or {},
    )


def by_key(truths: list[GroundTruth]) -> dict[tuple[str, int], GroundTruth]:
    return {(t.program_id, t.input_index): t for t in truths}


def test_statuses_on_handmade_programs(sandbox):
    programs = [
        prog("inc", "def f(x):\n    return x + 1\n", ("f(1)", "2"), ("f(1)", "3"), ("f(1.5)", None)),
        prog("raises", "def f(x):\n    return x / 0\n", ("f(1)", "1")),
        prog("broken", "def f(x) return x\n", ("f(1)", "1")),
        prog("none", "def f():\n    pass\n"),
        prog("pairs", "def f():\n    return [1, 2]\n", ("f()", "(1, 2)"), ("f()", "[1,2]")),
    ]
    t = by_key(execute_ground_truth(programs, sandbox, use_cache=False))
    assert len(t) == 8
    assert (t["inc", 0].status, t["inc", 0].expected) == ("ok", "2")
    # the label is wrong: kept, judged on the executed value, and reported
    assert (t["inc", 1].status, t["inc", 1].expected) == ("label_mismatch", "2")
    assert "3" in t["inc", 1].reason and "2" in t["inc", 1].reason
    assert (t["inc", 2].status, t["inc", 2].expected) == ("ok", "2.5")
    assert t["raises", 0].status == "does_not_run" and t["raises", 0].expected is None
    assert "ZeroDivisionError" in t["raises", 0].reason
    assert t["raises", 0].execution.status == "exception"
    assert t["broken", 0].status == "does_not_run"
    assert t["none", 0].status == "excluded" and t["none", 0].execution is None
    assert t["pairs", 0].status == "label_mismatch"  # a tuple is not a list
    assert t["pairs", 1].status == "ok"  # whitespace does not matter


def test_assert_relations_are_checked(sandbox):
    meta = {
        "asserts": [
            {"index": 0, "relation": "truthy"},
            {"index": 1, "relation": "falsy"},
            {"index": 2, "relation": "under", "wrapper": "set", "expected": "set((2, 1))"},
            {"index": 3, "relation": "approx", "tol": 1e-6},
            {"index": 4, "relation": "approx", "tol": 1e-6},
        ]
    }
    p = prog(
        "rel",
        "def f(x):\n    return {0: True, 1: True, 2: (1, 2), 3: 2 / 3, 4: 0.5}[x]\n",
        ("f(0)", None),
        ("f(1)", None),
        ("f(2)", None),
        ("f(3)", "0.6666667"),
        ("f(4)", "0.6"),
        meta=meta,
    )
    t = by_key(execute_ground_truth([p], sandbox, use_cache=False))
    assert [t["rel", i].status for i in range(5)] == ["ok", "label_mismatch", "ok", "ok", "label_mismatch"]


def test_value_comparison_rules():
    assert values_equal("1", "1.0") and values_equal("True", "1")  # Python ==, as the asserts do
    assert not values_equal("(1, 2)", "[1, 2]")
    assert values_equal("{'a': [1,2]}", "{'a': [1, 2]}")
    assert values_equal("set()", "set()") and values_equal("{1, 2}", "{2, 1}")
    assert values_equal("frozenset({1})", "frozenset({1})")
    # dict subclasses equal dicts, as the dataset's assert sees them (MBPP 40, 88, 653, 902)
    assert values_equal("{'b': 4, 'a': 4}", "Counter({'a': 4, 'b': 4})")
    assert values_equal("{'y': [1, 3]}", "defaultdict(<class 'list'>, {'y': [1, 3]})")
    assert values_equal("{'a': 1}", "OrderedDict([('a', 1)])")
    assert not values_equal("{'a': 2}", "Counter({'a': 1})")
    assert values_equal("nan", "nan")
    assert not values_equal("inf", "float('inf')")  # the second is not a repr: compared as text
    assert values_equal("<object at 0x1>", "<object  at 0x1>")  # not literals: text, whitespace-normalised
    assert label_agrees(None, "'x'", {})
    assert not label_agrees(None, "0", {"relation": "truthy"})
    assert label_agrees(None, "<generator object>", {"relation": "falsy"})  # cannot tell: not noise
    assert label_agrees(None, "35.0", {"relation": "under", "wrapper": "int", "expected": "35"})
    assert not label_agrees(None, "[1, 3]", {"relation": "under", "wrapper": "set", "expected": "set([1, 2])"})


def test_real_benchmark_ground_truth(sandbox, data_dir):
    """HumanEval's canonical solutions reproduce their first asserts (and 3 have none)."""
    out = verify("humaneval", data_dir=data_dir, sandbox=sandbox, use_cache=False, inputs="first")
    assert set(out) >= {"items", "ok", "label_mismatch", "does_not_run", "excluded", "seconds"}
    assert out["items"] == 164 == out["ok"] + out["label_mismatch"] + out["does_not_run"] + out["excluded"]
    assert out["excluded"] == 3 and out["does_not_run"] == 0 and out["label_mismatch"] == 0
    assert out["seconds"] > 0 and out["sandbox"] == "process"
    assert [e["id"] for e in out["excluded_items"]] == ["HumanEval/32#0", "HumanEval/38#0", "HumanEval/50#0"]
