"""Comparisons behind the tables: two runs on the same items (paired), and per construct
"with vs without" within one run. Pure functions of sample dicts; seeded, reproducible."""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from typing import Iterable, Sequence

from codemind.analysis.stats import DEFAULT_B, cluster_codes, mcnemar, paired_bootstrap, with_without

TASK_KEYS = ("benchmark", "language", "task")


def _label(s: dict) -> str:
    from codemind.store.load import model_label

    return model_label(s.get("model"))


def _by_run(samples: Iterable[dict]) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = defaultdict(list)
    for s in samples:
        runs[s.get("run") or s.get("model") or "?"].append(s)
    return runs


def paired(a: Sequence[dict], b: Sequence[dict], seed: int = 0, n_boot: int = DEFAULT_B) -> dict:
    """Run a vs run b on the items both answered. Per item the accuracy is the mean over its
    samples; the difference gets a paired bootstrap interval resampling programs (an item's
    inputs and samples move together). McNemar uses one answer per item: the lowest sample
    index both runs have, so its pairs are independent across items."""
    ia: dict[str, list[dict]] = defaultdict(list)
    ib: dict[str, list[dict]] = defaultdict(list)
    for s in a:
        ia[s["item_key"]].append(s)
    for s in b:
        ib[s["item_key"]].append(s)
    common = sorted(set(ia) & set(ib))
    xa, xb, clusters, first_a, first_b = [], [], [], [], []
    for key in common:
        sa, sb = ia[key], ib[key]
        xa.append(sum(s["correct"] for s in sa) / len(sa))
        xb.append(sum(s["correct"] for s in sb) / len(sb))
        clusters.append((sa[0]["benchmark"], sa[0]["program_id"]))
        by_a = {s["sample_index"]: s["correct"] for s in sa}
        by_b = {s["sample_index"]: s["correct"] for s in sb}
        shared = sorted(set(by_a) & set(by_b))
        if shared:
            first_a.append(bool(by_a[shared[0]]))
            first_b.append(bool(by_b[shared[0]]))
    boot = paired_bootstrap(xa, xb, clusters, n_boot=n_boot, seed=seed)
    return {
        "items": len(common),
        "acc_a": sum(xa) / len(xa) if xa else None,
        "acc_b": sum(xb) / len(xb) if xb else None,
        "diff": boot["diff"], "ci_low": boot["ci_low"], "ci_high": boot["ci_high"], "p_boot": boot["p_boot"],
        "programs": boot.get("clusters", 0),
        "mcnemar": mcnemar(first_a, first_b),
    }


def comparisons(samples: Iterable[dict], seed: int = 0, n_boot: int = DEFAULT_B, max_runs: int = 8) -> list[dict]:
    """Paired comparison of every two runs on the same benchmark/language/task (the first
    ``max_runs`` runs only, to keep the table readable)."""
    out = []
    runs = _by_run(samples)
    per_task: dict[tuple, dict[str, list[dict]]] = defaultdict(dict)
    for run, rows in list(runs.items()):
        for s in rows:
            per_task[tuple(s[k] for k in TASK_KEYS)].setdefault(run, []).append(s)
    for task_key, by_run in sorted(per_task.items(), key=lambda kv: tuple(map(str, kv[0]))):
        for ra, rb in combinations(list(by_run)[:max_runs], 2):
            res = paired(by_run[ra], by_run[rb], seed=seed, n_boot=n_boot)
            if res["items"] == 0:
                continue
            out.append({**dict(zip(TASK_KEYS, task_key)), "a": _label(by_run[ra][0]), "b": _label(by_run[rb][0]),
                        "run_a": ra, "run_b": rb, **res})
    return out


def construct_effects(samples: Iterable[dict], constructs: Sequence[str] | None = None, seed: int = 0,
                      n_boot: int = DEFAULT_B) -> list[dict]:
    """Per run and construct: accuracy with vs without the construct (Wilson intervals) and
    the difference with a bootstrap interval resampling programs. Needs samples joined with
    features (``constructs``); programs whose source is unknown are left out."""
    from codemind.analysis.constructs import CONSTRUCTS

    out = []
    for run, rows in _by_run(samples).items():
        rows = [s for s in rows if s.get("constructs") is not None]
        if not rows:
            continue
        present = {c for s in rows for c in s["constructs"]}
        correct = [bool(s["correct"]) for s in rows]
        clusters, _ = cluster_codes([(s["benchmark"], s["program_id"]) for s in rows])
        for c in constructs or CONSTRUCTS:
            if c not in present:
                continue
            has = [c in s["constructs"] for s in rows]
            ww = with_without(correct, has, clusters, b=n_boot, seed=seed)
            out.append({"model": _label(rows[0]), "run": run, "construct": c, **ww})
    return out
