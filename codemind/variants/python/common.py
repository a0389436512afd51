"""What the Python transforms share: parsing a target, the code they must leave alone (a
unittest class, the names the inputs use), fresh names that clash with nothing, and a final
check that the result compiles (ast.parse alone misses symbol-table errors such as a name used
before its ``global`` declaration)."""

from __future__ import annotations

import ast
import builtins
import keyword
import random
from collections.abc import Iterator

from codemind.tasks.padding import Fresh, identifiers  # noqa: F401 (Fresh: shared with the transforms)
from codemind.variants.base import NotApplicable, Target

BUILTINS = frozenset(dir(builtins))
REFLECTIVE = frozenset({"locals", "vars", "eval", "exec", "globals"})


def parse(target: Target) -> ast.Module:
    try:
        return ast.parse(target.source)
    except SyntaxError as e:
        raise NotApplicable(f"does not parse: {e.msg}") from e


def call_trees(target: Target) -> list[ast.AST]:
    out = []
    for call in target.calls:
        try:
            out.append(ast.parse(call))
        except SyntaxError:
            continue
    return out


def is_test_class(node: ast.AST) -> bool:
    """A unittest class (ClassEval's ``Test``): its code checks the program and stays as is."""
    if not isinstance(node, ast.ClassDef):
        return False
    bases = [ast.unparse(b) for b in node.bases]
    return node.name.startswith("Test") or any(b.endswith("TestCase") for b in bases)


def frozen_ids(tree: ast.AST) -> set[int]:
    """ids of every node inside a unittest class (never transformed)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if is_test_class(node):
            out.update(id(n) for n in ast.walk(node))
    return out


def annotation_ids(tree: ast.AST, *, patterns: bool = False, fstrings: bool = False,
                   bare_constants: bool = False) -> set[int]:
    """ids of the nodes where an expression is not a free-standing value, which no rewrite or
    mutation may touch: format specs and annotations, and as asked match patterns, whole
    f-strings, and bare constant statements (docstrings)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        parts: list[ast.AST] = []
        if patterns and isinstance(node, ast.match_case):
            parts.append(node.pattern)
        elif bare_constants and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            parts.append(node.value)
        elif isinstance(node, ast.FormattedValue) and node.format_spec:
            parts.append(node.format_spec)
        elif isinstance(node, ast.arg) and node.annotation:
            parts.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns:
            parts.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            parts.append(node.annotation)
        elif fstrings and isinstance(node, ast.JoinedStr):
            parts.append(node)
        for part in parts:
            out.update(id(n) for n in ast.walk(part))
    return out


def taken_names(tree: ast.AST, target: Target) -> set[str]:
    """Every identifier a fresh name must differ from: the program's, the calls', builtins,
    keywords and the names to keep."""
    out = identifiers(tree) | set(BUILTINS) | set(keyword.kwlist) | set(target.keep_names)
    for t in call_trees(target):
        out |= identifiers(t)
    if target.entry_point:
        out.add(target.entry_point)
    return out


def uses_reflection(tree: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id in REFLECTIVE for n in ast.walk(tree))


def is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def body_start(body: list[ast.stmt], module: bool = False) -> int:
    """The first index where a statement may go: after a docstring, ``from __future__``
    imports (module) and ``global``/``nonlocal`` declarations."""
    i = 1 if body and is_docstring(body[0]) else 0
    if module:
        while i < len(body) and isinstance(body[i], ast.ImportFrom) and body[i].module == "__future__":
            i += 1
    last_decl = max((k + 1 for k, s in enumerate(body) if isinstance(s, (ast.Global, ast.Nonlocal))), default=0)
    return max(i, last_decl)


BLOCK_FIELDS = ("body", "orelse", "finalbody")


def blocks(tree: ast.AST, frozen: set[int]) -> Iterator[tuple[ast.AST, str, list[ast.stmt]]]:
    """Every statement list (owner, field, list) outside frozen code, in source order."""
    for node in ast.walk(tree):
        if id(node) in frozen:
            continue
        for name in BLOCK_FIELDS:
            value = getattr(node, name, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                yield node, name, value
        if isinstance(node, ast.Match):
            for case in node.cases:
                yield case, "body", case.body


def pick_subset(rng: random.Random, items: list, p: float = 0.5) -> list:
    """A seeded non-empty subset (each item with probability p, at least one), in order."""
    if not items:
        return []
    chosen = [x for x in items if rng.random() < p]
    return chosen or [rng.choice(items)]


def finish(tree: ast.AST, original: str) -> str:
    source = ast.unparse(ast.fix_missing_locations(tree)) + "\n"
    return check(source, original)


def check(source: str, original: str, same_ast_ok: bool = False) -> str:
    try:
        compile(source, "<variant>", "exec", dont_inherit=True)
    except SyntaxError as e:
        raise NotApplicable(f"result does not compile: {e.msg}") from e
    if source == original or (not same_ast_ok and _canon(source) == _canon(original)):
        raise NotApplicable("nothing changed")
    return source


def _canon(source: str) -> str:
    try:
        return ast.dump(ast.parse(source))
    except SyntaxError:
        return source
