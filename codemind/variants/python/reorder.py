"""Swapped adjacent statements that do not depend on each other.

Only assignments are moved, and only when neither reads or writes a name the other writes,
neither calls anything but known-pure builtins and methods, and -- since names may alias one
object -- a statement that stores into a subscript or attribute is swapped only with one that
reads no object contents at all (``y = 0``, ``y = x``).
"""

from __future__ import annotations

import ast
import random
from dataclasses import dataclass

from codemind.variants.base import NotApplicable, Target
from codemind.variants.python.common import (
    blocks,
    finish,
    frozen_ids,
    parse,
    pick_subset,
)

PURE_FUNCTIONS = frozenset({
    "len", "abs", "min", "max", "sum", "sorted", "str", "int", "float", "bool", "list", "tuple", "dict",
    "set", "frozenset", "range", "round", "ord", "chr", "isinstance", "repr", "divmod", "pow", "hex", "bin",
    "oct", "any", "all", "reversed", "enumerate", "zip", "map", "filter", "type",
})
# Builtins that consume an iterator they are given: their arguments count as written.
CONSUMING = frozenset({"min", "max", "sum", "sorted", "list", "tuple", "dict", "set", "frozenset", "any", "all"})
PURE_METHODS = frozenset({
    "upper", "lower", "strip", "lstrip", "rstrip", "split", "rsplit", "join", "replace", "find", "rfind",
    "index", "rindex", "count", "startswith", "endswith", "isdigit", "isalpha", "isalnum", "isspace",
    "isupper", "islower", "title", "capitalize", "swapcase", "casefold", "center", "ljust", "rjust", "zfill",
    "partition", "rpartition", "splitlines", "format", "get", "keys", "values", "items", "copy",
    "isnumeric", "isdecimal", "istitle", "encode", "decode",
})


@dataclass
class Effects:
    reads: set[str]
    writes: set[str]
    heap_write: bool  # stores into a subscript/attribute (aliases may see it)
    heap_read: bool  # reads object contents: subscripts, attributes, calls, operators


def effects(stmt: ast.stmt, shadowed: set[str]) -> Effects | None:
    """What a statement reads and writes, or None when it must not move."""
    if not isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)) or getattr(stmt, "value", None) is None:
        return None
    reads: set[str] = set()
    writes: set[str] = set()
    heap_write = heap_read = False
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    for node in ast.walk(stmt):
        if isinstance(node, (ast.Yield, ast.YieldFrom, ast.Await, ast.Lambda)):
            return None
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in PURE_FUNCTIONS and f.id not in shadowed:
                if f.id in CONSUMING:
                    writes |= {n.id for a in node.args for n in ast.walk(a) if isinstance(n, ast.Name)}
            elif isinstance(f, ast.Attribute) and f.attr in PURE_METHODS:
                pass
            else:
                return None
            heap_read = True
        elif isinstance(node, ast.Name):
            (writes if isinstance(node.ctx, ast.Store) else reads).add(node.id)
        elif isinstance(node, ast.NamedExpr):
            writes.add(node.target.id)
        elif isinstance(node, (ast.Subscript, ast.Attribute)):
            if isinstance(node.ctx, ast.Store):
                heap_write = True
                writes |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            else:
                heap_read = True
        elif isinstance(node, (ast.BinOp, ast.Compare, ast.comprehension, ast.BoolOp, ast.UnaryOp)):
            heap_read = True
    if isinstance(stmt, ast.AugAssign):
        if not isinstance(stmt.target, ast.Name):
            heap_write = True
        reads |= writes
        heap_read = True
    del targets
    return Effects(reads, writes, heap_write, heap_read)


def independent(a: Effects, b: Effects) -> bool:
    if a.writes & (b.reads | b.writes) or b.writes & a.reads:
        return False
    return not ((a.heap_write and (b.heap_read or b.heap_write)) or (b.heap_write and a.heap_read))


def reorder(target: Target, rng: random.Random) -> str:
    tree = parse(target)
    frozen = frozen_ids(tree)
    shadowed = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    shadowed |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    shadowed |= {(a.asname or a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    pairs: list[tuple[list[ast.stmt], int]] = []
    for _owner, _field, body in blocks(tree, frozen):
        eff = [effects(s, shadowed) for s in body]
        for i in range(len(body) - 1):
            a, b = eff[i], eff[i + 1]
            if a is not None and b is not None and independent(a, b):
                pairs.append((body, i))
    if not pairs:
        raise NotApplicable("no independent adjacent statements")
    used: set[tuple[int, int]] = set()
    for body, i in pick_subset(rng, pairs):
        if (id(body), i) in used or (id(body), i + 1) in used:
            continue
        used |= {(id(body), i), (id(body), i + 1)}
        body[i], body[i + 1] = body[i + 1], body[i]
    return finish(tree, target.source)
