"""What a task's summary is made of (TaskBuilder.summarize and summary_cells): accuracy with a
95% Wilson interval, mean correctness per problem, paired differences over problems with a
seeded bootstrap interval, and the text the summary table shows for each.

Samples here are rows of samples.jsonl as the report reads them (dicts). A model-written
program (DER's ``<id>@<sample index>``) counts as its problem ``<id>``; only a numeric suffix is
cut, since benchmark ids may hold ``@`` themselves (ClassEval's ``ClassEval_0@Class.method``).
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from typing import Iterable

BOOTSTRAP = 2000
OWN_PROGRAM = re.compile(r"@\d+$")  # DER's model-written program: <problem id>@<sample index>


def rate(flags: Iterable[bool]) -> dict:
    """n, correct, accuracy (None when n is 0) and its 95% Wilson interval."""
    from codemind.analysis.stats import wilson  # numpy: only when a report is made

    flags = [bool(f) for f in flags]
    n, k = len(flags), sum(flags)
    lo, hi = wilson(k, n)
    return {"n": n, "correct": k, "accuracy": k / n if n else None, "ci_low": lo, "ci_high": hi}


def problem(sample: dict) -> str:
    return f"{sample['benchmark']}/{OWN_PROGRAM.sub('', sample['program_id'])}"


def per_problem(samples: Iterable[dict]) -> dict[str, float]:
    """Mean correctness per problem (several samples or inputs per problem are averaged)."""
    acc: dict[str, list[bool]] = defaultdict(list)
    for s in samples:
        acc[problem(s)].append(bool(s["correct"]))
    return {p: sum(v) / len(v) for p, v in acc.items()}


def paired_difference(a: dict[str, float], b: dict[str, float], seed: int = 0) -> dict:
    """Mean of a - b over problems present in both, with a 95% percentile bootstrap interval."""
    common = sorted(set(a) & set(b))
    diffs = [a[p] - b[p] for p in common]
    if not diffs:
        return {"n_problems": 0, "difference": None, "ci_low": None, "ci_high": None}
    rng = random.Random(seed)
    n = len(diffs)
    means = sorted(sum(diffs[rng.randrange(n)] for _ in range(n)) / n for _ in range(BOOTSTRAP))
    return {
        "n_problems": n,
        "difference": sum(diffs) / n,
        "ci_low": means[int(0.025 * BOOTSTRAP)],
        "ci_high": means[int(0.975 * BOOTSTRAP) - 1],
    }


def rate_cell(r: dict | None) -> str:
    """A rate() as the summary table shows it: "87.5 (n=8)", "-" when there is none."""
    return "-" if not r or r.get("accuracy") is None else f"{100 * r['accuracy']:.1f} (n={r['n']})"


def difference_cell(d: dict | None) -> str:
    """A paired_difference() in points with its interval: "+12.5 [+0.0, +25.0]"."""
    if not d or d.get("difference") is None:
        return "-"
    return f"{100 * d['difference']:+.1f} [{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}]"
