"""Mutants: ONE site changed a little, chosen uniformly among the candidates by the rng (the
harness retries with a new rng when the outputs do not change). Never inside HumanEval-X's
generated Main (Program leaves it out) or an import."""

from __future__ import annotations

import random

from codemind.variants.base import NotApplicable, Target
from codemind.variants.java.edit import Edit, Program, walk
from codemind.variants.java.types import NUMERIC, declared_types

_OPERATORS = {"+": "-", "-": "+", "*": "+", "/": "*", "%": "/", "<": "<=", "<=": "<", ">": ">=", ">=": ">",
              "==": "!=", "!=": "==", "&&": "||", "||": "&&"}
_LOOPS = ("for_statement", "while_statement", "do_statement")
_INT_MAX = 2**31 - 1


def _maybe_string(prog: Program, node, types) -> bool:
    """Could this operand be a String (``+`` then concatenates, and ``-`` would not compile)?"""
    for n in walk(node):
        if n.type in ("string_literal", "text_block", "method_invocation", "object_creation_expression",
                      "field_access", "cast_expression"):
            return True
        if n.type == "identifier" and types.get(prog.text(n)) not in NUMERIC and n.parent.type != "array_access":
            return True
    return False


def _one(prog: Program, sites: list[Edit], rng: random.Random, what: str) -> str:
    if not sites:
        raise NotApplicable(f"no {what} to mutate")
    return prog.apply([rng.choice(sites)])


def operator(target: Target, rng: random.Random) -> str:
    """One binary operator swapped for a related one (``+`` only between numeric operands)."""
    prog = Program(target)
    types = declared_types(prog)
    sites = []
    for n in prog.nodes("binary_expression"):
        op = n.child_by_field_name("operator")
        o = prog.text(op)
        if o not in _OPERATORS:
            continue
        if o in ("+", "-") and any(_maybe_string(prog, n.child_by_field_name(s), types) for s in ("left", "right")):
            continue
        sites.append(Edit(op.start_byte, op.end_byte, _OPERATORS[o]))
    return _one(prog, sites, rng, "binary operator")


def _in_case_label(node) -> bool:
    p = node.parent
    while p is not None:
        if p.type == "switch_label":
            return True
        if p.type in ("block", "class_body"):
            return False
        p = p.parent
    return False


def _string_change(body: str) -> str:
    for i, ch in enumerate(body):
        if ch.isalpha():
            return body[:i] + ch.swapcase() + body[i + 1:]
        if ch.isdigit():
            return body[:i] + str((int(ch) + 1) % 10) + body[i + 1:]
    return body + "x"


def constant(target: Target, rng: random.Random) -> str:
    """One int literal n -> n+1, one string literal altered (a letter's case, a digit), or
    true <-> false."""
    prog = Program(target)
    sites = []
    for n in prog.nodes("decimal_integer_literal", "string_literal", "true", "false"):
        if _in_case_label(n):
            continue
        t = prog.text(n)
        if n.type == "decimal_integer_literal":
            digits = t.replace("_", "").rstrip("lL")
            if digits.isdigit() and (t[-1] in "lL" or int(digits) < _INT_MAX):
                sites.append(Edit(n.start_byte, n.end_byte, str(int(digits) + 1) + (t[-1] if t[-1] in "lL" else "")))
        elif n.type == "string_literal":
            if t.startswith('"') and not t.startswith('"""') and "\\" not in t:
                sites.append(Edit(n.start_byte, n.end_byte, '"' + _string_change(t[1:-1]) + '"'))
        else:
            sites.append(Edit(n.start_byte, n.end_byte, "false" if t == "true" else "true"))
    return _one(prog, sites, rng, "constant")


def boundary(target: Target, rng: random.Random) -> str:
    """One comparison of a loop condition (any comparison if no loop has one) moved by one
    step inwards: ``<=`` -> ``<``, ``>=`` -> ``>``, ``i < n`` -> ``i < n - 1``, ``i > k`` ->
    ``i > k + 1``. Inwards, because a loop that runs once more mostly just indexes past the
    end and crashes, which tells nothing about the model."""
    prog = Program(target)
    comps = [n for n in prog.nodes("binary_expression")
             if prog.text(n.child_by_field_name("operator")) in ("<", "<=", ">", ">=")]
    in_loops = [n for n in comps if _loop_condition(n)]
    pool = in_loops or comps
    if not pool:
        raise NotApplicable("no comparison to move")
    n = rng.choice(pool)
    op, right = n.child_by_field_name("operator"), n.child_by_field_name("right")
    o = prog.text(op)
    if o in ("<=", ">="):
        edit = Edit(op.start_byte, op.end_byte, o[0])
    else:
        edit = Edit(right.start_byte, right.end_byte, f"({prog.text(right)} {'-' if o == '<' else '+'} 1)")
    return prog.apply([edit])


def _loop_condition(node) -> bool:
    p = node
    while p.parent is not None and p.parent.type not in _LOOPS:
        if p.type in ("block", "class_body", "lambda_expression"):
            return False
        p = p.parent
    parent = p.parent
    return parent is not None and parent.child_by_field_name("condition") is not None \
        and parent.child_by_field_name("condition").id == p.id
