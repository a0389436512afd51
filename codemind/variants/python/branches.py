"""Swapped branches: ``if c: A else: B`` -> ``if not c: B else: A`` (an ``elif`` chain keeps
its rest as the nested ``if`` it is; an ``if`` without ``else`` gets ``pass`` as its new
then-branch), and ``a if c else b`` -> ``b if not c else a``.

The condition is negated by flipping ``==``/``!=``, ``in``/``not in``, ``is``/``is not`` or
dropping a ``not``; anything else is wrapped in ``not`` (``not (a < b)`` is not ``a >= b``
for NaN or sets).
"""

from __future__ import annotations

import ast
import random

from codemind.variants.base import NotApplicable, Target
from codemind.variants.python.common import finish, frozen_ids, parse, pick_subset

_FLIP = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot,
         ast.IsNot: ast.Is}


def negate(test: ast.expr) -> ast.expr:
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return test.operand  # only its truthiness counts in a condition
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in _FLIP:
        return ast.Compare(test.left, [_FLIP[type(test.ops[0])]()], test.comparators)
    return ast.UnaryOp(ast.Not(), test)


def swap_if_else(target: Target, rng: random.Random) -> str:
    tree = parse(target)
    frozen = frozen_ids(tree)
    sites = [n for n in ast.walk(tree) if id(n) not in frozen and isinstance(n, (ast.If, ast.IfExp))]
    with_else = [n for n in sites if isinstance(n, ast.IfExp) or n.orelse]
    sites = with_else or sites
    if not sites:
        raise NotApplicable("no if statement")
    for node in pick_subset(rng, sites):
        node.test = negate(node.test)
        if isinstance(node, ast.IfExp):
            node.body, node.orelse = node.orelse, node.body
        else:
            node.body, node.orelse = (node.orelse or [ast.Pass()]), node.body
    return finish(tree, target.source)
