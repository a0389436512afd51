"""Render a metrics dict (report/metrics.py) as a rich terminal table or Markdown."""

from __future__ import annotations

import io


def _rows(result: dict) -> tuple[list[str], list[list[str]]]:
    group_keys: list[str] = []
    for m in result["metrics"]:
        group_keys += [k for k in m["group"] if k not in group_keys]
    clustered = any("ci_cluster" in m for m in result["metrics"])
    head = ["benchmark", "language", "task", *group_keys, "n", "correct", "accuracy", "95% CI",
            *(["programs", "95% CI by program"] if clustered else []), "outcomes"]
    rows = []
    for m in result["metrics"]:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(m["outcomes"].items(), key=lambda kv: -kv[1]))
        extra = [str(m["programs"]), _ci(*m["ci_cluster"])] if "ci_cluster" in m else (["", ""] if clustered else [])
        rows.append(
            [m["benchmark"], m["language"], m["task"], *(_group_cell(k, m["group"].get(k, "")) for k in group_keys),
             str(m["n"]), str(m["correct"]), f"{100 * m['accuracy']:.2f}",
             f"[{100 * m['ci_low']:.1f}, {100 * m['ci_high']:.1f}]", *extra, outcomes]
        )
    return head, rows


def _group_cell(key: str, value) -> str:
    return "original" if key == "variant" and value is None else str(value)


def render(result: dict, fmt: str = "table") -> str:
    head, rows = _rows(result)
    if fmt == "md":
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    from rich.console import Console
    from rich.table import Table

    table = Table(title="CodeMind accuracy (%)")
    for h in head:
        table.add_column(h, justify="right" if h in ("n", "correct", "accuracy") else "left")
    for r in rows:
        table.add_row(*r)
    buf = io.StringIO()
    Console(file=buf, width=160, force_terminal=False).print(table)
    return buf.getvalue().rstrip()


# ---------------------------------------------------------------- several runs, comparisons


def _pct(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.1f}"


def _ci(lo: float | None, hi: float | None) -> str:
    return "" if lo is None or hi is None else f"[{100 * lo:.1f}, {100 * hi:.1f}]"


def _pp(lo: float | None, hi: float | None) -> str:
    return "" if lo is None or hi is None else f"[{100 * lo:+.1f}, {100 * hi:+.1f}]"


def pivot(result: dict, column: str = "model") -> tuple[list[str], list[list[str]]]:
    """A comparison table: one row per group, one column per value of ``column`` (the model),
    each cell "accuracy [95% CI] (n)"."""
    from codemind.store.load import model_label

    group_keys: list[str] = []
    for m in result["metrics"]:
        group_keys += [k for k in m["group"] if k not in group_keys and k != column]
    cols: list[str] = []
    cells: dict[tuple, dict[str, str]] = {}
    order: list[tuple] = []
    for m in result["metrics"]:
        col = model_label(m["group"].get(column)) if column == "model" else str(m["group"].get(column))
        if col not in cols:
            cols.append(col)
        key = (m["benchmark"], m["language"], m["task"], *(str(m["group"].get(k, "")) for k in group_keys))
        if key not in cells:
            cells[key] = {}
            order.append(key)
        lo, hi = m["ci_cluster"] if "ci_cluster" in m else (m["ci_low"], m["ci_high"])
        cells[key][col] = f"{_pct(m['accuracy'])} {_ci(lo, hi)} (n={m['n']})"
    head = ["benchmark", "language", "task", *group_keys, *cols]
    return head, [[*k, *(cells[k].get(c, "") for c in cols)] for k in order]


def comparison_rows(comparisons: list[dict]) -> tuple[list[str], list[list[str]]]:
    head = ["benchmark", "task", "A", "B", "items", "acc A", "acc B", "A-B (pp)", "95% CI (pp)", "p (bootstrap)",
            "McNemar A only / B only", "p exact", "p mid"]
    rows = []
    for c in comparisons:
        mc = c["mcnemar"]
        rows.append([c["benchmark"], c["task"], c["a"], c["b"], str(c["items"]), _pct(c["acc_a"]), _pct(c["acc_b"]),
                     f"{100 * c['diff']:+.1f}", _pp(c["ci_low"], c["ci_high"]), f"{c['p_boot']:.3g}",
                     f"{mc['only_a']} / {mc['only_b']}", f"{mc['p_exact']:.3g}", f"{mc['p_mid']:.3g}"])
    return head, rows


def effect_rows(effects: list[dict]) -> tuple[list[str], list[list[str]]]:
    head = ["model", "construct", "n with", "acc with", "95% CI", "n without", "acc without", "95% CI",
            "diff (pp)", "95% CI (pp)"]
    rows = []
    for e in effects:
        diff = "" if e["diff"] is None else f"{100 * e['diff']:+.1f}"
        rows.append([e["model"], e["construct"], str(e["n_with"]), _pct(e["acc_with"]), _ci(*e["ci_with"]),
                     str(e["n_without"]), _pct(e["acc_without"]), _ci(*e["ci_without"]), diff,
                     _pp(*e["diff_ci"]) if e["diff_ci"] else ("< 5 programs" if e["diff"] is not None else "")])
    return head, rows


def variant_rows(comparisons: list[dict]) -> tuple[list[str], list[list[str]]]:
    from codemind.store.load import model_label

    head = ["model", "benchmark", "language", "task", "variant", "keeps?", "pairs", "acc original", "acc variant",
            "diff (pp)", "95% CI (pp)", "McNemar orig only / var only", "p exact", "answers = original output"]
    rows = []
    for c in comparisons:
        mc, mem = c["mcnemar"], c.get("memory")
        task = c["task"] + (f":{c['stage']}" if c.get("stage") else "")
        rows.append([model_label(c.get("model")), c["benchmark"], c["language"], task, c["variant"],
                     {"same": "same", "changed": "mutant"}.get(c["behaviour"] or "", "?"), str(c["pairs"]),
                     _pct(c["acc_original"]), _pct(c["acc_variant"]), f"{100 * c['diff']:+.1f}",
                     _pp(c["ci_low"], c["ci_high"]), f"{mc['only_a']} / {mc['only_b']}", f"{mc['p_exact']:.3g}",
                     f"{_pct(mem['share'])} {_ci(mem['ci_low'], mem['ci_high'])}" if mem else ""])
    return head, rows


def robust_rows(robust: list[dict]) -> tuple[list[str], list[list[str]]]:
    from codemind.store.load import model_label

    head = ["model", "benchmark", "language", "task", "items", "acc original", "robust accuracy", "95% CI",
            "variants per item"]
    return head, [[model_label(r.get("model")), r["benchmark"], r["language"], r["task"] + (f":{r['stage']}" if r.get("stage") else ""),
                   str(r["items"]), _pct(r["acc_original"]), _pct(r["robust_accuracy"]), _ci(r["ci_low"], r["ci_high"]),
                   str(r["variants_per_item"])] for r in robust]


def variant_parts(variants: dict, fmt: str) -> list[str]:
    """The two variant tables (report/variants.py): each variant against its original, and robust accuracy."""
    head, rows = variant_rows(variants["comparisons"])
    parts = [table_text(head, rows, fmt, "Variants vs their originals, item by item (mutants: share of answers "
                                         "that give the original program's output)")]
    if variants["robust"]:
        head, rows = robust_rows(variants["robust"])
        parts.append(table_text(head, rows, fmt, "Robust accuracy: right on the original and on every "
                                                 "behaviour-keeping variant"))
    return parts


def table_text(head: list[str], rows: list[list[str]], fmt: str, title: str = "") -> str:
    """One table as Markdown or a rich terminal table."""
    if fmt == "md":
        lines = [f"### {title}", ""] if title else []
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
        return "\n".join(lines)
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title or None)
    for h in head:
        table.add_column(h)
    for r in rows:
        table.add_row(*r)
    buf = io.StringIO()
    Console(file=buf, width=200, force_terminal=False).print(table)
    return buf.getvalue().rstrip()


def render_report(result: dict, fmt: str = "table") -> str:
    """The whole report: accuracy (a comparison table when several models), then paired
    comparisons and construct effects when present."""
    models = {m["group"].get("model") for m in result["metrics"]} if result["metrics"] else set()
    if len(models) > 1:
        head, rows = pivot(result)
        parts = [table_text(head, rows, fmt, "Accuracy (%) [95% CI] per model (CI by program where a program "
                                             "has several samples, else Wilson)")]
    else:
        parts = [render(result, fmt)]
    if result.get("summary"):
        from codemind.report.tasks_summary import render_summary

        parts.append("CodeMind tasks per model (accuracy %, n; differences in points with 95% bootstrap CI)\n"
                     + render_summary(result["summary"]))
    if result.get("comparisons"):
        head, rows = comparison_rows(result["comparisons"])
        parts.append(table_text(head, rows, fmt, "Paired comparison on the same items"))
    if result.get("constructs"):
        head, rows = effect_rows(result["constructs"])
        parts.append(table_text(head, rows, fmt, "With vs without each construct (CI of the difference: "
                                                 "bootstrap over programs)"))
    if result.get("variants"):
        parts += variant_parts(result["variants"], fmt)
    return "\n\n".join(parts)
