"""Declared types of names, by text: enough for the transforms that must know whether an
operand is an int, a double or a String (compound assignment casts; ``+`` concatenates)."""

from __future__ import annotations

from codemind.variants.java.edit import Program, walk

NUMERIC = {"int", "long", "short", "byte", "double", "float", "char"}


def declared_types(prog: Program) -> dict[str, str | None]:
    """Name -> its declared type text when every declaration of that name (locals, fields,
    parameters, anywhere) has the same one; None when they disagree."""
    out: dict[str, str | None] = {}

    def note(name: str, typ: str) -> None:
        out[name] = typ if out.get(name, typ) == typ else None

    for n in prog.nodes("local_variable_declaration", "field_declaration"):
        typ = n.child_by_field_name("type")
        for d in n.named_children:
            if d.type == "variable_declarator":
                dims = d.child_by_field_name("dimensions")
                note(prog.text(d.child_by_field_name("name")), prog.text(typ) + ("[]" if dims is not None else ""))
    for n in prog.nodes("formal_parameter", "catch_formal_parameter", "enhanced_for_statement"):
        typ, name = n.child_by_field_name("type"), n.child_by_field_name("name")
        if typ is not None and name is not None:
            note(prog.text(name), prog.text(typ))
    for n in prog.nodes("identifier"):  # lambda parameters and the like: type unknown
        if n.parent.type in ("inferred_parameters", "lambda_expression", "resource"):
            out[prog.text(n)] = None
    return out


def is_simple(prog: Program, node) -> bool:
    """No side effect, no call: identifiers, literals, field/array access, arithmetic, parens."""
    ok = {"identifier", "decimal_integer_literal", "decimal_floating_point_literal", "character_literal",
          "field_access", "array_access", "binary_expression", "parenthesized_expression", "unary_expression",
          "this", "true", "false"}
    return all(n.type in ok or not n.is_named for n in walk(node))
