"""Render a metrics dict (report/metrics.py) as a rich terminal table or Markdown."""

from __future__ import annotations

import io


def _rows(result: dict) -> tuple[list[str], list[list[str]]]:
    group_keys: list[str] = []
    for m in result["metrics"]:
        group_keys += [k for k in m["group"] if k not in group_keys]
    head = ["benchmark", "language", "task", *group_keys, "n", "correct", "accuracy", "95% CI", "outcomes"]
    rows = []
    for m in result["metrics"]:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(m["outcomes"].items(), key=lambda kv: -kv[1]))
        rows.append(
            [m["benchmark"], m["language"], m["task"], *(str(m["group"].get(k, "")) for k in group_keys),
             str(m["n"]), str(m["correct"]), f"{100 * m['accuracy']:.2f}",
             f"[{100 * m['ci_low']:.1f}, {100 * m['ci_high']:.1f}]", outcomes]
        )
    return head, rows


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
