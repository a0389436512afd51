"""Misleading comments and docstrings, added by editing the original source's lines (ast drops
comments, so this transform keeps everything else byte for byte).

A comment line goes right before the first line of a statement, with its indentation, only
where that line starts with the statement (not ``a = 1; b = 2``'s second) and the line before
does not end with a backslash: so never inside a string or a bracketed continuation. A
docstring is added only to functions that have none, and not when the program mentions
``__doc__``. Texts are data: comments.txt.
"""

from __future__ import annotations

import ast
import random
from functools import cache

from codemind import resources
from codemind.variants.base import NotApplicable, Target
from codemind.variants.python.common import check, frozen_ids, is_docstring, parse


@cache
def texts() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in resources.text("codemind", "variants/python/comments.txt").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = out.setdefault(line[1:-1], [])
        elif current is not None:
            current.append(line.strip())
    return {k: tuple(v) for k, v in out.items()}


def _starts_line(lines: list[str], node: ast.stmt) -> str | None:
    """The statement's indentation if a line may be inserted before it, else None."""
    i = node.lineno - 1
    raw = lines[i].encode()
    indent = raw[:node.col_offset].decode("utf-8", "replace")
    if indent.strip(" \t"):
        return None
    if i > 0 and lines[i - 1].rstrip("\r\n").endswith("\\"):
        return None
    return indent


def _names(node: ast.AST) -> list[str]:
    seen: dict[str, None] = {}
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            seen.setdefault(n.id, None)
    return list(seen)


def mislead(target: Target, rng: random.Random) -> str:
    tree = parse(target)
    frozen = frozen_ids(tree)
    lines = target.source.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline
    sites: dict[int, tuple[str, ast.stmt]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and id(node) not in frozen and node.lineno - 1 not in sites:
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            anchor = node if first == node.lineno else node.decorator_list[0]
            indent = _starts_line(lines, anchor)
            if indent is not None:
                sites[first - 1] = (indent, node)
    if not sites:
        raise NotApplicable("no statement line to comment")
    inserts: dict[int, list[str]] = {}
    if "__doc__" not in target.source:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and id(node) not in frozen \
                    and not is_docstring(node.body[0]) and node.body[0].lineno > node.lineno \
                    and node.body[0].lineno - 1 in sites and rng.random() < 0.5:
                indent = sites[node.body[0].lineno - 1][0]
                doc = rng.choice(texts()["docstrings"]).replace("\\", "").replace('"', "'")
                inserts.setdefault(node.body[0].lineno - 1, []).append(f'{indent}"""{doc}"""{newline}')
    order = sorted(sites)
    chosen = [i for i in order if rng.random() < 0.3] or [rng.choice(order)]
    for i in chosen:
        indent, node = sites[i]
        names = _names(node)
        options = [t for t in texts()["comments"] if "{name}" not in t or names]
        text = rng.choice(options).replace("{name}", rng.choice(names) if names else "")
        inserts.setdefault(i, []).append(f"{indent}# {text}{newline}")
    out = []
    for i, line in enumerate(lines):
        out += inserts.get(i, [])
        out.append(line)
    return check("".join(out), target.source, same_ast_ok=True)
