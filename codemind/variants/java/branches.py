"""Swap the branches of ``if (c) A else B`` into ``if (!(c)) { B } else { A }`` (braces
always: an ``else if`` moved into the then-branch would otherwise capture the else)."""

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
    cands = [n for n in prog.nodes("if_statement") if n.child_by_field_name("alternative") is not None]
    if not cands:
        raise NotApplicable("no if statement with an else branch")
    edits = []
    for n in pick_disjoint(cands, rng, share=0.6):
        cond, then, alt = (n.child_by_field_name(f) for f in ("condition", "consequence", "alternative"))
        text = f"if (!{prog.text(cond)}) {_brace(prog, alt)} else {_brace(prog, then)}"
        edits.append(Edit(n.start_byte, n.end_byte, text))
    return prog.apply(edits)
