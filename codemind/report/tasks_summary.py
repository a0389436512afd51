"""CodeMind's task summary: per model, IER, DER, SR and input prediction side by side.

- DER: synthesis pass@1 (share of synthesis samples whose code passes the tests), R_DER
  (correct predictions over predictions on the model's own correct programs) and IER on the
  reference solutions of the same problems;
- SR: pass rate against the real tests with the test in the prompt, with no test and with a
  misleading test, and the paired differences (with - none, with - misleading) over problems
  with a seeded bootstrap interval;
- consistency: of the problems where the model predicted its own correct code's output,
  how often it also predicted the reference solution's output (and the reverse).
"""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Iterable

from codemind.analysis.stats import wilson

BOOTSTRAP = 2000


def _rate(flags: list[bool]) -> dict:
    n, k = len(flags), sum(flags)
    lo, hi = wilson(k, n)
    return {"n": n, "correct": k, "accuracy": k / n if n else None, "ci_low": lo, "ci_high": hi}


def _per_problem(samples: Iterable[dict]) -> dict[str, float]:
    """Mean correctness per problem (several samples or inputs per problem are averaged)."""
    acc: dict[str, list[bool]] = defaultdict(list)
    for s in samples:
        acc[_problem(s)].append(bool(s["correct"]))
    return {p: sum(v) / len(v) for p, v in acc.items()}


def _problem(s: dict) -> str:
    return f"{s['benchmark']}/{s['program_id'].split('@')[0]}"


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


def summarize(samples: list[dict]) -> list[dict]:
    """One entry per model (or run) with every CodeMind task it has samples for."""
    by_model: dict[str, list[dict]] = defaultdict(list)
    for s in samples:
        by_model[str(s.get("model") or s.get("run"))].append(s)
    return [_model_summary(model, rows) for model, rows in sorted(by_model.items())]


def _model_summary(model: str, rows: list[dict]) -> dict:
    def pick(task: str, stage: str | None = None) -> list[dict]:
        return [s for s in rows if s["task"] == task and (stage is None or s.get("stage") == stage)]

    out: dict = {"model": model}
    if pick("ier"):
        out["ier"] = _rate([s["correct"] for s in pick("ier")])
    if pick("input"):
        out["input"] = _rate([s["correct"] for s in pick("input")])
    if pick("der"):
        own, ref = pick("der", "prediction"), pick("der", "reference")
        out["der"] = {
            "synthesis_pass_at_1": _rate([s["correct"] for s in pick("der", "synthesis")]),
            "r_der": _rate([s["correct"] for s in own]),
            "ier_reference": _rate([s["correct"] for s in ref]),
            "consistency": consistency(own, ref),
        }
    if pick("sr"):
        variants = {v: pick("sr", v) for v in ("with_test", "no_test", "misleading_test")}
        per = {v: _per_problem(rows_) for v, rows_ in variants.items()}
        out["sr"] = {
            **{v: _rate([s["correct"] for s in rows_]) for v, rows_ in variants.items()},
            "with_minus_none": paired_difference(per["with_test"], per["no_test"]),
            "with_minus_misleading": paired_difference(per["with_test"], per["misleading_test"]),
        }
    return out


def consistency(own: list[dict], reference: list[dict]) -> dict:
    """Per problem: own-code prediction right vs reference prediction right."""
    own_p, ref_p = _per_problem(own), _per_problem(reference)
    common = sorted(set(own_p) & set(ref_p))
    own_ok = [p for p in common if own_p[p] == 1.0]
    ref_ok = [p for p in common if ref_p[p] == 1.0]
    both = set(own_ok) & set(ref_ok)
    return {
        "n_problems": len(common),
        "reference_right_given_own_right": len(both) / len(own_ok) if own_ok else None,
        "own_right_given_reference_right": len(both) / len(ref_ok) if ref_ok else None,
        "agreement": sum((own_p[p] == 1.0) == (ref_p[p] == 1.0) for p in common) / len(common) if common else None,
    }


def render_summary(summary: list[dict]) -> str:
    """A compact Markdown-ish table: one row per model."""
    def pct(r: dict | None) -> str:
        return "-" if not r or r.get("accuracy") is None else f"{100 * r['accuracy']:.1f} (n={r['n']})"

    def diff(d: dict | None) -> str:
        if not d or d.get("difference") is None:
            return "-"
        return f"{100 * d['difference']:+.1f} [{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}]"

    head = ["model", "IER", "input", "DER synth pass@1", "R_DER", "IER ref", "SR with", "SR none",
            "SR misleading", "with-none", "with-misleading"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m in summary:
        der, sr = m.get("der", {}), m.get("sr", {})
        cells = [m["model"], pct(m.get("ier")), pct(m.get("input")), pct(der.get("synthesis_pass_at_1")),
                 pct(der.get("r_der")), pct(der.get("ier_reference")), pct(sr.get("with_test")),
                 pct(sr.get("no_test")), pct(sr.get("misleading_test")), diff(sr.get("with_minus_none")),
                 diff(sr.get("with_minus_misleading"))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
