"""Expressions rewritten into forms that mean the same for builtin types, at a seeded subset of
the sites where one applies:

- ``a < b`` -> ``b > a`` (and ``<=``, ``>``, ``>=``, ``==``, ``!=``), only when both sides are
  side-effect free (names, constants, subscripts, attributes, ``len``), so evaluation order
  cannot matter;
- ``not a == b`` -> ``a != b`` (``in``, ``is`` too) and back;
- ``x += n`` -> ``x = x + n`` for a name and a number constant (never a list: ``+=`` mutates in
  place where ``+`` makes a copy);
- ``x * 2`` / ``2 * x`` -> ``x + x`` for a name;
- ``list(x)`` -> ``[*x]``, ``tuple(x)`` -> ``(*x,)``, ``set(x)`` -> ``{*x}`` (builtins not
  shadowed);
- ``x[a:]`` -> ``x[a:None]`` (the same slice object), ``range(n)`` -> ``range(0, n)``;
- ``'sep'.join(x)`` -> ``str.join('sep', x)`` (any method of a string literal);
- a condition ``c`` of ``if``/``while``/``x if c else y`` -> ``bool(c)`` (what they test anyway);
- a one-character string -> ``chr(code)``;
- ``return e`` -> ``r = e; return r`` (r fresh);
- an int constant ``n`` -> ``(a + b)`` with ``a + b == n``, a string constant -> two halves
  concatenated (not in match patterns, f-strings, annotations, docstrings).
"""

from __future__ import annotations

import ast
import random

from codemind.variants.base import NotApplicable, Target
from codemind.variants.python.common import (
    Fresh,
    annotation_ids,
    blocks,
    finish,
    frozen_ids,
    parse,
    pick_subset,
    taken_names,
)

_MIRROR = {ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE, ast.Eq: ast.Eq, ast.NotEq: ast.NotEq}
_NEGATED = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot,
            ast.IsNot: ast.Is}


def _simple(e: ast.expr) -> bool:
    if isinstance(e, (ast.Name, ast.Constant)):
        return True
    if isinstance(e, ast.Attribute):
        return _simple(e.value)
    if isinstance(e, ast.Subscript):
        return _simple(e.value) and _simple(e.slice)
    if isinstance(e, ast.Slice):
        return all(x is None or _simple(x) for x in (e.lower, e.upper, e.step))
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub):
        return _simple(e.operand)
    if isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id == "len" and len(e.args) == 1 \
            and not e.keywords:
        return _simple(e.args[0])
    return False


def _excluded(tree: ast.AST) -> set[int]:
    """Nodes where an expression is not a free-standing value: match patterns, format specs,
    annotations, f-strings."""
    return annotation_ids(tree, patterns=True, fstrings=True)


_DISPLAYS = {"list": lambda elts: ast.List(elts, ast.Load()), "tuple": lambda elts: ast.Tuple(elts, ast.Load()),
             "set": lambda elts: ast.Set(elts)}


def _split(n: int, rng: random.Random) -> ast.expr:
    a = rng.randint(0, n) if n > 0 else rng.randint(n, 0)
    return ast.BinOp(ast.Constant(a), ast.Add(), ast.Constant(n - a))


class _Sites(ast.NodeTransformer):
    """Counts rewritable sites (rewrite=None) or rewrites the chosen ones (by visit order)."""

    def __init__(self, skip: set[int], rng: random.Random, shadowed: set[str], chosen: set[int] | None = None):
        self.skip, self.rng, self.shadowed, self.chosen, self.count = skip, rng, shadowed, chosen, 0

    def _site(self) -> bool:
        k = self.count
        self.count += 1
        return self.chosen is not None and k in self.chosen

    def visit(self, node: ast.AST) -> ast.AST:
        if id(node) in self.skip:
            return node
        node = self.generic_visit(node)
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _MIRROR \
                and _simple(node.left) and _simple(node.comparators[0]):
            if self._site():
                return ast.Compare(node.comparators[0], [_MIRROR[type(node.ops[0])]()], [node.left])
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not) and isinstance(node.operand, ast.Compare) \
                and len(node.operand.ops) == 1 and type(node.operand.ops[0]) in _NEGATED:
            if self._site():
                c = node.operand
                return ast.Compare(c.left, [_NEGATED[type(c.ops[0])]()], c.comparators)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) \
                and isinstance(node.op, (ast.Add, ast.Sub)) and isinstance(node.value, ast.Constant) \
                and type(node.value.value) in (int, float):
            if self._site():
                load = ast.Name(node.target.id, ast.Load())
                return ast.Assign([node.target], ast.BinOp(load, node.op, node.value))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and any(
                isinstance(a, ast.Constant) and type(a.value) is int and a.value == 2 and isinstance(b, ast.Name)
                for a, b in ((node.left, node.right), (node.right, node.left))):
            if self._site():
                name = node.left if isinstance(node.left, ast.Name) else node.right
                return ast.BinOp(name, ast.Add(), ast.Name(name.id, ast.Load()))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _DISPLAYS \
                and node.func.id not in self.shadowed and len(node.args) == 1 and not node.keywords \
                and not isinstance(node.args[0], ast.Starred):
            if self._site():
                return _DISPLAYS[node.func.id]([ast.Starred(node.args[0], ast.Load())])
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Constant) and type(node.func.value.value) is str \
                and "str" not in self.shadowed:
            if self._site():
                method = ast.Attribute(ast.Name("str", ast.Load()), node.func.attr, ast.Load())
                return ast.Call(method, [node.func.value, *node.args], node.keywords)
        elif isinstance(node, ast.Slice) and (node.lower is None or node.upper is None):
            if self._site():
                return ast.Slice(node.lower or ast.Constant(None), node.upper or ast.Constant(None), node.step)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range" \
                and "range" not in self.shadowed and len(node.args) == 1 and not node.keywords \
                and not isinstance(node.args[0], ast.Starred):
            if self._site():
                return ast.Call(node.func, [ast.Constant(0), node.args[0]], [])
        elif isinstance(node, ast.Constant) and type(node.value) is int and abs(node.value) >= 1:
            if self._site():
                return _split(node.value, self.rng)
        elif isinstance(node, (ast.If, ast.While, ast.IfExp)) and "bool" not in self.shadowed \
                and not (isinstance(node.test, ast.Call) and isinstance(node.test.func, ast.Name)
                         and node.test.func.id == "bool"):
            if self._site():
                node.test = ast.Call(ast.Name("bool", ast.Load()), [node.test], [])
        elif isinstance(node, ast.Constant) and type(node.value) is str and len(node.value) == 1 \
                and "chr" not in self.shadowed:
            if self._site():
                return ast.Call(ast.Name("chr", ast.Load()), [ast.Constant(ord(node.value))], [])
        elif isinstance(node, ast.Constant) and type(node.value) is str and len(node.value) >= 2:  # noqa: SIM102
            if self._site():
                k = self.rng.randint(1, len(node.value) - 1)
                return ast.BinOp(ast.Constant(node.value[:k]), ast.Add(), ast.Constant(node.value[k:]))
        return node


def _returns(tree: ast.AST, skip: set[int]) -> list[tuple[list[ast.stmt], ast.Return]]:
    return [(body, stmt) for _o, _f, body in blocks(tree, skip) for stmt in body
            if isinstance(stmt, ast.Return) and stmt.value is not None and id(stmt) not in skip]


def rewrite(target: Target, rng: random.Random) -> str:
    tree = parse(target)
    skip = frozen_ids(tree) | _excluded(tree)
    skip |= {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
    shadowed = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    shadowed |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    shadowed |= {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
    shadowed |= {(a.asname or a.name) for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                 for a in n.names}
    returns = _returns(tree, skip)
    counter = _Sites(skip, rng, shadowed)
    counter.visit(tree)  # counts only
    total = counter.count + len(returns)
    if not total:
        raise NotApplicable("no expression to rewrite")
    chosen = set(pick_subset(rng, list(range(total)), 0.4))
    fresh = Fresh(taken_names(tree, target))
    for k, (body, stmt) in enumerate(returns):  # before the visit replaces nodes
        if counter.count + k in chosen:
            name = fresh("result")
            i = next(j for j, s in enumerate(body) if s is stmt)
            body[i:i + 1] = [ast.Assign([ast.Name(name, ast.Store())], stmt.value), ast.Return(ast.Name(name, ast.Load()))]
    _Sites(skip, rng, shadowed, chosen).visit(tree)  # same visiting order: the k-th site is the same node
    return finish(tree, target.source)
