"""``for`` loops rewritten as ``while`` loops.

``for i in range(a, b[, c])`` (builtin range, constant step) becomes a counter loop over hidden
copies of the bounds: the loop variable is assigned first thing in each iteration, so
``continue``, an empty range (the variable stays unbound) and its value after the loop all
behave as before. Any other iterable goes through ``iter``/``next``; an ``else:`` clause runs
where the iterator is exhausted (only when it holds no ``break``/``continue`` of its own, which
would then bind to the new loop). A ``while c:`` loop without ``else`` becomes
``for _ in iter(int, 1): if not c: break`` (an endless iterator; ``continue`` still re-tests
the condition). Helper names are fresh.
"""

from __future__ import annotations

import ast
import random

from codemind.variants.base import NotApplicable, Target
from codemind.variants.python.common import (
    Fresh,
    blocks,
    finish,
    frozen_ids,
    parse,
    pick_subset,
    taken_names,
)


def _jumps_out(stmts: list[ast.stmt]) -> bool:
    """A break/continue that belongs to the loop around these statements."""
    stack = list(stmts)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Break, ast.Continue)):
            return True
        if isinstance(node, (ast.For, ast.While, ast.AsyncFor)):
            stack += node.orelse  # a loop's else belongs to the outside
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack += list(ast.iter_child_nodes(node))
    return False


def _range_bounds(it: ast.expr) -> tuple[ast.expr, ast.expr, int] | None:
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range"
            and not it.keywords and 1 <= len(it.args) <= 3 and not any(isinstance(a, ast.Starred) for a in it.args)):
        return None
    args = it.args
    step = 1
    if len(args) == 3:
        s = args[2]
        if isinstance(s, ast.Constant) and type(s.value) is int and s.value != 0:
            step = s.value
        elif isinstance(s, ast.UnaryOp) and isinstance(s.op, ast.USub) and isinstance(s.operand, ast.Constant) \
                and type(s.operand.value) is int and s.operand.value != 0:
            step = -s.operand.value
        else:
            return None
    start = args[0] if len(args) >= 2 else ast.Constant(0)
    stop = args[1] if len(args) >= 2 else args[0]
    return start, stop, step


def _stmts(code: str, **names: ast.AST) -> list[ast.stmt]:
    """Parse a small template and put the given expressions/targets in place of its names."""
    tree = ast.parse(code)

    class Fill(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            if node.id in names:
                new = names[node.id]
                if isinstance(new, str):
                    return ast.copy_location(ast.Name(new, node.ctx), node)
                return new
            return node

    return Fill().visit(tree).body


def _rewrite(loop: ast.For, fresh: Fresh, shadowed: set[str]) -> list[ast.stmt] | None:
    if loop.orelse and _jumps_out(loop.orelse):
        return None
    bounds = _range_bounds(loop.iter) if "range" not in shadowed else None
    if bounds is not None and not loop.orelse:
        start, stop, step = bounds
        k, end = fresh("_i"), fresh("_stop")
        cmp = "<" if step > 0 else ">"
        out = _stmts(f"K = START\nEND = STOP\nwhile K {cmp} END:\n    TARGET = K\n    K += {step}\n",
                     K=k, END=end, START=start, STOP=stop)
        out[2].body[0].targets = [loop.target]
        out[2].body += loop.body
        return out
    if {"iter", "next", "StopIteration"} & shadowed:
        return None
    it = fresh("_it")
    out = _stmts("IT = iter(ITER)\nwhile True:\n    try:\n        TARGET = next(IT)\n"
                 "    except StopIteration:\n        break\n", IT=it, ITER=loop.iter)
    trying = out[1].body[0]
    trying.body[0].targets = [loop.target]
    trying.handlers[0].body = loop.orelse + trying.handlers[0].body
    out[1].body += loop.body
    return out


def _while_for(loop: ast.While, fresh: Fresh, shadowed: set[str]) -> list[ast.stmt] | None:
    if loop.orelse or {"iter", "int"} & shadowed:
        return None
    out = _stmts("for _ in iter(int, 1):\n    if not TEST:\n        break\n", _=fresh("_"), TEST=loop.test)
    out[0].body += loop.body
    return out


def for_while(target: Target, rng: random.Random) -> str:
    tree = parse(target)
    frozen = frozen_ids(tree)
    fresh = Fresh(taken_names(tree, target))
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    bound |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    bound |= {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
    bound |= {(a.asname or a.name) for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    sites = [(body, s) for _o, _f, body in blocks(tree, frozen) for s in body if isinstance(s, (ast.For, ast.While))]
    if not sites:
        raise NotApplicable("no loop")
    done = 0
    for body, loop in reversed(pick_subset(rng, sites, 0.7)):  # inner loops first: outer ones move their body
        new = _rewrite(loop, fresh, bound) if isinstance(loop, ast.For) else _while_for(loop, fresh, bound)
        if new is None:
            continue
        i = next(k for k, s in enumerate(body) if s is loop)
        body[i:i + 1] = new
        done += 1
    if not done:
        raise NotApplicable("no loop that can be rewritten")
    return finish(tree, target.source)
