"""Mutants: ONE small change, at a site drawn uniformly among all candidates (the harness draws
again with a new stream when the mutant's outputs happen to match the original's).

- ``operator``: ``+``<->``-``, ``*``->``+``, ``//``->``/``... (also in ``x += 1``), a comparison
  flipped (``<``->``>``, ``==``<->``!=``, ``in``<->``not in``, ``is``<->``is not``),
  ``and``<->``or``, a ``not`` or unary minus dropped;
- ``constant``: an int ``n`` -> ``n+1`` or ``n-1``, a float plus one, a string changed by one
  character, ``True``<->``False``;
- ``boundary``: ``range``'s end (or its only argument) +-1, a slice bound +-1 (an absent one
  becomes explicit: ``x[:k]`` -> ``x[:k + 1]``, ``x[1:]`` -> ``x[1:-1]``), ``len(x)`` +-1,
  ``<``<->``<=``,
  ``>``<->``>=``.

When keep_names names a class and its methods (ClassEval), sites are drawn from those methods
when they have any. Docstrings, f-string format specs, annotations and the unittest class are never mutated; the
entry point's name and the inputs are not in reach of any site.
"""

from __future__ import annotations

import ast
import random
from collections.abc import Callable

from codemind.variants.base import NotApplicable, Target
from codemind.variants.python.common import annotation_ids, finish, frozen_ids, parse

Site = Callable[[random.Random], None]  # applies one mutation in place

_BINOP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Add, ast.FloorDiv: ast.Mult, ast.Div: ast.Mult,
          ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd,
          ast.BitXor: ast.BitAnd, ast.LShift: ast.RShift, ast.RShift: ast.LShift}
_CMP = {ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
        ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
_BOUNDARY = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}


def _skipped(tree: ast.AST) -> set[int]:
    """Never mutated: the unittest class, docstrings and bare constants, format specs, annotations."""
    return frozen_ids(tree) | annotation_ids(tree, bare_constants=True)


def _parents(tree: ast.AST) -> dict[int, tuple[ast.AST, str, int | None]]:
    out = {}
    for node in ast.walk(tree):
        for field, value in ast.iter_fields(node):
            if isinstance(value, list):
                for i, v in enumerate(value):
                    if isinstance(v, ast.AST):
                        out[id(v)] = (node, field, i)
            elif isinstance(value, ast.AST):
                out[id(value)] = (node, field, None)
    return out


def _replace(parents: dict, old: ast.AST, new: ast.AST) -> None:
    node, field, i = parents[id(old)]
    if i is None:
        setattr(node, field, new)
    else:
        getattr(node, field)[i] = new


def _nodes(tree: ast.AST) -> list[ast.AST]:
    skip = _skipped(tree)
    return [n for n in ast.walk(tree) if id(n) not in skip]


def _focus(tree: ast.AST, target: Target) -> set[int]:
    """Nodes of the methods named in keep_names (the methods a ClassEval test calls)."""
    out: set[int] = set()
    for cls in ast.walk(tree):
        if isinstance(cls, ast.ClassDef) and cls.name in target.keep_names:
            for fn in cls.body:
                if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.name in target.keep_names:
                    out.update(id(n) for n in ast.walk(fn))
    return out


def _mutate(target: Target, rng: random.Random, collect: Callable[[ast.AST, dict], list[Site]], what: str) -> str:
    tree = parse(target)
    parents = _parents(tree)
    sites = [s for n in _nodes(tree) for s in collect(n, parents)]
    focus = _focus(tree, target)
    if focus:  # ClassEval: the method under test, where a change is likely to show
        sites = [s for n in _nodes(tree) if id(n) in focus for s in collect(n, parents)] or sites
    if not sites:
        raise NotApplicable(f"no {what} to mutate")
    rng.choice(sites)(rng)
    return finish(tree, target.source)


def _set(node: ast.AST, field: str, value) -> Site:
    def apply(_rng: random.Random) -> None:
        setattr(node, field, value)
    return apply


def _operator_sites(node: ast.AST, parents: dict) -> list[Site]:
    if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _BINOP:
        return [_set(node, "op", _BINOP[type(node.op)]())]
    if isinstance(node, ast.Compare):
        return [_set_op(node, k, _CMP[type(op)]()) for k, op in enumerate(node.ops) if type(op) in _CMP]
    if isinstance(node, ast.BoolOp):
        return [_set(node, "op", ast.Or() if isinstance(node.op, ast.And) else ast.And())]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)) \
            and not (isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)):
        return [lambda _rng, n=node: _replace(parents, n, n.operand)]
    return []


def _set_op(node: ast.Compare, k: int, op: ast.cmpop) -> Site:
    def apply(_rng: random.Random) -> None:
        node.ops[k] = op
    return apply


def _constant_sites(node: ast.AST, parents: dict) -> list[Site]:
    if not isinstance(node, ast.Constant) or isinstance(parents.get(id(node), (None,))[0], ast.JoinedStr):
        return []
    v = node.value
    if isinstance(v, bool):
        return [_set(node, "value", not v)]
    if isinstance(v, int):
        return [lambda rng, n=node: setattr(n, "value", n.value + rng.choice((1, -1)) if n.value else 1)]
    if isinstance(v, float):
        return [_set(node, "value", v + 1.0)]
    if isinstance(v, str):
        return [lambda rng, n=node: setattr(n, "value", _alter(n.value, rng))]
    return []


def _alter(s: str, rng: random.Random) -> str:
    if not s:
        return "a"
    i = rng.randrange(len(s))
    c = s[i]
    new = c.swapcase() if c.swapcase() != c else ("x" if c != "x" else "y")
    return s[:i] + new + s[i + 1:]


def _plus(e: ast.expr, d: int) -> ast.expr:
    if isinstance(e, ast.Constant) and type(e.value) is int:
        return ast.Constant(e.value + d)
    return ast.BinOp(e, ast.Add() if d > 0 else ast.Sub(), ast.Constant(abs(d)))


def _boundary_sites(node: ast.AST, parents: dict) -> list[Site]:
    out: list[Site] = []
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range" \
            and 1 <= len(node.args) <= 3 and not any(isinstance(a, ast.Starred) for a in node.args):
        k = 0 if len(node.args) == 1 else 1

        def move_end(rng: random.Random, n=node, k=k) -> None:
            n.args[k] = _plus(n.args[k], rng.choice((1, -1)))
        out.append(move_end)
    elif isinstance(node, ast.Slice):
        for field in ("lower", "upper"):
            def move(rng: random.Random, n=node, field=field) -> None:
                value = getattr(n, field)
                if value is None:  # x[a:] -> x[a:-1], x[:b] -> x[1:b]
                    setattr(n, field, ast.UnaryOp(ast.USub(), ast.Constant(1)) if field == "upper" else ast.Constant(1))
                else:
                    setattr(n, field, _plus(value, rng.choice((1, -1))))
            out.append(move)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len":
        out.append(lambda rng, n=node: _replace(parents, n, _plus(n, rng.choice((1, -1)))))
    elif isinstance(node, ast.Compare):
        out += [_set_op(node, k, _BOUNDARY[type(op)]()) for k, op in enumerate(node.ops) if type(op) in _BOUNDARY]
    return out


def operator(target: Target, rng: random.Random) -> str:
    return _mutate(target, rng, _operator_sites, "operator")


def constant(target: Target, rng: random.Random) -> str:
    return _mutate(target, rng, _constant_sites, "constant")


def boundary(target: Target, rng: random.Random) -> str:
    return _mutate(target, rng, _boundary_sites, "boundary")
