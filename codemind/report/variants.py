"""Variants against their originals, item by item (runs made with --variant).

For each run, task, stage and variant kind, every variant sample is paired with the sample of
the original program on the same input (and sample index):

- accuracy on the original and on the variant over the same pairs, the paired difference
  (variant - original) with a 95% bootstrap interval over programs, and McNemar's exact p;
- mutants (kinds that change behaviour): ``memory``, the share of mutant answers that equal
  the ORIGINAL program's output instead of the mutant's (an answer from memory; compared as
  values, the way the value judge compares, else as text);
- ``robust``: per run, task and stage, the share of original items answered right on the
  original and on every behaviour-keeping variant made of it (items with at least one).

Rows come from the samples alone (samples.jsonl has ``variant``), so a copied run directory
reports the same numbers.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from codemind.analysis.stats import mcnemar, paired_bootstrap, wilson
from codemind.variants.base import VARIANTS
from codemind.variants.build import original_id


def _behaviour(kind: str) -> str | None:
    return VARIANTS.get(kind).behaviour if kind in VARIANTS else None


def _key(s: dict, program_id: str) -> tuple:
    return (s.get("run"), s["task"], s.get("stage"), s["benchmark"], s["language"], program_id, s["input_index"],
            s["sample_index"])


def variant_report(samples: Iterable[dict], seed: int = 0, n_boot: int = 2000) -> dict | None:
    """``{"comparisons": [...], "robust": [...]}``, or None when no sample is of a variant."""
    originals: dict[tuple, dict] = {}
    variants: list[dict] = []
    for s in samples:
        if s.get("variant"):
            variants.append(s)
        else:
            originals[_key(s, s["program_id"])] = s
    if not variants:
        return None
    pairs: dict[tuple, list[tuple[dict, dict]]] = defaultdict(list)
    unpaired: dict[tuple, int] = defaultdict(int)
    for v in variants:
        o = originals.get(_key(v, original_id(v["program_id"], v["variant"])))
        group = (v.get("run"), v.get("model"), v["benchmark"], v["language"], v["task"], v.get("stage"), v["variant"])
        if o is None:
            unpaired[group] += 1
        else:
            pairs[group].append((o, v))
    rows = [_comparison(group, members, unpaired.get(group, 0), seed, n_boot) for group, members in sorted(
        pairs.items(), key=lambda kv: tuple(str(x) for x in kv[0]))]
    return {"comparisons": rows, "robust": _robust(pairs)}


def _comparison(group: tuple, members: list[tuple[dict, dict]], unpaired: int, seed: int, n_boot: int) -> dict:
    run, model, benchmark, language, task, stage, kind = group
    a = [bool(o["correct"]) for o, _ in members]
    b = [bool(v["correct"]) for _, v in members]
    clusters = [o["program_id"] for o, _ in members]
    boot = paired_bootstrap([float(x) for x in b], [float(x) for x in a], clusters, n_boot=n_boot, seed=seed)
    row = {
        "run": run, "model": model, "benchmark": benchmark, "language": language, "task": task, "stage": stage,
        "variant": kind, "behaviour": _behaviour(kind), "pairs": len(members), "unpaired": unpaired,
        "programs": len(set(clusters)), "acc_original": sum(a) / len(a), "acc_variant": sum(b) / len(b),
        "diff": boot["diff"], "ci_low": boot["ci_low"], "ci_high": boot["ci_high"],
        "mcnemar": mcnemar(a, b),
    }
    if row["behaviour"] == "changed":
        hits = sum(1 for o, v in members if answers_original(v.get("extracted"), o.get("expected")))
        lo, hi = wilson(hits, len(members))
        row["memory"] = {"n": len(members), "original_output": hits, "share": hits / len(members),
                         "ci_low": lo, "ci_high": hi}
    return row


def answers_original(answer: str | None, original_expected: str | None) -> bool:
    """Whether an answer states the original program's output: equal as plain values (the
    value judge's rule, codemind.judges.compare.same) when both parse as literals, else as text
    with line ends normalized (printed output)."""
    from codemind.groundtruth import _NO_VALUE, parse_value
    from codemind.judges.compare import same

    if answer is None or original_expected is None:
        return False
    x, y = parse_value(answer), parse_value(original_expected)
    if x is not _NO_VALUE and y is not _NO_VALUE:
        try:
            return same(x, y)
        except Exception:  # a pathological literal (deep nesting): not a match
            return False
    return _text(answer) == _text(original_expected)


def _text(s: str) -> str:
    return "\n".join(line.rstrip() for line in s.strip().splitlines())


def _robust(pairs: dict[tuple, list[tuple[dict, dict]]]) -> list[dict]:
    """Right on the original and on every behaviour-keeping variant of it."""
    items: dict[tuple, dict[tuple, list[bool]]] = defaultdict(dict)  # (run, ..., stage) -> original key -> [ok...]
    for (run, model, benchmark, language, task, stage, kind), members in pairs.items():
        if _behaviour(kind) != "same":
            continue
        group = (run, model, benchmark, language, task, stage)
        for o, v in members:
            key = _key(o, o["program_id"])
            items[group].setdefault(key, [bool(o["correct"])]).append(bool(v["correct"]))
    rows = []
    for group, per_item in sorted(items.items(), key=lambda kv: tuple(str(x) for x in kv[0])):
        run, model, benchmark, language, task, stage = group
        n = len(per_item)
        original = sum(1 for oks in per_item.values() if oks[0])
        robust = sum(1 for oks in per_item.values() if all(oks))
        lo, hi = wilson(robust, n)
        rows.append({"run": run, "model": model, "benchmark": benchmark, "language": language, "task": task,
                     "stage": stage, "items": n, "acc_original": original / n, "robust_accuracy": robust / n,
                     "ci_low": lo, "ci_high": hi,
                     "variants_per_item": round(sum(len(v) - 1 for v in per_item.values()) / n, 2)})
    return rows
