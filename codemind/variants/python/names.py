"""Renamed identifiers: the program's own variables, parameters and helper functions get neutral
(v0, v1, ...) or misleading names (a counter called ``max_value``), consistently everywhere.

A name is renamed program-wide (every scope), which keeps closures, ``global``/``nonlocal`` and
recursion consistent. Left alone: the entry point and every name the inputs use, keep_names,
builtins, imported names, class names, methods and class attributes (they are attributes),
dunders, ``self``/``cls``, any name passed as a keyword argument (it is a parameter name callers rely on) and
everything inside a unittest class.
"""

from __future__ import annotations

import ast
import random
from functools import cache

from codemind import resources
from codemind.variants.base import NotApplicable, Target
from codemind.variants.python.common import (
    BUILTINS,
    Fresh,
    call_trees,
    finish,
    frozen_ids,
    parse,
    taken_names,
    uses_reflection,
)


def _protected(tree: ast.Module, target: Target, frozen: set[int]) -> set[str]:
    out = set(BUILTINS) | set(target.keep_names) | {"self", "cls"}  # conventions, not information
    if target.entry_point:
        out.add(target.entry_point)
    for t in call_trees(target):
        for n in ast.walk(t):
            if isinstance(n, ast.Name):
                out.add(n.id)
            elif isinstance(n, ast.keyword) and n.arg:
                out.add(n.arg)
            elif isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.isidentifier():
                out.add(n.value)  # f(**{'name': ...})
    for node in ast.walk(tree):
        if id(node) in frozen and isinstance(node, ast.Name):
            out.add(node.id)
        if isinstance(node, ast.alias):
            out.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.keyword) and node.arg:
            out.add(node.arg)
        elif isinstance(node, ast.ClassDef):
            out.add(node.name)
            out |= _class_scope_names(node)  # methods and class attributes are attributes
        elif isinstance(node, ast.JoinedStr):  # f"{x=}" prints the name itself
            for a, b in zip(node.values, node.values[1:]):
                if isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value.rstrip().endswith("="):
                    out |= {n.id for n in ast.walk(b) if isinstance(n, ast.Name)}
    return {n for n in out} | {n for n in _all_names(tree) if n.startswith("__") and n.endswith("__")}


def _class_scope_names(cls: ast.ClassDef) -> set[str]:
    """Names bound in a class body itself (not inside its methods)."""
    out: set[str] = set()
    stack: list[ast.AST] = list(cls.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
            stack += node.decorator_list
            continue
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        stack += list(ast.iter_child_nodes(node))
    return out


def _all_names(tree: ast.AST) -> list[str]:
    seen: dict[str, None] = {}
    for node in ast.walk(tree):
        for name in _bound(node):
            seen.setdefault(name, None)
    return list(seen)


def _bound(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
        return [node.id]
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return [node.name]
    if isinstance(node, ast.ExceptHandler) and node.name:
        return [node.name]
    if isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
        return [node.name]
    return []


def candidates(tree: ast.Module, target: Target) -> list[str]:
    """The names to rename, in order of first binding (deterministic)."""
    frozen = frozen_ids(tree)
    protected = _protected(tree, target, frozen)
    return [n for n in _all_names(tree) if n not in protected]


class _Rename(ast.NodeTransformer):
    def __init__(self, mapping: dict[str, str], frozen: set[int]):
        self.mapping, self.frozen = mapping, frozen

    def generic_visit(self, node: ast.AST) -> ast.AST:
        if id(node) in self.frozen:
            return node
        m = self.mapping
        if isinstance(node, ast.Name):
            node.id = m.get(node.id, node.id)
        elif isinstance(node, ast.arg):
            node.arg = m.get(node.arg, node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ExceptHandler, ast.MatchAs, ast.MatchStar)):
            node.name = m.get(node.name, node.name) if node.name else node.name
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            node.names = [m.get(n, n) for n in node.names]
        return super().generic_visit(node)


def _rename(target: Target, rng: random.Random, namer) -> str:
    tree = parse(target)
    if uses_reflection(tree):
        raise NotApplicable("uses locals/vars/eval/exec/globals")
    names = candidates(tree, target)
    if not names:
        raise NotApplicable("nothing to rename")
    fresh = Fresh(taken_names(tree, target))
    mapping = {name: namer(name, fresh, rng) for name in names}
    _Rename(mapping, frozen_ids(tree)).visit(tree)
    return finish(tree, target.source)


def rename_neutral(target: Target, rng: random.Random) -> str:
    """Every renamable name becomes v0, v1, ... (functions f0, f1, ...) in order of first binding."""
    tree = parse(target)
    functions = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    counters = {"v": 0, "f": 0}

    def namer(name: str, fresh: Fresh, _rng: random.Random) -> str:
        prefix = "f" if name in functions else "v"
        while f"{prefix}{counters[prefix]}" in fresh.taken:
            counters[prefix] += 1
        return fresh(f"{prefix}{counters[prefix]}")

    return _rename(target, rng, namer)


@cache
def vocabulary() -> tuple[str, ...]:
    text = resources.text("codemind", "variants/python/misleading_names.txt")
    return tuple(w for line in text.splitlines() if (w := line.split("#")[0].strip()) and w.isidentifier())


def rename_misleading(target: Target, rng: random.Random) -> str:
    """Every renamable name becomes a plausible name that says something else (misleading_names.txt)."""
    words = list(vocabulary())
    rng.shuffle(words)

    def namer(name: str, fresh: Fresh, _rng: random.Random) -> str:
        while words:
            word = words.pop()
            if word not in fresh.taken and word != name:
                return fresh(word)
        return fresh("result")

    return _rename(target, rng, namer)
