"""Interval estimates for accuracies.

Wilson's score interval rather than the normal approximation: it stays inside [0, 1] and
keeps its coverage at the small n and extreme accuracies per-construct breakdowns produce.
"""

from __future__ import annotations

import math


def wilson(correct: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """95% Wilson score interval for correct/n; (0, 1) when n == 0."""
    if n <= 0:
        return 0.0, 1.0
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)
