"""Rewrite ``for (init; cond; update) body`` as ``{ init; while (cond) { body update; } }``,
and ``while (c) body`` as ``for (; c; ) body`` (always equivalent: no update to skip).

A ``continue`` of the loop would skip the update in the while form, so the body goes into a
labeled block and each such ``continue;`` becomes ``break <label>;`` (which lands right before
the update). Labeled for loops are left alone (``continue label`` cannot target a block)."""

from __future__ import annotations

import random

from codemind.variants.base import NotApplicable, Target
from codemind.variants.java.edit import (
    Edit,
    Program,
    completes_normally,
    enclosing_loop,
    pick_disjoint,
    walk,
)


def _continues(loop) -> list | None:
    """The unlabeled continues that target ``loop``; None if a labeled continue may."""
    out = []
    for n in walk(loop.child_by_field_name("body")):
        if n.type == "continue_statement":
            if n.named_child_count:  # continue label
                return None
            if enclosing_loop(n) == loop:
                out.append(n)
    return out


def _candidates(prog: Program) -> list:
    out = []
    for loop in prog.nodes("for_statement"):
        body = loop.child_by_field_name("body")
        if loop.parent.type == "labeled_statement" or body.type in ("for_statement", "local_variable_declaration"):
            continue
        if _continues(loop) is None:
            continue
        out.append(loop)
    return out


def _rewrite(prog: Program, loop, taken: set[str]) -> list[Edit]:
    kids = [(loop.field_name_for_child(i), loop.child(i)) for i in range(loop.child_count)]
    init = [prog.text(c) for f, c in kids if f == "init"]
    init_text = " ".join(t if t.endswith(";") else t + ";" for t in init)
    cond = loop.child_by_field_name("condition")
    update = "".join(f" {prog.text(c)};" for f, c in kids if f == "update")
    body = loop.child_by_field_name("body")
    conts = _continues(loop) or []
    needs_label = bool(conts) and bool(update)
    if not needs_label and update and not completes_normally(body):
        raise _Skip  # the update would be unreachable: a compile error
    label = prog.fresh("next", taken) if needs_label else None
    head = "{ " + (init_text + " " if init_text else "") + f"while ({prog.text(cond) if cond else 'true'}) {{"
    if label:
        head += f" {label}: "
    edits = [Edit(loop.start_byte, body.start_byte, head + ("" if body.type == "block" else "{ "))]
    edits += [Edit(c.start_byte, c.end_byte, f"break {label};") for c in conts] if label else []
    tail = ("" if body.type == "block" else " }") + update + " } }"
    edits.append(Edit(body.end_byte, body.end_byte, tail))
    return edits


class _Skip(Exception):
    pass


def for_while(target: Target, rng: random.Random) -> str:
    """Rewrite a seeded, non-nested subset of the program's for loops as while loops (and of
    its while loops as for loops)."""
    prog = Program(target)
    cands = _candidates(prog) + prog.nodes("while_statement")
    edits: list[Edit] = []
    taken: set[str] = set()
    for loop in pick_disjoint(cands, rng, share=0.7):
        if loop.type == "while_statement":
            cond, body = loop.child_by_field_name("condition"), loop.child_by_field_name("body")
            edits.append(Edit(loop.start_byte, body.start_byte, f"for (; {prog.text(cond)[1:-1]}; ) "))
            continue
        try:
            edits += _rewrite(prog, loop, taken)
        except _Skip:
            continue
    if not edits:
        raise NotApplicable("no for loop that can become a while loop, no while loop")
    return prog.apply(edits)
