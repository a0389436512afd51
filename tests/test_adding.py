"""docs/architecture.md, "Adding a task / judge / backend": each is its module plus one registry
line. The modules here are tests/toys/*.py; the registry lines are the documented one-liners,
run at test time; no module of codemind is edited. A run with all three goes end to end and the
report shows the toy task's own summary, through the generic report code."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from codemind.config import RunConfig
from codemind.judges.base import JUDGES
from codemind.models.base import BACKENDS
from codemind.report.metrics import build_report
from codemind.report.render import render_report
from codemind.tasks.base import TASKS

LIMIT = 4


@pytest.fixture
def toys():
    """The three registry lines a new judge, backend and task would add to judges/base.py,
    models/base.py and tasks/base.py."""
    JUDGES.register("toy-even", lazy="toys.judge:EvenLengthJudge")
    BACKENDS.register("toy-length", lazy="toys.backend:PromptLengthBackend")
    TASKS.register("toy-answered", lazy="toys.task:AnsweredTask")
    yield
    JUDGES.unregister("toy-even")
    BACKENDS.unregister("toy-length")
    TASKS.unregister("toy-answered")


def test_a_toy_judge_backend_and_task_run_end_to_end(toys, data_dir, tmp_path):
    from codemind.pipeline import run

    out = tmp_path / "run"
    config = RunConfig(benchmark="cruxeval", task="toy-answered", judge="toy-even", model="toy-length:any",
                       limit=LIMIT, sandbox="process", no_cache=True, out=out)
    result = run(config)
    assert result.new_samples == LIMIT
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert {s["task"] for s in samples} == {"toy-answered"} and {s["detail"] for s in samples} == {"toy-even"}
    for s in samples:  # the toy backend's answer went through the prompt's extractor to the toy judge
        assert s["extracted"] == s["raw"] and s["correct"] == (len(s["raw"]) % 2 == 0)

    report = build_report([out])
    (row,) = report["metrics"]
    assert (row["task"], row["n"], row["correct"]) == ("toy-answered", LIMIT, sum(s["correct"] for s in samples))
    assert report["summary"] == [{"model": "toy-length:any", "toy-answered": {"n": LIMIT, "answered": LIMIT}}]
    assert f"| toy-length:any | {LIMIT}/{LIMIT} |" in render_report(report, "md")

    TASKS.unregister("toy-answered")  # a run of a task this version does not know still reports
    report = build_report([out])
    assert report["metrics"][0]["n"] == LIMIT and "summary" not in report


def test_names_come_from_the_registries(toys, data_dir):
    assert "toy-answered" in TASKS.names() and "toy-even" in JUDGES.names() and "toy-length" in BACKENDS.names()
    assert RunConfig(benchmark="cruxeval", task="toy-answered").task == "toy-answered"
    TASKS.unregister("toy-answered")
    with pytest.raises(ValidationError, match="unknown task 'toy-answered' \\(known: der, dsr, ier, input, sr, trace\\)"):
        RunConfig(benchmark="cruxeval", task="toy-answered")
