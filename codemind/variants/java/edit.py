"""Shared machinery of the Java transforms: parse with tree-sitter (the analysis' parser), walk
nodes, leave HumanEval-X's generated ``Main`` alone, pick seeded sites, make fresh names and
apply byte-range edits to the original source (never re-print a tree: everything a transform
does not touch stays byte for byte)."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise

from codemind.analysis.java_constructs import _parser
from codemind.resources import text
from codemind.variants.base import NotApplicable, Target

KEYWORDS = frozenset(["abstract", "assert", "boolean", "break", "byte", "case", "catch", "char", "class", "const", "continue", "default", "do", "double", "else", "enum", "extends", "final", "finally", "float", "for", "goto", "if", "implements", "import", "instanceof", "int", "interface", "long", "native", "new", "package", "private", "protected", "public", "return", "short", "static", "strictfp", "super", "switch", "synchronized", "this", "throw", "throws", "transient", "try", "void", "volatile", "while", "true", "false", "null", "var", "record", "yield", "sealed", "permits"])
STATEMENTS = frozenset({
    "local_variable_declaration", "expression_statement", "if_statement", "for_statement",
    "enhanced_for_statement", "while_statement", "do_statement", "return_statement", "break_statement",
    "continue_statement", "throw_statement", "try_statement", "try_with_resources_statement",
    "switch_expression", "block", "labeled_statement", "synchronized_statement", "assert_statement",
    "yield_statement", "local_class_declaration", "class_declaration",
})
LOOPS = frozenset({"for_statement", "enhanced_for_statement", "while_statement", "do_statement"})


@dataclass(frozen=True)
class Edit:
    """Replace bytes [start, end) of the original source by ``text`` (start == end: insert)."""

    start: int
    end: int
    text: str


class Program:
    """A parsed source plus what every transform needs: its bytes, root, and protected ranges."""

    def __init__(self, target: Target):
        self.target = target
        self.data = target.source.encode("utf-8")
        self.root = _parser().parse(self.data).root_node
        if self.root.has_error:
            raise NotApplicable("the program does not parse")
        self.protected = [(n.start_byte, n.end_byte) for n in _generated_main(self.root)]
        self.words = set(re.findall(r"[A-Za-z_$][A-Za-z0-9_$]*", target.source))

    def text(self, node) -> str:
        return self.data[node.start_byte:node.end_byte].decode("utf-8")

    def is_protected(self, node) -> bool:
        return any(s <= node.start_byte and node.end_byte <= e for s, e in self.protected)

    def nodes(self, *types: str) -> list:
        """Every node of these types outside the protected ranges, in source order."""
        wanted = set(types)
        return [n for n in walk(self.root) if n.type in wanted and not self.is_protected(n)]

    def fresh(self, base: str, taken: set[str]) -> str:
        """``base`` (or base2, base3...) that appears nowhere in the source nor in ``taken``;
        the name is added to ``taken``."""
        for i in range(1, 10_000):
            name = base if i == 1 else f"{base}{i}"
            if name not in self.words and name not in taken and name not in KEYWORDS:
                taken.add(name)
                return name
        raise NotApplicable(f"no fresh name from {base}")

    def indent_of(self, node) -> str:
        """The whitespace that starts the line ``node`` starts on."""
        line_start = self.data.rfind(b"\n", 0, node.start_byte) + 1
        m = re.match(rb"[ \t]*", self.data[line_start:node.start_byte])
        return m.group(0).decode() if m else ""

    def apply(self, edits: Iterable[Edit]) -> str:
        return apply_edits(self.data, edits)


def walk(node) -> Iterator:
    """Pre-order, iterative (programs can nest deeply)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def _generated_main(root) -> list:
    """HumanEval-X's generated ``public class Main`` (it holds the call whose value is
    printed): a top-level class Main next to a top-level class Solution that it instantiates."""
    classes = {c.child_by_field_name("name").text.decode(): c for c in root.children
               if c.type == "class_declaration" and c.child_by_field_name("name") is not None}
    main = classes.get("Main")
    if main is not None and "Solution" in classes and b"new Solution(" in main.text:
        return [main]
    return []


def apply_edits(data: bytes, edits: Iterable[Edit]) -> str:
    """Apply edits from the end backwards so that offsets stay valid; overlapping edits are a
    bug in the transform (an insertion at a replaced range's start goes before it)."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    for a, b in pairwise(ordered):
        if b.start < a.end:
            raise ValueError(f"overlapping edits {a} {b}")
    out = data
    for e in reversed(ordered):
        out = out[:e.start] + e.text.encode("utf-8") + out[e.end:]
    return out.decode("utf-8")


def contains(outer, inner) -> bool:
    return outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte


def pick_disjoint(candidates: Sequence, rng: random.Random, share: float = 0.5, at_least: int = 1) -> list:
    """A seeded subset of ``candidates`` (each kept with probability ``share``, at least
    ``at_least``) in which no node contains another, so that their edits never overlap."""
    order = list(candidates)
    rng.shuffle(order)
    chosen: list = []
    for n in order:
        if len(chosen) >= at_least and rng.random() >= share:
            continue
        if any(contains(c, n) or contains(n, c) for c in chosen):
            continue
        chosen.append(n)
    return chosen


def lines(path: str) -> list[str]:
    """The non-blank, non-# lines of a data file of this package."""
    return [ln.rstrip() for ln in text("codemind", f"variants/java/{path}").splitlines()
            if ln.strip() and not ln.startswith("#")]


def blocks(path: str) -> list[str]:
    """The blank-line-separated entries of a data file (templates of several lines)."""
    body = "\n".join(ln for ln in text("codemind", f"variants/java/{path}").splitlines() if not ln.startswith("#"))
    return [b.strip("\n") for b in re.split(r"\n\s*\n", body) if b.strip()]


def enclosing_loop(node):
    """The loop an unlabeled break/continue at ``node`` belongs to (None across a class body
    or lambda)."""
    p = node.parent
    while p is not None:
        if p.type in LOOPS:
            return p
        if p.type in ("class_body", "lambda_expression", "method_declaration", "constructor_declaration"):
            return None
        p = p.parent
    return None


def method_blocks(prog: Program) -> list:
    """Blocks whose statements run inside a method, constructor or lambda body (not a class's
    initialiser lists), outside the protected ranges."""
    out = []
    for b in prog.nodes("block"):
        p = b.parent
        while p is not None and p.type not in ("method_declaration", "constructor_declaration", "lambda_expression",
                                               "class_body"):
            p = p.parent
        if p is not None and p.type != "class_body":
            out.append(b)
    return out


def statements(block) -> list:
    return [c for c in block.named_children if c.type in STATEMENTS]


def completes_normally(stmt) -> bool:
    """Conservative: False when the statement may end abruptly (return, break, throw, an
    endless loop...), so nothing may follow it in its block."""
    t = stmt.type
    if t in ("return_statement", "break_statement", "continue_statement", "throw_statement", "yield_statement"):
        return False
    if t in ("expression_statement", "local_variable_declaration", "assert_statement"):
        return True
    if t == "block":
        body = statements(stmt)
        return not body or completes_normally(body[-1])
    if t == "if_statement":
        alt = stmt.child_by_field_name("alternative")
        if alt is None:
            return True
        return completes_normally(stmt.child_by_field_name("consequence")) or completes_normally(alt)
    if t in ("for_statement", "while_statement"):
        cond = stmt.child_by_field_name("condition")
        return cond is not None and cond.text.strip(b"()") != b"true"
    return t == "enhanced_for_statement"
