"""Program constructs of Java source via tree-sitter (tree-sitter >= 0.22 API), same shape as
the Python analysis (codemind.analysis.constructs), same definitions where Java has the construct:

- loops: ``for``, enhanced ``for`` (both "for"), ``while``, ``do``-``while`` ("do_while");
  *nested loop*: a loop inside another loop's body at any depth, not through a nested class
  or lambda.
- *nested if*: an ``if`` inside another ``if``'s branches; ``else if`` is a flat chain.
- *switch*: switch statements and switch expressions; *try*: try, try-with-resources.
- *lambda*: lambda expressions and method references. Java has no comprehensions or
  generators, so those are never set.
- *recursion*: a cycle in the call graph of the program's own methods, by name
  (``f()``, ``this.f()``, ``ClassName.f()``); overloads share a node.
- *cyclomatic*: 1 + if, loops, ``case`` labels, catch clauses, ``?:``, each ``&&``/``||``.
"""

from __future__ import annotations

from functools import lru_cache

from codemind.analysis.constructs import CONSTRUCTS, Analysis, count_loc, recursion_kind

_LOOPS = {"for_statement": "for", "enhanced_for_statement": "for", "while_statement": "while",
          "do_statement": "do_while"}
_BLOCKS = set(_LOOPS) | {"if_statement", "try_statement", "try_with_resources_statement", "switch_expression",
                         "switch_statement", "synchronized_statement"}
_SCOPES = {"class_declaration", "interface_declaration", "enum_declaration", "record_declaration",
           "class_body", "lambda_expression", "method_declaration", "constructor_declaration"}
_METHODS = {"method_declaration", "constructor_declaration"}


@lru_cache(maxsize=1)
def _parser():
    try:
        import tree_sitter as ts
        import tree_sitter_java as tsj
    except ImportError as e:  # pragma: no cover - depends on the [analysis] extra
        raise ImportError("Java analysis needs tree-sitter and tree-sitter-java: pip install 'codemind[analysis]'") from e
    return ts.Parser(ts.Language(tsj.language()))


def analyze_java(source: str) -> Analysis:
    """Constructs and metrics of a Java program. tree-sitter always returns a tree; a program
    with syntax errors is still analysed and ``parse_error`` says where the first error is."""
    tree = _parser().parse(source.encode("utf-8"))
    root = tree.root_node
    counts = {c: 0 for c in CONSTRUCTS}
    graph: dict[str, set[str]] = {}
    classes: set[str] = set()
    state = {"cyclomatic": 1, "max_nesting": 0}

    def walk_classes(n) -> None:
        stack = [n]
        while stack:
            x = stack.pop()
            if x.type in ("class_declaration", "interface_declaration", "enum_declaration", "record_declaration"):
                name = x.child_by_field_name("name")
                if name is not None:
                    classes.add(name.text.decode())
            stack.extend(x.children)

    walk_classes(root)

    # explicit stack: (node, loop_depth, inside_if, nesting, method)
    stack = [(root, 0, False, 0, None)]
    while stack:
        node, loop_depth, in_if, nesting, method = stack.pop()
        t = node.type
        ld, ifp, nest, m = loop_depth, in_if, nesting, method
        if t in _METHODS:
            name = node.child_by_field_name("name")
            m = name.text.decode() if name is not None else None
            if m is not None:
                graph.setdefault(m, set())
            ld, ifp, nest = 0, False, 0
        elif t in ("class_body", "lambda_expression"):
            ld, ifp, nest = 0, False, 0
        if t in ("lambda_expression", "method_reference"):
            counts["lambda"] += 1
        if t in _BLOCKS:
            nest = nesting + 1
            state["max_nesting"] = max(state["max_nesting"], nest)
        if t in _LOOPS:
            counts[_LOOPS[t]] += 1
            if loop_depth > 0:
                counts["nested_loop"] += 1
            state["cyclomatic"] += 1
            ld = loop_depth + 1
        elif t == "if_statement":
            counts["if"] += 1
            state["cyclomatic"] += 1
            parent = node.parent
            is_elif = parent is not None and parent.type == "if_statement" and \
                parent.child_by_field_name("alternative") == node
            if in_if and not is_elif:
                counts["nested_if"] += 1
            ifp = True
        elif t in ("try_statement", "try_with_resources_statement"):
            counts["try"] += 1
        elif t == "catch_clause":
            state["cyclomatic"] += 1
        elif t in ("switch_expression", "switch_statement"):
            counts["switch"] += 1
        elif t == "switch_label":
            if node.text.decode().lstrip().startswith("case"):
                state["cyclomatic"] += 1
        elif t == "ternary_expression":
            state["cyclomatic"] += 1
        elif t == "binary_expression":
            op = node.child_by_field_name("operator")
            if op is not None and op.type in ("&&", "||"):
                state["cyclomatic"] += 1
        elif t == "method_invocation" and method is not None:
            obj = node.child_by_field_name("object")
            name = node.child_by_field_name("name")
            if name is not None and (obj is None or obj.type == "this" or obj.text.decode() in classes):
                graph[method].add(name.text.decode())
        for child in reversed(node.children):
            stack.append((child, ld, ifp, nest, m))

    rec = recursion_kind(graph)
    if rec != "none":
        counts["recursion"] = 1
    parse_error = None
    if root.has_error:
        err = _first_error(root)
        parse_error = f"syntax error near line {err + 1}" if err is not None else "syntax error"
    constructs = [c for c in CONSTRUCTS if counts[c] > 0]
    return Analysis(constructs, counts, rec, state["cyclomatic"], count_loc(source, "//"), state["max_nesting"],
                    len(graph), parse_error=parse_error)


def _first_error(root) -> int | None:
    stack = [root]
    while stack:
        n = stack.pop()
        if n.type == "ERROR" or n.is_missing:
            return n.start_point[0]
        stack.extend(reversed(n.children))
    return None
