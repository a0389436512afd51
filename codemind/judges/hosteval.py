"""Evaluate a small expression in the judge's own process, over plain values only.

Judges decide verdicts here, never in the process that ran the code under test: a test's
``abs(candidate(1.5) - 0.5) < 1e-6`` becomes the call ``truncate_number(1.5)``, run in the
sandbox, and the test ``abs(value - 0.5) < 1e-6``, evaluated by this module with ``value``
bound to the plain value the call returned. CRUXEval's ``assert <expected> == <answer>`` is
evaluated the same way, with the answer's value from the sandbox.

It is an interpreter of a syntax tree, not ``eval``: it knows literals, containers, operators,
comparisons (chained), ``and``/``or``/``not``/``if-else`` with Python's short-circuit rules,
subscripts, and calls of a fixed set of pure builtins and ``math`` functions. Every value it
sees is a constant of the test or a plain value (plainvalues.py), so nothing it does can run
code written by the program or the model. ``supported`` tells in advance whether an expression
stays inside that set; ``evaluate`` raises ``Unsupported`` for anything else and otherwise
whatever Python raises for the same operations (an assert that raises fails).
"""

from __future__ import annotations

import ast
import math
import operator
from typing import Any, Mapping

FUNCTIONS: dict[str, Any] = {
    f.__name__: f for f in (abs, all, any, bool, dict, float, frozenset, int, len, list, max, min, round,
                            set, sorted, str, sum, tuple, isinstance, reversed, bytes, complex)
}
MATH: dict[str, Any] = {name: getattr(math, name) for name in (
    "isclose", "fabs", "sqrt", "floor", "ceil", "isnan", "isinf", "isfinite", "pi", "e", "inf", "nan",
    "log", "exp", "pow", "trunc", "gcd", "factorial", "comb", "perm", "prod", "fsum", "hypot")}
_BINOPS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
    ast.BitAnd: operator.and_, ast.BitOr: operator.or_, ast.BitXor: operator.xor,
    ast.LShift: operator.lshift, ast.RShift: operator.rshift,
}
_UNARY = {ast.Not: operator.not_, ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert}
_COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}
_MAX_SIZE = 10_000_000  # largest result of * ** << the interpreter computes


class Unsupported(Exception):
    """The expression leaves the interpreter's small language."""


def supported(node: ast.AST, names: frozenset[str] | set[str] = frozenset()) -> str | None:
    """None if ``evaluate`` can run the expression with ``names`` bound, else why not."""
    for n in ast.walk(node):
        if isinstance(n, (ast.Expression, ast.Constant, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Load,
                          ast.UnaryOp, ast.BinOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Subscript, ast.Slice,
                          ast.keyword, ast.unaryop, ast.operator, ast.boolop, ast.cmpop)):
            if isinstance(n, ast.UnaryOp) and type(n.op) not in _UNARY:
                return "operator"
            if isinstance(n, ast.BinOp) and type(n.op) not in _BINOPS:
                return f"operator {type(n.op).__name__}"
            continue
        if isinstance(n, ast.Name):
            if n.id not in names and n.id not in FUNCTIONS and n.id != "math":
                return f"the name {n.id!r}"
        elif isinstance(n, ast.Attribute):
            if not (isinstance(n.value, ast.Name) and n.value.id == "math" and n.attr in MATH):
                return f"the attribute {n.attr!r}"
        elif isinstance(n, ast.Call):
            if any(isinstance(a, ast.Starred) for a in n.args) or any(k.arg is None for k in n.keywords):
                return "argument unpacking"
            f = n.func
            if not ((isinstance(f, ast.Name) and f.id in FUNCTIONS)
                    or (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "math")):
                return "a call of something other than a pure builtin"
        else:
            return type(n).__name__
    return None


def evaluate(node: ast.AST, env: Mapping[str, Any]) -> Any:
    """The value of the expression with env's names bound (see the module docstring)."""
    if isinstance(node, ast.Expression):
        node = node.body
    ev = _Evaluator(env)
    return ev.eval(node)


class _Evaluator:
    def __init__(self, env: Mapping[str, Any]):
        self.env = env

    def eval(self, n: ast.AST) -> Any:  # noqa: C901 - one branch per node type
        if isinstance(n, ast.Constant):
            return n.value
        if isinstance(n, ast.Name):
            if n.id in self.env:
                return self.env[n.id]
            if n.id in FUNCTIONS:
                return FUNCTIONS[n.id]
            raise Unsupported(f"the name {n.id!r}")
        if isinstance(n, ast.Attribute):
            if isinstance(n.value, ast.Name) and n.value.id == "math" and n.attr in MATH:
                return MATH[n.attr]
            raise Unsupported(f"the attribute {n.attr!r}")
        if isinstance(n, (ast.List, ast.Tuple, ast.Set)):
            items = [self.eval(e) for e in n.elts]
            return {ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(n)](items)
        if isinstance(n, ast.Dict):
            if any(k is None for k in n.keys):
                raise Unsupported("dict unpacking")
            return {self.eval(k): self.eval(v) for k, v in zip(n.keys, n.values)}
        if isinstance(n, ast.UnaryOp) and type(n.op) in _UNARY:
            return _UNARY[type(n.op)](self.eval(n.operand))
        if isinstance(n, ast.BinOp) and type(n.op) in _BINOPS:
            a, b = self.eval(n.left), self.eval(n.right)
            _check_size(n.op, a, b)
            return _BINOPS[type(n.op)](a, b)
        if isinstance(n, ast.BoolOp):
            value = None
            for e in n.values:
                value = self.eval(e)
                if isinstance(n.op, ast.And) and not value:
                    return value
                if isinstance(n.op, ast.Or) and value:
                    return value
            return value
        if isinstance(n, ast.Compare):
            left = self.eval(n.left)
            for op, right_node in zip(n.ops, n.comparators):
                right = self.eval(right_node)
                if not _COMPARE[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(n, ast.IfExp):
            return self.eval(n.body) if self.eval(n.test) else self.eval(n.orelse)
        if isinstance(n, ast.Subscript):
            return self.eval(n.value)[self.eval(n.slice)]
        if isinstance(n, ast.Slice):
            return slice(*(None if p is None else self.eval(p) for p in (n.lower, n.upper, n.step)))
        if isinstance(n, ast.Call):
            f = self.eval(n.func)
            if f not in FUNCTIONS.values() and f not in MATH.values():
                raise Unsupported("a call of something other than a pure builtin")
            if any(isinstance(a, ast.Starred) for a in n.args) or any(k.arg is None for k in n.keywords):
                raise Unsupported("argument unpacking")
            return f(*[self.eval(a) for a in n.args], **{k.arg: self.eval(k.value) for k in n.keywords})
        raise Unsupported(type(n).__name__)


def _check_size(op: ast.operator, a: Any, b: Any) -> None:
    """Refuse the few operations that could take the judge's memory or time."""
    if isinstance(op, ast.Pow) and isinstance(a, int) and isinstance(b, int) and abs(b) > 10_000 and abs(a) > 1:
        raise Unsupported("power too large")
    if isinstance(op, ast.LShift) and isinstance(b, int) and b > _MAX_SIZE:
        raise Unsupported("shift too large")
    if isinstance(op, ast.Mult):
        for seq, k in ((a, b), (b, a)):
            if isinstance(seq, (str, bytes, list, tuple)) and isinstance(k, int) and len(seq) * k > _MAX_SIZE:
                raise Unsupported("repetition too large")
