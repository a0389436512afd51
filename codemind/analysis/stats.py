"""Interval estimates and paired tests for accuracies.

Wilson's score interval rather than the normal approximation: it stays inside [0, 1] and
keeps its coverage at the small n and extreme accuracies per-construct breakdowns produce.

Samples of one program are not independent (several inputs, several generations of the same
prompt), so intervals that pool them resample whole programs: the *clustered* bootstrap. Two
runs on the same items are compared *paired* (McNemar on one answer per item, and a paired
clustered bootstrap of the accuracy difference), which is far more sensitive than comparing
two independent intervals. Every resampling takes a seed, so reports are reproducible.
"""

from __future__ import annotations

import math
from typing import Hashable, Sequence

import numpy as np

Z95 = 1.959963984540054
DEFAULT_B = 2000


def wilson(correct: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """95% Wilson score interval for correct/n; (0, 1) when n == 0."""
    if n <= 0:
        return 0.0, 1.0
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


try:  # the CRUXEval-exact estimator lives with the scorer
    from codemind.scoring.passk import pass_at_k
except ImportError:  # pragma: no cover - scoring package absent

    def pass_at_k(n: int, c: int, k: int) -> float:
        """Unbiased pass@k (Chen et al. 2021): 1 - C(n-c, k) / C(n, k)."""
        if n - c < k:
            return 1.0
        return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def cluster_codes(clusters: Sequence[Hashable]) -> tuple[np.ndarray, int]:
    """Integer codes 0..k-1 for cluster labels (first-seen order) and k. An integer array
    is taken as codes already; compute codes once when several statistics share clusters."""
    if isinstance(clusters, np.ndarray) and clusters.dtype.kind in "iu":
        uniq, codes = np.unique(clusters, return_inverse=True)
        return codes.astype(np.int64), len(uniq)
    index: dict[Hashable, int] = {}
    codes = np.fromiter((index.setdefault(c, len(index)) for c in clusters), dtype=np.int64, count=len(clusters))
    return codes, len(index)


_codes = cluster_codes


def _cluster_weights(k: int, b: int, seed: int) -> np.ndarray:
    """(b, k) multiplicities of k clusters drawn with replacement, b times."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, k, size=(b, k)) + (np.arange(b, dtype=np.int64) * k)[:, None]
    return np.bincount(draws.ravel(), minlength=b * k).reshape(b, k).astype(np.float64)


def cluster_bootstrap(
    values: Sequence[float], clusters: Sequence[Hashable] | None = None, b: int = DEFAULT_B, seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """Mean of ``values`` and its percentile bootstrap interval, resampling whole clusters
    (e.g. programs) with replacement; each cluster keeps all its samples. Without clusters
    every value is its own cluster. Returns (mean, low, high)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return 0.0, 0.0, 1.0
    codes, k = _codes(clusters) if clusters is not None else (np.arange(v.size), v.size)
    sums = np.bincount(codes, weights=v, minlength=k)
    counts = np.bincount(codes, minlength=k).astype(np.float64)
    w = _cluster_weights(k, b, seed)
    means = (w @ sums) / np.maximum(w @ counts, 1e-12)
    a = (1 - level) / 2
    lo, hi = np.quantile(means, [a, 1 - a])
    return float(v.mean()), float(lo), float(hi)


def pass_at_k_table(item_ids: Sequence[Hashable], correct: Sequence[bool], k: int,
                    clusters: Sequence[Hashable] | None = None, b: int = DEFAULT_B, seed: int = 0) -> dict:
    """Unbiased pass@k over items (each item: n generations, c correct), with a bootstrap
    interval over clusters of items (default: each item is its own cluster). Items with
    fewer than k generations are left out and counted in ``skipped``."""
    n_c: dict[Hashable, list[int]] = {}
    cluster_of: dict[Hashable, Hashable] = {}
    for i, item in enumerate(item_ids):
        nc = n_c.setdefault(item, [0, 0])
        nc[0] += 1
        nc[1] += bool(correct[i])
        if clusters is not None:
            cluster_of[item] = clusters[i]
    items = [it for it, (n, _) in n_c.items() if n >= k]
    scores = [pass_at_k(n_c[it][0], n_c[it][1], k) for it in items]
    cl = [cluster_of[it] for it in items] if clusters is not None else None
    mean, lo, hi = cluster_bootstrap(scores, cl, b=b, seed=seed) if items else (0.0, 0.0, 1.0)
    return {"k": k, "items": len(items), "skipped": len(n_c) - len(items), "pass_at_k": mean, "ci_low": lo,
            "ci_high": hi}


def _binom_cdf_half(x: int, n: int) -> float:
    return sum(math.comb(n, i) for i in range(x + 1)) / 2.0**n


def mcnemar(a: Sequence[bool], b: Sequence[bool]) -> dict:
    """McNemar's test on paired binary outcomes: exact two-sided binomial p-value on the
    discordant pairs, and the mid-p variant (less conservative, still well calibrated)."""
    if len(a) != len(b):
        raise ValueError("mcnemar needs paired outcomes of equal length")
    only_a = sum(1 for x, y in zip(a, b) if x and not y)
    only_b = sum(1 for x, y in zip(a, b) if y and not x)
    n = only_a + only_b
    if n == 0:
        return {"n": len(a), "only_a": 0, "only_b": 0, "p_exact": 1.0, "p_mid": 1.0}
    m = min(only_a, only_b)
    cdf = _binom_cdf_half(m, n)
    p_exact = min(1.0, 2 * cdf)
    p_mid = min(1.0, 2 * (cdf - 0.5 * math.comb(n, m) / 2.0**n))
    return {"n": len(a), "only_a": only_a, "only_b": only_b, "p_exact": p_exact, "p_mid": p_mid}


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], clusters: Sequence[Hashable] | None = None, n_boot: int = DEFAULT_B,
    seed: int = 0, level: float = 0.95,
) -> dict:
    """Accuracy difference a - b on the same items with a clustered paired bootstrap
    interval, and a two-sided bootstrap p-value for "no difference" (share of resamples on
    the other side of zero, doubled)."""
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError("paired_bootstrap needs paired values of equal length")
    if x.size == 0:
        return {"n": 0, "diff": 0.0, "ci_low": -1.0, "ci_high": 1.0, "p_boot": 1.0}
    codes, k = _codes(clusters) if clusters is not None else (np.arange(x.size), x.size)
    d = np.bincount(codes, weights=x - y, minlength=k)
    counts = np.bincount(codes, minlength=k).astype(np.float64)
    w = _cluster_weights(k, n_boot, seed)
    diffs = (w @ d) / np.maximum(w @ counts, 1e-12)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(diffs, [alpha, 1 - alpha])
    diff = float((x - y).mean())
    if diff == 0:
        p = 1.0
    else:
        # bounded below by 1/B: B resamples cannot resolve smaller p-values
        p = min(1.0, max(1.0 / n_boot, 2 * float(np.mean(diffs <= 0) if diff > 0 else np.mean(diffs >= 0))))
    return {"n": int(x.size), "clusters": k, "diff": diff, "ci_low": float(lo), "ci_high": float(hi), "p_boot": p}


def with_without(
    correct: Sequence[bool], has: Sequence[bool], clusters: Sequence[Hashable] | None = None, b: int = DEFAULT_B,
    seed: int = 0, min_clusters: int = 5,
) -> dict:
    """Accuracy of samples whose program has a construct vs those without, each with a
    95% interval (Wilson; bootstrap over programs when programs have several samples and
    each side has ``min_clusters`` programs), and the difference with a clustered bootstrap interval (programs are
    resampled; the with/without split is a property of the program, so it moves with it).
    With fewer than ``min_clusters`` programs on a side the bootstrap cannot show the
    uncertainty (one program resampled is always itself), so ``diff_ci`` is None."""
    c = np.asarray(correct, dtype=np.float64)
    h = np.asarray(has, dtype=bool)
    n1, n0 = int(h.sum()), int((~h).sum())
    k1, k0 = int(c[h].sum()), int(c[~h].sum())
    out = {"n_with": n1, "correct_with": k1, "acc_with": k1 / n1 if n1 else None,
           "ci_with": wilson(k1, n1), "n_without": n0, "correct_without": k0, "acc_without": k0 / n0 if n0 else None,
           "ci_without": wilson(k0, n0), "diff": None, "diff_ci": None}
    if not n1 or not n0:
        return out
    codes, k = _codes(clusters) if clusters is not None else (np.arange(c.size), c.size)
    s1 = np.bincount(codes, weights=c * h, minlength=k)
    m1 = np.bincount(codes, weights=h.astype(np.float64), minlength=k)
    s0 = np.bincount(codes, weights=c * ~h, minlength=k)
    m0 = np.bincount(codes, weights=(~h).astype(np.float64), minlength=k)
    out["programs_with"] = int((m1 > 0).sum())
    out["programs_without"] = int((m0 > 0).sum())
    out["diff"] = k1 / n1 - k0 / n0
    if min(out["programs_with"], out["programs_without"]) < min_clusters:
        return out
    w = _cluster_weights(k, b, seed)
    den1, den0 = w @ m1, w @ m0
    acc1 = np.divide(w @ s1, den1, out=np.full(den1.shape, np.nan), where=den1 > 0)
    acc0 = np.divide(w @ s0, den0, out=np.full(den0.shape, np.nan), where=den0 > 0)
    # several samples per program: Wilson would count them as independent; use the
    # program-level bootstrap for each side too
    if n1 > out["programs_with"]:
        out["ci_with"] = tuple(float(x) for x in np.nanquantile(acc1, [0.025, 0.975]))
    if n0 > out["programs_without"]:
        out["ci_without"] = tuple(float(x) for x in np.nanquantile(acc0, [0.025, 0.975]))
    diffs = (acc1 - acc0)[(den1 > 0) & (den0 > 0)]  # resamples that drew both groups
    if diffs.size:
        lo, hi = np.quantile(diffs, [0.025, 0.975])
        out["diff_ci"] = (float(lo), float(hi))
    return out
