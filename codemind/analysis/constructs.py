"""Program constructs of Python source, from the `ast`: what the CodeMind paper breaks accuracy down by.

One pass over the tree gives: which constructs occur (for, while, if, nested if, nested loop,
recursion, try, match, comprehension, lambda, generator), McCabe cyclomatic complexity, lines
of code and maximum nesting depth. Definitions, chosen to be checkable by hand:

- *nested loop*: a loop inside the body of another loop at any depth, through if/try/with
  blocks but not through a nested ``def``/``class``. Comprehension ``for`` clauses count as
  loops here, so ``[.. for a in x for b in y]`` and a comprehension inside a ``for`` are nested.
- *nested if*: an ``if`` inside the body (or else branch) of another ``if``; an ``elif``
  is a flat chain, not nesting. Conditional expressions are not ifs.
- *recursion*: a cycle in the call graph of the program's own functions and methods
  (``f()``, ``self.f()``, ``cls.f()``, ``ClassName.f()``); *direct* if a function calls
  itself, *mutual* if the cycle has several functions.
- *cyclomatic*: 1 + decision points (if/elif, loops, except handlers, match cases,
  conditional expressions, comprehension conditions, each extra operand of and/or, assert).
- *loc*: non-blank lines that are not only a comment. *max_nesting*: deepest stack of
  control blocks (if/for/while/try/with/match), functions and classes not counted.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

CONSTRUCTS: tuple[str, ...] = (
    "for",
    "while",
    "do_while",
    "if",
    "nested_if",
    "nested_loop",
    "recursion",
    "try",
    "switch",
    "comprehension",
    "lambda",
    "generator",
)


@dataclass
class Analysis:
    """Constructs and metrics of one program (both languages share this shape)."""

    constructs: list[str]
    counts: dict[str, int]
    recursion: str  # "none", "direct" or "mutual"
    cyclomatic: int
    loc: int
    max_nesting: int
    functions: int
    parse_error: str | None = None

    def as_dict(self) -> dict:
        return {
            "constructs": list(self.constructs),
            "counts": dict(self.counts),
            "recursion": self.recursion,
            "cyclomatic": self.cyclomatic,
            "loc": self.loc,
            "max_nesting": self.max_nesting,
            "functions": self.functions,
            "parse_error": self.parse_error,
        }


def count_loc(source: str, comment: str = "#") -> int:
    return sum(1 for line in source.splitlines() if line.strip() and not line.strip().startswith(comment))


def recursion_kind(graph: dict[str, set[str]]) -> str:
    """"direct" if some function calls itself, else "mutual" if the call graph has a cycle."""
    if any(name in callees for name, callees in graph.items()):
        return "direct"
    # iterative DFS cycle detection over the program's own functions
    state: dict[str, int] = {}
    for root in graph:
        if state.get(root):
            continue
        stack = [(root, iter(sorted(graph[root])))]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif nxt in graph:
                s = state.get(nxt, 0)
                if s == 1:
                    return "mutual"
                if s == 0:
                    state[nxt] = 1
                    stack.append((nxt, iter(sorted(graph[nxt]))))
    return "none"


_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_COMPS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_BLOCKS = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.With, ast.AsyncWith, ast.Match)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_TRY = (ast.Try,) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ())


@dataclass
class _State:
    counts: dict[str, int] = field(default_factory=lambda: {c: 0 for c in CONSTRUCTS})
    cyclomatic: int = 1
    max_nesting: int = 0
    graph: dict[str, set[str]] = field(default_factory=dict)
    classes: set[str] = field(default_factory=set)


def analyze_python(source: str) -> Analysis:
    """Constructs and metrics of a Python program; a syntax error gives an empty analysis
    with ``parse_error`` set (e.g. the Python 2 programs in CodeNet)."""
    loc = count_loc(source)
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError) as e:
        return Analysis([], {c: 0 for c in CONSTRUCTS}, "none", 0, loc, 0, 0, parse_error=f"{type(e).__name__}: {e}")
    st = _State()
    st.classes = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    _visit(tree, st, loop_depth=0, if_parent=False, nesting=0, func=None)
    rec = recursion_kind(st.graph)
    if rec != "none":
        st.counts["recursion"] = 1
    constructs = [c for c in CONSTRUCTS if st.counts[c] > 0]
    return Analysis(constructs, st.counts, rec, st.cyclomatic, loc, st.max_nesting, len(st.graph))


def _called_name(call: ast.Call, classes: set[str]) -> str | None:
    fn = call.func
    if isinstance(fn, ast.Name):
        return fn.id
    if isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name):
        if fn.value.id in ("self", "cls") or fn.value.id in classes:
            return fn.attr
    return None


def _visit(node: ast.AST, st: _State, loop_depth: int, if_parent: bool, nesting: int, func: str | None) -> None:
    c = st.counts
    for child in ast.iter_child_nodes(node):
        ld, ifp, nest, fn = loop_depth, False, nesting, func
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            fn = child.name
            st.graph.setdefault(fn, set())
            ld, nest = 0, 0
            if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in _own_nodes(child)):
                c["generator"] += 1
        elif isinstance(child, ast.ClassDef):
            ld, nest = 0, 0
        elif isinstance(child, ast.Lambda):
            c["lambda"] += 1
        if isinstance(child, _BLOCKS):
            nest = nesting + 1
            st.max_nesting = max(st.max_nesting, nest)
        if isinstance(child, _LOOPS):
            c["while" if isinstance(child, ast.While) else "for"] += 1
            if loop_depth > 0:
                c["nested_loop"] += 1
            st.cyclomatic += 1
            ld = loop_depth + 1
        elif isinstance(child, _COMPS):
            c["comprehension"] += 1
            gens = len(child.generators)
            if loop_depth > 0 or gens > 1:
                c["nested_loop"] += 1
            st.cyclomatic += gens + sum(len(g.ifs) for g in child.generators)
            ld = loop_depth + 1
        elif isinstance(child, ast.If):
            c["if"] += 1
            st.cyclomatic += 1
            if if_parent and not _is_elif(node, child):
                c["nested_if"] += 1
            ifp = True
        elif isinstance(child, _TRY):
            c["try"] += 1
            st.cyclomatic += len(child.handlers)
        elif isinstance(child, ast.Match):
            c["switch"] += 1
            st.cyclomatic += len(child.cases)
        elif isinstance(child, ast.IfExp) or isinstance(child, ast.Assert):
            st.cyclomatic += 1
        elif isinstance(child, ast.BoolOp):
            st.cyclomatic += len(child.values) - 1
        elif isinstance(child, ast.Call) and func is not None:
            name = _called_name(child, st.classes)
            if name is not None:
                st.graph[func].add(name)
        # an if's children inherit "inside an if"; other blocks pass it through only for
        # plain statements (an if inside a loop inside an if is still a nested if)
        if not isinstance(child, ast.If) and not isinstance(child, _SCOPES):
            ifp = if_parent
        _visit(child, st, ld, ifp, nest, fn)


def _is_elif(parent: ast.AST, child: ast.If) -> bool:
    return isinstance(parent, ast.If) and len(parent.orelse) == 1 and parent.orelse[0] is child


def _own_nodes(fn: ast.AST):
    """Nodes of a function body, not entering nested functions, classes or lambdas."""
    stack = list(ast.iter_child_nodes(fn))
    while stack:
        n = stack.pop()
        yield n
        if not isinstance(n, _SCOPES):
            stack.extend(ast.iter_child_nodes(n))
