"""Accuracy tables from run directories: the JSON of DESIGN.md §3 and the rows behind the
terminal table. Every sample counts in n (no_generation, api_error... are wrong answers),
so a model cannot raise its score by failing to answer."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable, Sequence

from codemind.analysis.stats import wilson
from codemind.errors import UserError
from codemind.schema import OUTCOMES
from codemind.store.rundir import RunDir

BASE_KEYS = ("benchmark", "language", "task")


def load_samples(dirs: Sequence[Path]) -> list[dict]:
    rows: list[dict] = []
    for d in dirs:
        if not Path(d).is_dir():
            raise UserError(f"run directory not found: {d}")
        rd = RunDir(Path(d))
        manifest = rd.read_manifest()
        model = manifest.config.get("model") if manifest else None
        for s in rd.samples():
            s.setdefault("model", model)
            s["run"] = str(d)
            rows.append(s)
    return rows


def metrics(samples: Iterable[dict], by: Sequence[str] = ()) -> dict:
    """{"metrics": [...], "outcomes": {...}} grouped by benchmark/language/task (+ `by`)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    outcomes: Counter[str] = Counter()
    extra = [k for k in by if k not in BASE_KEYS]
    for s in samples:
        key = tuple(s.get(k) for k in BASE_KEYS) + tuple(_group_value(s, k) for k in extra)
        groups[key].append(s)
        outcomes[s["outcome"]] += 1
    rows = []
    for key in sorted(groups, key=lambda k: tuple("" if v is None else str(v) for v in k)):
        members = groups[key]
        n = len(members)
        correct = sum(1 for s in members if s["correct"])
        lo, hi = wilson(correct, n)
        rows.append(
            {
                "benchmark": key[0],
                "language": key[1],
                "task": key[2],
                "group": dict(zip(extra, key[3:])),
                "n": n,
                "correct": correct,
                "accuracy": correct / n if n else 0.0,
                "ci_low": lo,
                "ci_high": hi,
                "outcomes": dict(Counter(s["outcome"] for s in members)),
            }
        )
    return {"metrics": rows, "outcomes": {o: outcomes[o] for o in OUTCOMES if outcomes[o]}}


def _group_value(sample: dict, key: str):
    if key not in sample:
        raise UserError(f"cannot group by '{key}': samples have no such field")
    return sample[key]
