"""Strict, type-aware equality of plain values: the one rule the value judge applies, always in
the judge's process (answers that must be evaluated come back from the sandbox as plain values).

Decisions (output prediction asks for *the* value the program returns):
* types must match exactly: ``1`` vs ``1.0`` is wrong, ``True`` vs ``1`` is wrong,
  ``(1, 2)`` vs ``[1, 2]`` is wrong (as CRUXEval), ``set()`` vs ``frozenset()`` is wrong;
* floats: equal when ``==``, when both are nan, or within a relative tolerance of 1e-9
  (printing/rounding noise, e.g. ``0.30000000000000004`` vs ``0.3``); ``-0.0`` equals ``0.0``
  (Python's ``==``); ``inf`` equals only ``inf`` of the same sign; complex numbers component-wise;
* containers recursively with the same rule; dicts, sets and frozensets ignore order (keys and
  elements are matched by ``==`` and must then also be strictly the same);
* anything else falls back to ``type`` identity and ``==`` (only plain values reach it).
"""

from __future__ import annotations

import math
from typing import Any


def same(a: Any, b: Any, rel_tol: float = 1e-9) -> bool:
    """Strict type-aware equality (see the module docstring)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if a == b:
            return True
        if math.isnan(a) and math.isnan(b):
            return True
        if math.isinf(a) or math.isinf(b):
            return False
        return math.isclose(a, b, rel_tol=rel_tol, abs_tol=0.0)
    if isinstance(a, complex):
        return same(a.real, b.real, rel_tol) and same(a.imag, b.imag, rel_tol)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y, rel_tol) for x, y in zip(a, b))
    if isinstance(a, dict):
        if len(a) != len(b):
            return False
        keys = {k: k for k in b}
        for k, v in a.items():
            try:
                if k not in keys:
                    return False
            except TypeError:
                return False
            kb = keys[k]
            if not same(k, kb, rel_tol) or not same(v, b[kb], rel_tol):
                return False
        return True
    if isinstance(a, (set, frozenset)):
        if len(a) != len(b):
            return False
        elems = {x: x for x in b}
        return all(x in elems and same(x, elems[x], rel_tol) for x in a)
    try:
        return bool(a == b)
    except Exception:
        return False


__all__ = ["same"]
