"""Report metrics: Wilson intervals and the report JSON shape (docs/architecture.md, "Command-line contract")."""

from __future__ import annotations

import pytest

from codemind.analysis.stats import wilson
from codemind.report.metrics import metrics
from codemind.report.render import render


def test_wilson_known_values():
    lo, hi = wilson(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == pytest.approx(1.0)
    assert wilson(0, 0) == (0.0, 1.0)


def _s(bench, correct, outcome=None, task="ier"):
    return {"benchmark": bench, "language": "python", "task": task, "correct": correct,
            "outcome": outcome or ("correct" if correct else "wrong_value"), "prompt_id": "p"}


def test_metrics_shape_and_counts():
    samples = [_s("cruxeval", True), _s("cruxeval", False), _s("cruxeval", False, "no_generation"), _s("mbpp", True)]
    result = metrics(samples)
    assert set(result) == {"metrics", "outcomes"}
    crux = result["metrics"][0]
    assert {k: crux[k] for k in ("benchmark", "language", "task", "group", "n", "correct")} == {
        "benchmark": "cruxeval", "language": "python", "task": "ier", "group": {}, "n": 3, "correct": 1}
    assert crux["accuracy"] == pytest.approx(1 / 3)
    assert crux["ci_low"] < 1 / 3 < crux["ci_high"]
    assert result["outcomes"] == {"correct": 2, "wrong_value": 1, "no_generation": 1}


def test_group_by_extra_field_and_render():
    result = metrics([_s("cruxeval", True), _s("cruxeval", False)], by=["prompt_id"])
    assert result["metrics"][0]["group"] == {"prompt_id": "p"}
    assert "| cruxeval | python | ier | p | 2 | 1 | 50.00 |" in render(result, "md")
    assert "50.00" in render(result, "table")
