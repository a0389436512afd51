"""Rewrite expressions into equivalent forms: ``a < b`` -> ``b > a`` (operands without side
effects, since evaluation order flips), ``a != b`` -> ``!(a == b)``, ``x++;`` -> ``x += 1;``,
and ``x += k`` -> ``x = x + (k)`` where the types make the implicit cast a no-op."""

from __future__ import annotations

import random

from codemind.variants.base import NotApplicable, Target
from codemind.variants.java.edit import Edit, Program, pick_disjoint
from codemind.variants.java.types import declared_types, is_simple

_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}
# x's declared type -> types of k for which x += k and x = x + k are the same
_WIDENS_TO = {"int": {"int", "short", "byte", "char"}, "long": {"int", "long", "short", "byte", "char"},
              "double": {"int", "long", "double", "float", "short", "byte", "char"}}


def _sites(prog: Program) -> list[tuple[object, str]]:
    types = declared_types(prog)
    out = []
    for n in prog.nodes("binary_expression"):
        op = prog.text(n.child_by_field_name("operator"))
        left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
        if op in _FLIP and is_simple(prog, left) and is_simple(prog, right):
            out.append((n, f"{prog.text(right)} {_FLIP[op]} {prog.text(left)}"))
        elif op == "!=":
            out.append((n, f"!({prog.text(left)} == {prog.text(right)})"))
    for n in prog.nodes("update_expression"):
        if n.parent.type not in ("expression_statement", "for_statement"):
            continue
        arg = n.named_children[0]
        op = "+=" if prog.text(n).endswith("++") or prog.text(n).startswith("++") else "-="
        if is_simple(prog, arg):
            out.append((n, f"{prog.text(arg)} {op} 1"))
    for n in prog.nodes("assignment_expression"):
        op = prog.text(n.child_by_field_name("operator"))
        left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
        if op not in ("+=", "-=", "*=") or left.type != "identifier":
            continue
        lt = types.get(prog.text(left))
        if lt == "String" and op == "+=":
            ok = True
        elif lt in _WIDENS_TO:
            ok = right.type == "decimal_integer_literal" and not prog.text(right).lower().endswith("l") \
                or (right.type == "identifier" and types.get(prog.text(right)) in _WIDENS_TO[lt])
        else:
            ok = False
        if ok:
            out.append((n, f"{prog.text(left)} = {prog.text(left)} {op[0]} ({prog.text(right)})"))
    return out


def rewrite(target: Target, rng: random.Random) -> str:
    """Rewrite a seeded subset of the sites (at least one; never one inside another)."""
    prog = Program(target)
    sites = _sites(prog)
    if not sites:
        raise NotApplicable("no expression with an equivalent form")
    new = {(n.start_byte, n.end_byte): t for n, t in sites}
    chosen = pick_disjoint([n for n, _ in sites], rng, share=0.5)
    return prog.apply(Edit(n.start_byte, n.end_byte, new[n.start_byte, n.end_byte]) for n in chosen)
