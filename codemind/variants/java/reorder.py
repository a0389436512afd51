"""Swap adjacent independent statements of a block: local declarations and expression
statements that share no name at all and call nothing but java.lang.Math (no I/O, no
constructor, no method whose effects could interleave)."""

from __future__ import annotations

import random
from itertools import pairwise

from codemind.variants.base import NotApplicable, Target
from codemind.variants.java.edit import Edit, Program, method_blocks, statements, walk

_KINDS = {"local_variable_declaration", "expression_statement"}


def _names(node) -> set[str] | None:
    """Every identifier text of the statement; None if it calls or creates anything impure."""
    out = set()
    for n in walk(node):
        if n.type == "method_invocation":
            obj = n.child_by_field_name("object")
            if obj is None or obj.text != b"Math":
                return None
        elif n.type in ("object_creation_expression", "lambda_expression", "method_reference", "switch_expression"):
            return None
        elif n.type in ("identifier", "type_identifier", "this", "super"):
            out.add(n.text.decode())
    return out


def _pairs(prog: Program) -> list[tuple]:
    out = []
    for block in method_blocks(prog):
        stmts = statements(block)
        for a, b in pairwise(stmts):
            if a.type in _KINDS and b.type in _KINDS:
                na, nb = _names(a), _names(b)
                if na is not None and nb is not None and not (na & nb):
                    out.append((a, b))
    return out


def reorder(target: Target, rng: random.Random) -> str:
    """Swap up to three non-overlapping independent pairs, seeded."""
    prog = Program(target)
    pairs = _pairs(prog)
    if not pairs:
        raise NotApplicable("no adjacent independent statements")
    rng.shuffle(pairs)
    used: set[int] = set()
    edits = []
    for a, b in pairs:
        if a.start_byte in used or b.start_byte in used or len(edits) >= 6:
            continue
        used |= {a.start_byte, b.start_byte}
        edits += [Edit(a.start_byte, a.end_byte, prog.text(b)), Edit(b.start_byte, b.end_byte, prog.text(a))]
    return prog.apply(edits)
