"""Is an answer a value? A static check of the expressions judges evaluate for a model.

An answer that a judge must execute (a non-literal output prediction, an input-prediction
call, the right-hand side of CRUXEval's assertion) runs in the sandbox next to the program it
is about. Executing it is only fair if it can do nothing but compute a value: no imports, no
reaching frames, globals or builtins, no exits, no classes with their own ``__eq__``. So before
anything runs, its syntax tree must stay inside a small pure grammar:

* literals, containers, comprehensions, lambdas, f-strings, operators, comparisons,
  conditionals, subscripts and slices;
* names: the pure builtins below, names the expression binds itself (lambda parameters,
  comprehension targets), and the names the caller allows (the program's function and data);
* attribute access and method calls, except on names that start with ``_`` and on the
  attributes that lead to frames and code (``gi_frame``, ``f_globals``, ``tb_frame``, ...);
* no walrus (it would rebind a global), no await/yield.

Whatever a pure expression computes, it can only do it through values and the program's own
code; what it returns still has to be a plain value (sandbox/runner/plainvalues.py), and the
judge compares it in the host. ``impurity`` returns why an expression is not pure, or None.
"""

from __future__ import annotations

import ast
import warnings
from typing import Collection

PURE_BUILTINS = frozenset({
    "abs", "all", "any", "ascii", "bin", "bool", "bytearray", "bytes", "callable", "chr", "complex",
    "dict", "divmod", "enumerate", "filter", "float", "format", "frozenset", "hash", "hex", "int",
    "isinstance", "issubclass", "iter", "len", "list", "map", "max", "min", "next", "oct", "ord",
    "pow", "range", "repr", "reversed", "round", "set", "slice", "sorted", "str", "sum", "tuple", "zip",
})
# attributes that lead from a value to frames, code or the interpreter's internals
_FRAME_PREFIXES = ("gi_", "cr_", "ag_", "f_", "tb_", "co_")

_ALLOWED = (
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.Store, ast.List, ast.Tuple, ast.Set,
    ast.Dict, ast.Starred, ast.UnaryOp, ast.BinOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Subscript,
    ast.Slice, ast.Call, ast.keyword, ast.Attribute, ast.Lambda, ast.arguments, ast.arg, ast.ListComp,
    ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.comprehension, ast.JoinedStr, ast.FormattedValue,
    ast.unaryop, ast.operator, ast.boolop, ast.cmpop, ast.expr_context,
)


def parse_expression(text: str) -> ast.Expression | None:
    """The expression's tree, or None when it is not one expression."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError, OverflowError):
        return None


def impurity(node: ast.AST | str, names: Collection[str] = ()) -> str | None:
    """Why the expression is not pure (see the module docstring), or None. ``names``: program
    names it may use besides the pure builtins."""
    if isinstance(node, str):
        tree = parse_expression(node)
        if tree is None:
            return "not an expression"
        node = tree
    try:
        nodes = list(ast.walk(node))
    except RecursionError:
        return "nested too deep"
    bound = {n.arg for n in nodes if isinstance(n, ast.arg)}
    bound |= {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    allowed = PURE_BUILTINS | bound | set(names)
    for n in nodes:
        if not isinstance(n, _ALLOWED):
            return f"{type(n).__name__} is not allowed in a value"
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
            if n.id.startswith("_") or n.id not in allowed:
                return f"uses the name {n.id!r}"
        elif isinstance(n, ast.Name) and n.id.startswith("_"):
            return f"binds the name {n.id!r}"
        elif isinstance(n, ast.Attribute) and (n.attr.startswith("_") or n.attr.startswith(_FRAME_PREFIXES)):
            return f"reaches the attribute {n.attr!r}"
        elif isinstance(n, ast.arg) and n.arg.startswith("_"):
            return f"binds the name {n.arg!r}"
    return None


def program_names(source: str) -> tuple[set[str], set[str]]:
    """(names the program binds at top level other than by import, functions and classes among
    them): what an answer may refer to. Imported modules are left out: through them an
    expression could reach os, sys or the program's own state."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return set(), set()
    names: set[str] = set()
    code: set[str] = set()
    imported: set[str] = set()
    for n in _module_level(tree):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(n.name)
            code.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            imported.update((a.asname or a.name).split(".")[0] for a in n.names)
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names.add(n.id)
    return names - imported, code - imported


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.SetComp,
           ast.DictComp, ast.GeneratorExp)


def _module_level(tree: ast.Module):
    """The nodes that run in the module's namespace (function, class, lambda and comprehension
    bodies left out; the def and class statements themselves included)."""
    todo: list[ast.AST] = [tree]
    while todo:
        n = todo.pop()
        yield n
        if not isinstance(n, _SCOPES):
            todo.extend(ast.iter_child_nodes(n))
