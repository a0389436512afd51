"""Swap the branches of ``if (c) A else B`` into ``if (!(c)) { B } else { A }`` (braces
always: an ``else if`` moved into the then-branch would otherwise capture the else). An ``if``
without else becomes ``if (!(c)) { } else { A }``."""

from __future__ import annotations

import random

from codemind.variants.base import NotApplicable, Target
from codemind.variants.java.edit import Edit, Program, pick_disjoint


def _brace(prog: Program, node) -> str:
    t = prog.text(node)
    return t if node.type == "block" else "{ " + t + " }"


def swap_if_else(target: Target, rng: random.Random) -> str:
    """Swap a seeded subset of the if/else statements (never one inside another: edits copy
    the branches' text)."""
    prog = Program(target)
    cands = prog.nodes("if_statement")
    if not cands:
        raise NotApplicable("no if statement")
    edits = []
    for n in pick_disjoint(cands, rng, share=0.6):
        cond, then, alt = (n.child_by_field_name(f) for f in ("condition", "consequence", "alternative"))
        new_then = _brace(prog, alt) if alt is not None else "{ }"
        text = f"if (!{prog.text(cond)}) {new_then} else {_brace(prog, then)}"
        edits.append(Edit(n.start_byte, n.end_byte, text))
    return prog.apply(edits)
