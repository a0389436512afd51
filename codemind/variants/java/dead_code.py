"""Insert code that never runs or whose result is never used: ``if (false) { ... }`` decoy
branches and unused local declarations (templates in dead_code.txt), placed before seeded
statements of method bodies. Inserting *before* a statement keeps it reachable: javac rejects
a statement after return/throw/break/continue."""

from __future__ import annotations

import random

from codemind.variants.base import NotApplicable, Target
from codemind.variants.java.edit import Edit, Program, blocks, method_blocks, statements


def positions(prog: Program) -> list:
    """Statements of method/lambda bodies before which a statement may be inserted (not before
    a constructor's this(...)/super(...) call, which must come first)."""
    out = []
    for b in method_blocks(prog):
        out += [s for s in statements(b) if s.type != "explicit_constructor_invocation"]
    return out


def fill(prog: Program, template: str, rng: random.Random, taken: set[str]) -> str:
    """A template with {v}/{w} as fresh names and {n}/{m} as small numbers."""
    values = {"{v}": prog.fresh("unused", taken), "{w}": prog.fresh("tmp", taken),
              "{n}": str(rng.randint(2, 99)), "{m}": str(rng.randint(2, 9))}
    for key, value in values.items():
        template = template.replace(key, value)
    return template


def insert(target: Target, rng: random.Random) -> str:
    """One to three dead snippets before seeded statements."""
    prog = Program(target)
    spots = positions(prog)
    if not spots:
        raise NotApplicable("no statement inside a method body")
    templates = blocks("dead_code.txt")
    taken: set[str] = set()
    edits = []
    for s in rng.sample(spots, min(len(spots), rng.randint(1, 3))):
        indent = prog.indent_of(s)
        snippet = fill(prog, rng.choice(templates), rng, taken).replace("\n", "\n" + indent)
        edits.append(Edit(s.start_byte, s.start_byte, snippet + "\n" + indent))
    return prog.apply(edits)
