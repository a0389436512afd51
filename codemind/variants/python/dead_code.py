"""Dead code: decoy branches that never run (``if len([]) > 0: x = x[::-1]``) and unused
assignments to fresh names, at seeded positions in function bodies and at module level.

A decoy only writes a variable the enclosing function already binds (parameters, assigned
names, not ``global``/``nonlocal``): assigning any other name would make it local there and
turn the function's reads of it into UnboundLocalError. Statements that do run bind fresh
names only and read nothing. Guards use builtins the program does not shadow. The pieces are
data: dead_code.txt.
"""

from __future__ import annotations

import ast
import random
from dataclasses import dataclass
from functools import cache

from codemind import resources
from codemind.variants.base import NotApplicable, Target
from codemind.variants.python.common import (
    BLOCK_FIELDS,
    Fresh,
    body_start,
    finish,
    frozen_ids,
    parse,
    taken_names,
)

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


@dataclass(frozen=True)
class Pieces:
    guards: tuple[str, ...]
    decoys: tuple[tuple[str, bool], ...]  # (template, function only)
    unused: tuple[str, ...]


@cache
def pieces() -> Pieces:
    sections: dict[str, list[str]] = {}
    current = None
    for line in resources.text("codemind", "variants/python/dead_code.txt").splitlines():
        if line.startswith("#"):
            continue
        if line.startswith("[") and line.rstrip().endswith("]"):
            current = sections.setdefault(line.strip()[1:-1], [])
            continue
        if current is not None:
            current.append(line)

    def entries(lines: list[str]) -> list[str]:
        return [e.strip("\n") for e in "\n".join(lines).split("\n---\n") if e.strip()]

    decoys = []
    for e in entries(sections["decoys"]):
        function_only = e.startswith("@function\n")
        decoys.append((e.removeprefix("@function\n"), function_only))
    return Pieces(tuple(g.strip() for g in sections["guards"] if g.strip()), tuple(decoys),
                  tuple(entries(sections["unused"])))


@dataclass
class Block:
    body: list[ast.stmt]
    start: int
    writable: list[str]  # variables of the enclosing scope a decoy may assign
    in_function: bool


def _scope_names(scope: ast.AST) -> list[str]:
    """Names a function (or the module) binds in its own scope, in order."""
    out: dict[str, None] = {}
    declared: set[str] = set()
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        a = scope.args
        for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]:
            if arg is not None:
                out.setdefault(arg.arg, None)
    stack = list(reversed(scope.body))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            declared.update(node.names)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.setdefault(node.id, None)
        if isinstance(node, (*_SCOPES, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue
        stack += reversed(list(ast.iter_child_nodes(node)))
    return [n for n in out if n not in declared and not n.startswith("__")]


def _blocks(tree: ast.Module, frozen: set[int]) -> list[Block]:
    out = [Block(tree.body, body_start(tree.body, module=True), _scope_names(tree), False)]

    def walk(node: ast.AST, writable: list[str], in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if id(child) in frozen or isinstance(child, ast.Lambda):
                continue
            if isinstance(child, ast.ClassDef):
                walk(child, writable, in_function)  # methods, not the class body itself
                continue
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names = _scope_names(child)
                out.append(Block(child.body, body_start(child.body), names, True))
                walk(child, names, True)
                continue
            if not isinstance(node, ast.ClassDef):
                for field in BLOCK_FIELDS:
                    body = getattr(child, field, None)
                    if in_function and isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                        out.append(Block(body, 0, writable, True))
            walk(child, writable, in_function)

    walk(tree, [], False)
    return out


def _shadowed(tree: ast.AST) -> set[str]:
    out = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    out |= {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
    out |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    out |= {(a.asname or a.name) for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    return out


def _piece(block: Block, fresh: Fresh, shadowed: set[str], rng: random.Random) -> list[ast.stmt]:
    p = pieces()
    decoys = [t for t, fn_only in p.decoys if (block.in_function or not fn_only)
              and ("{var}" not in t or block.writable)]
    guards = [g for g in p.guards if not {n.id for n in ast.walk(ast.parse(g)) if isinstance(n, ast.Name)} & shadowed]
    if decoys and guards and rng.random() < 0.7:
        code = rng.choice(decoys)
        var = rng.choice(block.writable) if block.writable else ""
        names = {"var": var}
        if "{fresh}" in code:
            names["fresh"] = fresh("tmp")
        inner = code.format(**names)
        text = f"if {rng.choice(guards)}:\n" + "".join(f"    {line}\n" for line in inner.splitlines())
    else:
        text = rng.choice(p.unused).format(fresh=fresh(rng.choice(("unused", "tmp", "cache", "flag"))))
    return ast.parse(text).body


def insert(target: Target, rng: random.Random) -> str:
    tree = parse(target)
    frozen = frozen_ids(tree)
    blocks = [b for b in _blocks(tree, frozen) if b.start <= len(b.body)]
    if not blocks:
        raise NotApplicable("no place for dead code")
    fresh = Fresh(taken_names(tree, target))
    shadowed = _shadowed(tree)
    for _ in range(rng.randint(1, 3)):
        block = rng.choice(blocks)
        at = rng.randint(block.start, len(block.body))
        block.body[at:at] = _piece(block, fresh, shadowed, rng)
    return finish(tree, target.source)
