"""pass@k: the unbiased estimator of Chen et al. (2021), exactly as CRUXEval computes it.

``pass_at_k(n, c, k) = 1.0 if n - c < k else 1 - prod(1 - k / arange(n - c + 1, n + 1))``.
Note the first branch also covers n = 0 (no generations): pass@k is 1.0, as upstream.
A file's score is the mean over its samples times 100 (``file_pass_at_k``).
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k draws (without replacement) from n generations,
    c of them correct, is correct."""
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def sample_pass_at_k(results: Sequence[bool], k: int) -> float:
    """pass@k of one sample from its list of per-generation results."""
    return pass_at_k(len(results), sum(1 for r in results if r is True), k)


def file_pass_at_k(per_sample: Mapping[str, Sequence[bool]] | Iterable[Sequence[bool]], k: int) -> float:
    """Mean pass@k over samples, times 100 (CRUXEval's per-file number); 0.0 for no samples."""
    lists = list(per_sample.values()) if isinstance(per_sample, Mapping) else list(per_sample)
    if not lists:
        return 0.0
    return float(np.mean([sample_pass_at_k(r, k) for r in lists]) * 100)
