"""The report's task summary: per model, every task it has samples of, side by side.

What each task reports is the task's own (TaskBuilder.summarize and summary_cells in
codemind/tasks/): this module groups samples by model and task and asks the task, so it names
no task and a new task's summary needs no change here. A task the registry does not know (a run
made by another version) is left out of the summary; its samples still count in the metrics.
"""

from __future__ import annotations

from collections import defaultdict

from codemind.registry import UnknownName


def _task(name: str):
    """The registered task called name (an instance), None when the registry does not know it."""
    from codemind.tasks.base import TASKS

    try:
        return TASKS.get(name)()
    except UnknownName:
        return None


def wanted(samples: list[dict]) -> bool:
    """Whether the report shows a summary: several tasks, or a task whose summary it always shows."""
    tasks = {s["task"] for s in samples}
    return len(tasks) > 1 or any(t is not None and t.summary_alone for t in map(_task, tasks))


def summarize(samples: list[dict]) -> list[dict]:
    """One entry per model (or run): {"model": ..., <task>: that task's summarize(), ...}, over
    the samples of the benchmark's own programs (a variant's are compared in report/variants.py)."""
    by_model: dict[str, list[dict]] = defaultdict(list)
    for s in samples:
        if s.get("variant"):  # the benchmark's own programs only (variants: report/variants.py)
            continue
        by_model[str(s.get("model") or s.get("run"))].append(s)
    return [_model_summary(model, rows) for model, rows in sorted(by_model.items())]


def task_summary(name: str, samples: list[dict]) -> dict | None:
    """The registered task's summarize() of these samples; None for a task the registry does not know."""
    task = _task(name)
    return None if task is None else task.summarize([s for s in samples if not s.get("variant")])


def _model_summary(model: str, rows: list[dict]) -> dict:
    by_task: dict[str, list[dict]] = defaultdict(list)
    for s in rows:
        by_task[s["task"]].append(s)
    out: dict = {"model": model}
    for name in sorted(by_task):
        task = _task(name)
        if task is not None:
            out[name] = task.summarize(by_task[name])
    return out


def render_summary(summary: list[dict]) -> str:
    """A compact Markdown-ish table: one row per model, the columns every task asks for."""
    columns: list[str] = []
    rows: list[tuple[str, dict[str, str]]] = []
    for m in summary:
        cells: dict[str, str] = {}
        for name, value in m.items():
            task = _task(name) if name != "model" else None
            if task is not None:
                cells.update(task.summary_cells(value))
        columns += [c for c in cells if c not in columns]
        rows.append((m["model"], cells))
    head = ["model", *columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for model, cells in rows:
        lines.append("| " + " | ".join([model, *(cells.get(c, "-") for c in columns)]) + " |")
    return "\n".join(lines)
