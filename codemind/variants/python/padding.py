"""DSR's padding (codemind/tasks/padding.py) as a variant: unused imports, no-op decorators,
dead calls and helper functions, seeded from the variant's random stream."""

from __future__ import annotations

import random

from codemind.tasks.padding import PaddingError
from codemind.tasks.padding import pad as dsr_pad
from codemind.variants.base import NotApplicable, Target
from codemind.variants.python.common import check


def pad(target: Target, rng: random.Random) -> str:
    key, seed = f"variant-{rng.getrandbits(32):08x}", rng.getrandbits(32)
    try:
        padded = dsr_pad(target.source, key, seed=seed, attempt=0)
    except PaddingError as e:
        raise NotApplicable(str(e)) from None
    return check(padded.source, target.source)
