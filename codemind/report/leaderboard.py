"""`codemind leaderboard RUN... --out SITE`: a static site a CI job can publish.

SITE/index.html (tables + PNG plots, no scripts, no network), SITE/leaderboard.md (the same
tables), SITE/leaderboard.json (the numbers) and SITE/plots/*.png. One section per
(benchmark, language, task, prompt); within it, models ranked by accuracy with 95% intervals
(clustered by program where programs have several samples), pass@k where runs have enough
samples, accuracy per construct / complexity bin / output type, paired comparisons and the
with-vs-without effect of each construct. Seeded: the same runs give the same files.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import datetime, timezone
from itertools import combinations
from pathlib import Path
from typing import Sequence

from codemind.errors import UserError

TITLE = "CodeMind leaderboard"


def _slug(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", "-".join(parts)).strip("-").lower()


def _entries(samples: list[dict]) -> dict[str, str]:
    """run -> unique display name (the model label; the run folder is added on a clash)."""
    from codemind.store.load import model_label

    runs: dict[str, str] = {}
    for s in samples:
        runs.setdefault(s["run"], model_label(s.get("model")))
    counts = defaultdict(int)
    for label in runs.values():
        counts[label] += 1
    return {r: (label if counts[label] == 1 else f"{label} ({Path(r).name})") for r, label in runs.items()}


def _cell(m: dict) -> tuple[float, float, float]:
    lo, hi = m["ci_cluster"] if "ci_cluster" in m else (m["ci_low"], m["ci_high"])
    return m["accuracy"], lo, hi


def _fmt(v: tuple[float, float, float] | None, n: int | None = None) -> str:
    if v is None:
        return ""
    text = f"{100 * v[0]:.1f} [{100 * v[1]:.1f}, {100 * v[2]:.1f}]"
    return f"{text} (n={n})" if n is not None else text


def _pivot(sub: list[dict], key: str, models: list[str], seed: int, n_boot: int, order: Sequence[str] | None = None):
    """Rows: values of ``key``; columns: models; cells: (acc, lo, hi) and n."""
    from codemind.report.metrics import metrics

    res = metrics(sub, by=["entry", key], seed=seed, n_boot=n_boot)
    cells: dict[str, dict[str, tuple]] = defaultdict(dict)
    ns: dict[str, dict[str, int]] = defaultdict(dict)
    for m in res["metrics"]:
        v = str(m["group"][key])
        cells[v][m["group"]["entry"]] = _cell(m)
        ns[v][m["group"]["entry"]] = m["n"]
    cats = [c for c in order if c in cells] if order else list(cells)
    series = {name: [cells[c].get(name) for c in cats] for name in models}
    rows = [[c, *(_fmt(cells[c].get(name), ns[c].get(name)) for name in models)] for c in cats]
    return cats, series, [key, *models], rows


def build(dirs: Sequence[Path], out: Path, seed: int = 0, n_boot: int = 2000, title: str = TITLE) -> dict:
    """Write the site; returns what was written and the numbers behind it."""
    from codemind.analysis.constructs import CONSTRUCTS
    from codemind.analysis.features import COMPLEXITY_BINS
    from codemind.analysis.stats import pass_at_k_table
    from codemind.report import html
    from codemind.report.compare import construct_effects, paired
    from codemind.report.metrics import load_samples, metrics
    from codemind.report.plots import grouped_bars, lines
    from codemind.report.render import comparison_rows, effect_rows, table_text

    if not dirs:
        raise UserError("leaderboard needs at least one run directory")
    samples = load_samples(dirs, features=True)
    if not samples:
        raise UserError("the run directories hold no samples")
    names = _entries(samples)
    for s in samples:
        s["entry"] = names[s["run"]]
    out = Path(out)
    (out / "plots").mkdir(parents=True, exist_ok=True)

    # one section per benchmark/language/task/prompt: different prompts are different questions
    tasks: dict[tuple, list[dict]] = defaultdict(list)
    for s in samples:
        tasks[(s["benchmark"], s["language"], s["task"], s.get("prompt_id") or "")].append(s)

    html_sections: list[str] = []
    md: list[str] = [f"# {title}", ""]
    data: dict = {"title": title, "runs": {names[r]: r for r in names}, "sections": []}
    for (bench, lang, task, prompt), sub in sorted(tasks.items()):
        slug = _slug(bench, lang, task, prompt)
        heading = f"{bench} · {lang} · {task} · prompt {prompt}" if prompt else f"{bench} · {lang} · {task}"
        # ---- ranking
        overall = metrics(sub, by=["entry"], seed=seed, n_boot=n_boot)["metrics"]
        overall.sort(key=lambda m: -m["accuracy"])
        models = [m["group"]["entry"] for m in overall]
        per_model = defaultdict(list)
        for s in sub:
            per_model[s["entry"]].append(s)
        rank_head = ["rank", "model", "items", "samples", "accuracy (%) [95% CI]", "pass@1", "pass@5", "no answer"]
        rank_rows, rank_data = [], []
        for i, m in enumerate(overall, 1):
            rows = per_model[m["group"]["entry"]]
            items = [s["item_key"] for s in rows]
            correct = [bool(s["correct"]) for s in rows]
            clusters = [s["program_id"] for s in rows]
            p1 = pass_at_k_table(items, correct, 1, clusters, b=n_boot, seed=seed)
            p5 = pass_at_k_table(items, correct, 5, clusters, b=n_boot, seed=seed)
            unanswered = sum(v for k, v in m["outcomes"].items() if k not in ("correct", "wrong_value"))
            rank_rows.append([str(i), m["group"]["entry"], str(p1["items"] + p1["skipped"]), str(m["n"]),
                              _fmt(_cell(m)), f"{p1['pass_at_k']:.3f}",
                              f"{p5['pass_at_k']:.3f}" if p5["items"] else "", str(unanswered)])
            rank_data.append({"model": m["group"]["entry"], "n": m["n"], "accuracy": m["accuracy"],
                              "ci": list(_cell(m)[1:]), "pass_at_1": p1, "pass_at_5": p5 if p5["items"] else None,
                              "outcomes": m["outcomes"]})
        # ---- breakdowns
        c_cats, c_series, c_head, c_rows = _pivot(sub, "construct", models, seed, n_boot,
                                                  order=[*CONSTRUCTS, "none", "unknown"])
        x_cats, x_series, x_head, x_rows = _pivot(sub, "complexity", models, seed, n_boot,
                                                  order=[b[2] for b in COMPLEXITY_BINS] + ["unknown"])
        o_cats, _, o_head, o_rows = _pivot(sub, "output_type", models, seed, n_boot)
        # ---- paired comparisons: every pair up to 6 models, else neighbours in the ranking
        pairs = list(combinations(models, 2)) if len(models) <= 6 else list(zip(models, models[1:]))
        comps = []
        for a, b in pairs:
            res = paired(per_model[a], per_model[b], seed=seed, n_boot=n_boot)
            if res["items"]:
                comps.append({"benchmark": bench, "language": lang, "task": task, "a": a, "b": b, **res})
        effects = construct_effects(sub, seed=seed, n_boot=n_boot)
        for e in effects:
            e["model"] = names[e["run"]]
        # ---- plots
        cons_png = out / "plots" / f"{slug}-constructs.png"
        cplx_png = out / "plots" / f"{slug}-complexity.png"
        grouped_bars(cons_png, c_cats, c_series, f"Accuracy per construct: {heading}")
        lines(cplx_png, x_cats, x_series, f"Accuracy against complexity: {heading}", "cyclomatic complexity")
        # ---- page and markdown
        note = ("95% intervals: bootstrap over programs where programs have several samples, else Wilson. "
                "A program has several constructs: its samples count in each of its construct rows; "
                "'none': programs with none of them.")
        tables = [
            ("Ranking", rank_head, rank_rows, "ranking"),
            ("Accuracy per construct (%)", c_head, c_rows, "constructs"),
            ("Accuracy per cyclomatic complexity (%)", x_head, x_rows, "complexity"),
            ("Accuracy per output type (%)", o_head, o_rows, "output-types"),
        ]
        if comps:
            tables.append(("Paired comparisons (same items)", *comparison_rows(comps), "paired"))
        if effects:
            tables.append(("With vs without each construct", *effect_rows(effects), "effects"))
        body = [html.section(t, html.table(h, r, f"{slug}-{tid}")) for t, h, r, tid in tables]
        body.insert(2, html.figure(f"plots/{cons_png.name}", f"Accuracy per construct, {heading}"))
        body.insert(4, html.figure(f"plots/{cplx_png.name}", f"Accuracy against complexity, {heading}"))
        html_sections.append(f'<article id="{slug}"><h2>{html.escape(heading)}</h2>'
                             f'<p class="note">{html.escape(note)}</p>' + "\n".join(body) + "</article>")
        md += [f"## {heading}", "", note, ""]
        for t, h, r, _ in tables:
            md += [table_text(h, r, "md", t), ""]
            if t.startswith("Accuracy per construct"):
                md += [f"![accuracy per construct](plots/{cons_png.name})", ""]
            if t.startswith("Accuracy per cyclomatic"):
                md += [f"![accuracy against complexity](plots/{cplx_png.name})", ""]
        data["sections"].append({"benchmark": bench, "language": lang, "task": task, "prompt": prompt,
                                 "ranking": rank_data,
                                 "constructs": c_rows, "complexity": x_rows, "output_types": o_rows,
                                 "comparisons": comps, "effects": effects,
                                 "plots": [f"plots/{cons_png.name}", f"plots/{cplx_png.name}"]})

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    intro = f"{len(names)} runs, {len(samples)} samples. Built {stamp} by codemind leaderboard."
    (out / "index.html").write_text(html.page(title, html_sections, intro), encoding="utf-8")
    (out / "leaderboard.md").write_text("\n".join(md).rstrip() + "\n", encoding="utf-8")
    (out / "leaderboard.json").write_text(json.dumps(data, indent=1, default=list), encoding="utf-8")
    return {"out": str(out), "index": str(out / "index.html"), "sections": len(data["sections"]),
            "runs": len(names), "samples": len(samples)}
