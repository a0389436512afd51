"""Rename local variables and parameters (neutral v0, v1... or misleading plausible names).

Scopes are resolved conservatively, by text: an identifier is renamed only when every one of
its occurrences in the program is the declaration of a local/parameter or a plain reference
(never a field, method, class, label or ``x.name``), and all of them get the same new name,
free in the whole program. That is an alpha-renaming whatever the scopes are."""

from __future__ import annotations

import random

from codemind.variants.base import NotApplicable, Target
from codemind.variants.java.edit import Edit, Program, lines, walk

_LOCAL_DECL_PARENTS = {"formal_parameter", "spread_parameter", "catch_formal_parameter", "enhanced_for_statement",
                       "resource", "inferred_parameters"}
# Parents under which an identifier names something that is not a local: never renamed.
_FORBIDDEN_PARENTS = {"method_declaration", "constructor_declaration", "class_declaration", "interface_declaration",
                      "enum_declaration", "record_declaration", "enum_constant", "labeled_statement",
                      "break_statement", "continue_statement", "scoped_identifier", "method_reference",
                      "annotation", "marker_annotation", "element_value_pair", "annotation_type_declaration",
                      "annotation_type_element_declaration", "import_declaration", "package_declaration",
                      "module_declaration", "explicit_constructor_invocation"}


def _role(node) -> str:
    """'decl' (declares a local), 'ref' (plain reference) or 'other' (anything else)."""
    p = node.parent
    field = _field_of(node)
    if p.type == "variable_declarator" and field == "name":
        return "decl" if p.parent is not None and p.parent.type == "local_variable_declaration" else "other"
    if p.type in _LOCAL_DECL_PARENTS and (field == "name" or p.type == "inferred_parameters"):
        return "decl"
    if p.type == "lambda_expression" and field == "parameters":
        return "decl"
    if p.type in _FORBIDDEN_PARENTS:
        return "other"
    if p.type == "field_access" and field == "field":
        return "other"
    if p.type == "method_invocation" and field == "name":
        return "other"
    return "ref"


def _field_of(node) -> str | None:
    p = node.parent
    for i in range(p.child_count):
        if p.child(i).id == node.id:
            return p.field_name_for_child(i)
    return None


def renamable(prog: Program) -> dict[str, list]:
    """Identifier text -> all its occurrences, for the identifiers safe to rename, in order of
    first occurrence."""
    t = prog.target
    keep = set(t.keep_names) | ({t.entry_point} if t.entry_point else set())
    for call in t.calls:
        keep.update(w for w in call.replace("(", " ").replace(")", " ").replace(".", " ").split())
    occ: dict[str, list] = {}
    for n in walk(prog.root):
        if n.type == "identifier":
            occ.setdefault(n.text.decode(), []).append(n)
    out = {}
    for name, nodes in occ.items():
        if name in keep or any(prog.is_protected(n) for n in nodes):
            continue
        roles = [_role(n) for n in nodes]
        if "other" not in roles and "decl" in roles:
            out[name] = nodes
    return out


def _rename(target: Target, rng: random.Random, pick_name) -> str:
    prog = Program(target)
    names = renamable(prog)
    if not names:
        raise NotApplicable("no local variable or parameter to rename")
    taken: set[str] = set()
    edits = []
    for old, nodes in names.items():
        new = pick_name(prog, taken, old)
        edits += [Edit(n.start_byte, n.end_byte, new) for n in nodes]
    return prog.apply(edits)


def rename_neutral(target: Target, rng: random.Random) -> str:
    """Locals and parameters become v0, v1, ... (in order of first occurrence; the numbering
    skips names already in the program)."""
    counter = iter(range(1_000_000))

    def pick(prog: Program, taken: set[str], old: str) -> str:
        while True:
            name = f"v{next(counter)}"
            if name not in prog.words and name not in taken:
                taken.add(name)
                return name

    return _rename(target, rng, pick)


def rename_misleading(target: Target, rng: random.Random) -> str:
    """Locals and parameters get plausible names that suggest another meaning (a seeded draw
    from misleading_names.txt; never the old name, never one already in the program)."""
    pool = lines("misleading_names.txt")
    rng.shuffle(pool)
    queue = iter(pool)

    def pick(prog: Program, taken: set[str], old: str) -> str:
        for name in queue:
            if name != old and name not in prog.words and name not in taken:
                taken.add(name)
                return name
        return prog.fresh("value", taken)

    return _rename(target, rng, pick)
