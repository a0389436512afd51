"""DSR-style padding for Java: unused single-type imports of java.util classes the program does
not mention, an unused private static helper method in a top-level class, and a dead local
computation. Each is inert; together they lengthen the program with plausible noise."""

from __future__ import annotations

import random

from codemind.variants.base import NotApplicable, Target
from codemind.variants.java.dead_code import fill, positions
from codemind.variants.java.edit import Edit, Program, blocks, lines


def _imports(prog: Program, rng: random.Random) -> Edit | None:
    """Import one to three java.util classes whose simple name appears nowhere in the program
    (so the import can neither clash with a class of the program nor change what a name
    means)."""
    free = [c for c in lines("padding_imports.txt") if c.rsplit(".", 1)[-1] not in prog.words]
    if not free:
        return None
    chosen = rng.sample(free, min(len(free), rng.randint(1, 3)))
    text = "".join(f"import {c};\n" for c in chosen)
    decls = [c for c in prog.root.children if c.type in ("import_declaration", "package_declaration")]
    if decls:
        return Edit(decls[-1].end_byte, decls[-1].end_byte, "\n" + text.rstrip("\n"))
    return Edit(0, 0, text)


def _helper(prog: Program, rng: random.Random, taken: set[str]) -> Edit | None:
    classes = [c for c in prog.root.children if c.type == "class_declaration" and not prog.is_protected(c)]
    if not classes:
        return None
    body = rng.choice(classes).child_by_field_name("body")
    close = body.children[-1]
    template = rng.choice(blocks("padding_helpers.txt")).replace("{f}", prog.fresh("helper", taken))
    method = fill(prog, template, rng, taken)
    return Edit(close.start_byte, close.start_byte, "\n    " + method.replace("\n", "\n    ") + "\n")


def pad(target: Target, rng: random.Random) -> str:
    """Imports, a helper method and a dead local computation, each where the program allows."""
    prog = Program(target)
    taken: set[str] = set()
    edits = [e for e in (_imports(prog, rng), _helper(prog, rng, taken)) if e is not None]
    spots = positions(prog)
    if spots:
        s = rng.choice(spots)
        line = fill(prog, "int {v} = {n} + {m};", rng, taken)
        edits.append(Edit(s.start_byte, s.start_byte, line + "\n" + prog.indent_of(s)))
    if not edits:
        raise NotApplicable("nowhere to pad")
    return prog.apply(edits)
