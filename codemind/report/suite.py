"""The report of one suite directory: the CodeMind paper's tables for one model.

- one row per evaluation (and stage: DER's synthesis/prediction/reference, SR's variants),
  with accuracy and its 95% interval;
- the CodeMind task summary: IER, input prediction, DER (pass@1, R_DER, IER on the reference
  code, consistency), SR (each variant, the paired differences and R_SR);
- the suite's paper tables (``[[tables]]`` in its TOML, kept in suite.json): one row per
  benchmark and one over all, one column per task metric, named as the paper names them;
- IER per program construct: accuracy on the programs that have each construct, one column
  per IER evaluation, and with-vs-without effects pooled over them.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from codemind.errors import UserError
from codemind.evals.spec import SuiteTable
from codemind.evals.suite_run import read_record, suite_runs
from codemind.report.metrics import load_samples, metrics


def suite_report(path: Path, seed: int = 0, n_boot: int = 2000) -> dict:
    from codemind.report.compare import construct_effects
    from codemind.report.tasks_summary import summarize
    from codemind.report.variants import variant_report

    record = read_record(path)
    if record is None:
        raise UserError(f"{path} is not a suite directory (no suite.json)")
    runs = suite_runs(path)
    if not runs:
        raise UserError(f"suite directory {path} holds no samples yet")
    samples = load_samples(runs, features=True)
    name_of = {str(Path(path) / d): e for e, d in record.runs.items()}
    for s in samples:
        s["eval"] = name_of.get(s["run"], s["run"])
        s.setdefault("stage", None)
    ier = [s for s in samples if s["task"] == "ier" and not s.get("variant")]  # constructs: the programs as published
    pooled = [{**s, "run": "ier"} for s in ier]  # effects over every IER evaluation at once
    order = {e: i for i, e in enumerate(record.evals)}
    for s in samples:
        s.setdefault("variant", None)
    grouped = metrics(samples, by=["eval", "stage", "variant"], seed=seed, n_boot=n_boot)
    rows = grouped["metrics"]
    rows.sort(key=lambda m: order.get(m["group"]["eval"], len(order)))  # the suite's order
    return {
        "suite": record.suite,
        "model": record.model,
        "evals": [{"name": e, "run": record.runs[e], "status": record.status.get(e, "pending")} for e in record.evals],
        "metrics": rows,
        "outcomes": grouped["outcomes"],
        "summary": summarize(samples),
        "tables": [paper_table(t, samples) for t in record.tables],
        "constructs": metrics(ier, by=["eval", "construct"], seed=seed, n_boot=n_boot)["metrics"] if ier else [],
        "construct_effects": construct_effects(pooled, seed=seed, n_boot=n_boot) if ier else [],
        **({"variants": v} if (v := variant_report(samples, seed=seed, n_boot=n_boot)) else {}),
    }


def paper_table(table: SuiteTable, samples: list[dict]) -> dict:
    """{"title", "columns", "rows": [{"benchmark", <column>: number or None}]}: each cell is the
    column's metric of its task's summary over that benchmark's samples (the last row: all of
    them), so a table names no task: the task computes its own score."""
    from codemind.report.tasks_summary import task_summary

    benchmarks = sorted({s["benchmark"] for s in samples})
    rows = []
    for bench in [*benchmarks, "all"]:
        row: dict = {"benchmark": bench}
        for col in table.columns:
            rows_of = [s for s in samples if s["task"] == col.task and bench in ("all", s["benchmark"])]
            value = _path(task_summary(col.task, rows_of), col.metric) if rows_of else None
            row[col.name] = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        rows.append(row)
    return {"title": table.title, "columns": [c.model_dump() for c in table.columns], "rows": rows}


def _path(summary: dict | None, dotted: str):
    for key in dotted.split("."):
        if not isinstance(summary, dict):
            return None
        summary = summary.get(key)
    return summary


def _cell(value, percent: bool) -> str:
    return "-" if value is None else f"{100 * value:.2f}" if percent else f"{value:.3f}"


def _pct(m: dict) -> str:
    return f"{100 * m['accuracy']:.1f}"


def render_suite(result: dict, fmt: str = "table") -> str:
    from codemind.report.render import _ci, effect_rows, table_text
    from codemind.report.tasks_summary import render_summary

    parts = [f"Suite {result['suite']}, model {result['model']}"]
    status = [[e["name"], e["status"]] for e in result["evals"] if e["status"] != "done"]
    variants = any(m["group"].get("variant") for m in result["metrics"])
    head = ["evaluation", "task", "benchmark", "language", "stage", *(["variant"] if variants else []), "n",
            "correct", "accuracy", "95% CI"]
    rows = []
    for m in result["metrics"]:
        lo, hi = m["ci_cluster"] if "ci_cluster" in m else (m["ci_low"], m["ci_high"])
        rows.append([m["group"]["eval"], m["task"], m["benchmark"], m["language"], str(m["group"]["stage"] or ""),
                     *([str(m["group"].get("variant") or "")] if variants else []),
                     str(m["n"]), str(m["correct"]), _pct(m), _ci(lo, hi)])
    parts.append(table_text(head, rows, fmt, "Per evaluation: accuracy (%) with 95% CI (by program where a "
                                             "program has several samples)"))
    if status:
        parts.append(table_text(["evaluation", "status"], status, fmt, "Evaluations not done"))
    parts.append("CodeMind tasks (accuracy %, n; SR differences with 95% bootstrap CI)\n"
                 + render_summary(result["summary"]))
    for t in result.get("tables", []):
        cols = t["columns"]
        rows = [[r["benchmark"], *(_cell(r[c["name"]], c["percent"]) for c in cols)] for r in t["rows"]]
        parts.append(table_text(["benchmark", *(c["name"] for c in cols)], rows, fmt, t["title"]))
    if result["constructs"]:
        evals = list(dict.fromkeys(m["group"]["eval"] for m in result["constructs"]))
        cells: dict[str, dict[str, str]] = defaultdict(dict)
        for m in result["constructs"]:
            cells[m["group"]["construct"]][m["group"]["eval"]] = f"{_pct(m)} ({m['n']})"
        rows = [[c, *(cells[c].get(e, "") for e in evals)] for c in sorted(cells)]
        parts.append(table_text(["construct", *evals], rows, fmt,
                                "IER accuracy (%) on programs with each construct (n samples)"))
    if result["construct_effects"]:
        head, rows = effect_rows(result["construct_effects"])
        parts.append(table_text(head, rows, fmt, "IER with vs without each construct, all IER evaluations pooled "
                                                 "(CI of the difference: bootstrap over programs)"))
    if result.get("variants"):
        from codemind.report.render import variant_parts

        parts += variant_parts(result["variants"], fmt)
    return "\n\n".join(parts)
