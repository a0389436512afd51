"""Misleading tests for SR: the test's expected value, mutated deterministically.

`assert f(x) == EXPECTED` keeps its call and gets a wrong EXPECTED: integers shifted, a
bool flipped, floats nudged, strings edited (a character inserted, dropped or replaced),
lists/tuples with an element added or dropped, dicts with one value mutated, sets with an
element added. The random stream is seeded by (seed, benchmark, program id), so the same
seed always gives the same misleading test, whatever the order or subset of programs.
"""

from __future__ import annotations

import ast
import random
import string
from typing import Any

_SHIFTS = (-3, -2, -1, 1, 2, 3)


def rng_for(seed: int, benchmark: str, program_id: str) -> random.Random:
    return random.Random(f"codemind-sr/{seed}/{benchmark}/{program_id}")


def mutate_value(value: Any, rng: random.Random) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + rng.choice(_SHIFTS)
    if isinstance(value, float):
        return value + rng.choice(_SHIFTS) * max(1.0, abs(value) / 10)
    if isinstance(value, str):
        return _edit_string(value, rng)
    if isinstance(value, (list, tuple)):
        items = list(value)
        if items and rng.random() < 0.5:
            del items[rng.randrange(len(items))]
        else:
            new = mutate_value(items[rng.randrange(len(items))], rng) if items else 0
            items.insert(rng.randrange(len(items) + 1), new)
        return type(value)(items)
    if isinstance(value, dict):
        if not value:
            return {0: 0}
        key = rng.choice(sorted(value, key=repr))
        return {**value, key: mutate_value(value[key], rng)}
    if isinstance(value, (set, frozenset)):
        sample = sorted(value, key=repr)
        new = mutate_value(sample[0], rng) if sample else 0
        while new in value:
            new = mutate_value(new, rng)
        return type(value)(value | {new})
    if value is None:
        return 0
    raise ValueError(f"cannot mutate a {type(value).__name__}")


def _edit_string(s: str, rng: random.Random) -> str:
    alphabet = string.ascii_lowercase
    op = rng.choice(("insert", "drop", "replace")) if s else "insert"
    i = rng.randrange(len(s) + (op == "insert")) if s or op == "insert" else 0
    if op == "insert":
        return s[:i] + rng.choice(alphabet) + s[i:]
    if op == "drop":
        return s[:i] + s[i + 1 :]
    return s[:i] + rng.choice([c for c in alphabet if c != s[i]]) + s[i + 1 :]


def mutate_assert(source: str, rng: random.Random) -> tuple[str, str, str] | None:
    """(mutated assert, original expected text, mutated expected text), or None when the
    assert has no literal expected value to mutate."""
    try:
        tree = ast.parse(source.strip())
    except SyntaxError:
        return None
    stmt = tree.body[0] if tree.body else None
    if not isinstance(stmt, ast.Assert) or not isinstance(stmt.test, ast.Compare):
        return None
    cmp = stmt.test
    if len(cmp.ops) != 1 or not isinstance(cmp.ops[0], ast.Eq):
        return None
    text = source.strip()
    node = cmp.comparators[0]
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        node = cmp.left  # `assert 3 == f(x)` form
        try:
            value = ast.literal_eval(node)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return None
    new = mutated_repr(value, rng)
    if new is None:
        return None
    segment = ast.get_source_segment(text, node)
    start = _offset(text, node.lineno, node.col_offset)
    end = _offset(text, node.end_lineno, node.end_col_offset)
    return text[:start] + new + text[end:], segment or "", new


def _offset(text: str, lineno: int, col: int) -> int:
    lines = text.splitlines(keepends=True)
    return sum(len(line) for line in lines[: lineno - 1]) + len(lines[lineno - 1].encode()[:col].decode())


def mutated_repr(value, rng: random.Random) -> str | None:
    """The repr of a mutation of ``value`` that really differs from it; None when it has none."""
    try:
        mutated = mutate_value(value, rng)
    except ValueError:
        return None
    if mutated == value and type(mutated) is type(value):
        return None
    return repr(mutated)
