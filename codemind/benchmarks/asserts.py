"""Turn a benchmark's test asserts into (call expression, stated expected value) pairs.

HumanEval's ``check(candidate)`` and MBPP's ``test_list`` state a program's inputs only as
asserts. Output prediction needs a single call whose value is the answer, so each assert is
read with ``ast`` and kept only when it is one top-level call of the program under test,
with its original argument text (so string quotes and number spellings survive). Asserts
that cannot be reduced that way (inside loops, several calls, names bound by test code) are
returned as skipped with a reason, so adapters can count and report them instead of hiding
them.

Relations between the call and what the assert states:
  eq      ``f(x) == LIT`` (either side, or ``is``): label = LIT
  approx  ``math.isclose(f(x), LIT)`` / ``abs(f(x) - LIT) < TOL``: label = LIT, tol
  truthy  ``assert f(x)``;  falsy ``assert not f(x)``: no label (value only truth-tested)
  under   ``W(f(x)) == W(LIT)`` or ``W(f(x)) == LIT`` for a builtin W (set, sorted, tuple,
          int, ...): no label (the value is only stated up to W); wrapper = W and
          expected = the right-hand side text, so ground truth can still check it
  other   the call inside any other check (``f(x) == a + b``, ``f(x) > 0``): no label

Where a stated value is constant arithmetic (``2.0/3.0``) it is folded to its repr.
"""

from __future__ import annotations

import ast
import builtins
import warnings
from dataclasses import dataclass, field
from typing import Collection, Literal

from codemind.errors import UserError
from codemind.schema import TestInput

Relation = Literal["eq", "approx", "truthy", "falsy", "under", "other"]

# Builtins a stated value may be wrapped in (``set(f(x)) == set([1, 2])``); pure and safe.
WRAPPERS = frozenset({"set", "frozenset", "sorted", "tuple", "list", "int", "float", "str", "bool", "dict"})

BUILTIN_NAMES = frozenset(dir(builtins))


@dataclass(frozen=True)
class ParsedAssert:
    call: str  # call expression, callee renamed (e.g. candidate -> has_close_elements)
    callee: str  # the function called, after renaming
    label: str | None  # source text of the stated literal (eq / approx), else None
    relation: Relation
    text: str  # the whole assert statement as written
    tol: float | None = None  # tolerance for approx (None: math.isclose defaults)
    wrapper: str | None = None  # relation "under": the builtin both sides are compared under
    expected: str | None = None  # relation "under": the right-hand side as written

    def as_meta(self, index: int) -> dict:
        """Per-input record stored in Program.meta["asserts"] for ground truth and tests."""
        return {
            "index": index,
            "assert": self.text,
            "relation": self.relation,
            "tol": self.tol,
            "wrapper": self.wrapper,
            "expected": self.expected,
        }


@dataclass(frozen=True)
class Skipped:
    text: str
    reason: str


@dataclass
class ParseResult:
    asserts: list[ParsedAssert] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    no_call: int = 0  # asserts that never call the program (``assert True``): not inputs


def parse_module(source: str) -> ast.Module:
    """ast.parse without the invalid-escape warnings old benchmark code triggers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return ast.parse(source)


def is_literal(text: str) -> bool:
    try:
        ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return True


def top_level_names(source: str) -> set[str]:
    """Names a module binds at top level (defs, classes, imports, assignments)."""
    try:
        tree = parse_module(source)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                names.add((a.asname or a.name).split(".")[0])
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                names.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
            # conditional definitions (``try: import x``) still bind at top level
            for sub in ast.walk(node):
                if isinstance(sub, (ast.FunctionDef, ast.ClassDef)):
                    names.add(sub.name)
                elif isinstance(sub, (ast.Import, ast.ImportFrom)):
                    names.update((a.asname or a.name).split(".")[0] for a in sub.names)
                elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    names.add(sub.id)
    return names


def _free_names(expr: ast.AST) -> set[str]:
    """Names an expression reads that it does not bind itself (lambda args, comprehensions)."""
    loads: set[str] = set()
    bound: set[str] = set()
    for n in ast.walk(expr):
        if isinstance(n, ast.Name):
            (loads if isinstance(n.ctx, ast.Load) else bound).add(n.id)
        elif isinstance(n, ast.arg):
            bound.add(n.arg)
    return loads - bound


def _calls_to(node: ast.AST, funcs: Collection[str]) -> list[ast.Call]:
    return [
        n
        for n in ast.walk(node)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in funcs
    ]


def _outermost(calls: list[ast.Call]) -> list[ast.Call]:
    """Calls not nested inside another of the given calls."""
    if len(calls) < 2:
        return calls
    inner = {id(c2) for c in calls for c2 in ast.walk(c) if c2 is not c and isinstance(c2, ast.Call)}
    return [c for c in calls if id(c) not in inner]


def _is_isclose(node: ast.AST) -> bool:
    f = node.func if isinstance(node, ast.Call) else None
    return (isinstance(f, ast.Attribute) and f.attr == "isclose") or (
        isinstance(f, ast.Name) and f.id == "isclose"
    )


@dataclass(frozen=True)
class _Rel:
    relation: Relation
    label: str | None = None
    tol: float | None = None
    wrapper: str | None = None
    expected: str | None = None


_FOLD_OPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
}


def _fold(node: ast.AST) -> int | float | None:
    """Value of constant arithmetic over numbers (``2.0/3.0``, ``-1``), else None."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _fold(node.operand)
        return None if v is None else (-v if isinstance(node.op, ast.USub) else v)
    if isinstance(node, ast.BinOp) and type(node.op) in _FOLD_OPS:
        a, b = _fold(node.left), _fold(node.right)
        if a is None or b is None:
            return None
        try:
            return _FOLD_OPS[type(node.op)](a, b)
        except ArithmeticError:
            return None
    return None


def _relation(test: ast.expr, call: ast.Call, src: str) -> _Rel:
    """How the assert's test relates the call to a stated value."""

    def seg(n: ast.AST) -> str:
        return ast.get_source_segment(src, n) or ast.unparse(n)

    def literal_label(n: ast.AST) -> str | None:
        s = seg(n)
        if is_literal(s):
            return s
        v = _fold(n)
        return repr(v) if v is not None else None

    if test is call:
        return _Rel("truthy")
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and test.operand is call:
        return _Rel("falsy")
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        left, op, right = test.left, test.ops[0], test.comparators[0]
        if isinstance(op, (ast.Eq, ast.Is)) and call in (left, right):
            label = literal_label(right if left is call else left)
            return _Rel("eq", label) if label is not None else _Rel("other")
        # W(f(x)) == W(LIT)  or  W(f(x)) == LIT
        if (
            isinstance(op, ast.Eq)
            and isinstance(left, ast.Call)
            and isinstance(left.func, ast.Name)
            and left.func.id in WRAPPERS
            and left.args == [call]
            and not left.keywords
        ):
            w = left.func.id
            inner = (
                right.args[0]
                if isinstance(right, ast.Call)
                and isinstance(right.func, ast.Name)
                and right.func.id == w
                and len(right.args) == 1
                and not right.keywords
                else right
            )
            if is_literal(seg(inner)):
                return _Rel("under", wrapper=w, expected=seg(right))
        # abs(f(x) - LIT) < TOL   (or <=)
        if (
            isinstance(op, (ast.Lt, ast.LtE))
            and isinstance(left, ast.Call)
            and isinstance(left.func, ast.Name)
            and left.func.id == "abs"
            and len(left.args) == 1
            and isinstance(left.args[0], ast.BinOp)
            and isinstance(left.args[0].op, ast.Sub)
            and call in (left.args[0].left, left.args[0].right)
        ):
            diff = left.args[0]
            label = literal_label(diff.right if diff.left is call else diff.left)
            tol = _fold(right)
            if label is not None and tol is not None:
                return _Rel("approx", label, float(tol))
    if isinstance(test, ast.Call) and _is_isclose(test) and len(test.args) == 2 and call in test.args:
        label = literal_label(test.args[1] if test.args[0] is call else test.args[0])
        if label is not None:
            tols = [_fold(k.value) for k in test.keywords if k.arg in ("rel_tol", "abs_tol")]
            tol = max((float(t) for t in tols if t is not None), default=None)
            return _Rel("approx", label, tol)
    return _Rel("other")


def parse_assert(
    stmt: ast.Assert,
    src: str,
    funcs: Collection[str],
    allowed_names: Collection[str],
    rename: dict[str, str] | None = None,
) -> ParsedAssert | Skipped | None:
    """One assert statement -> ParsedAssert, Skipped (with reason), or None when it does
    not call any of ``funcs`` at all (``assert True``)."""
    text = ast.get_source_segment(src, stmt) or ast.unparse(stmt)
    calls = _calls_to(stmt.test, funcs)
    if not calls:
        return None
    outer = _outermost(calls)
    if len(outer) != 1:
        return Skipped(text, f"{len(outer)} calls of the program in one assert")
    call = outer[0]
    allowed = set(allowed_names) | BUILTIN_NAMES | set(funcs)
    free = _free_names(call) - allowed
    if free:
        return Skipped(text, f"call uses names bound by test code: {', '.join(sorted(free))}")
    rel = _relation(stmt.test, call, src)
    name = call.func.id  # type: ignore[attr-defined]
    new_name = (rename or {}).get(name, name)
    # keep the original argument text; rename every call of a renamed function in it
    call_text = _rename_all(call, src, rename or {})
    # "is_Diff (12345)" -> "is_Diff(12345)": calls start with "name(" (tasks cut the args out)
    call_text = new_name + call_text[len(new_name):].lstrip()
    return ParsedAssert(
        call=call_text,
        callee=new_name,
        label=rel.label,
        relation=rel.relation,
        text=text,
        tol=rel.tol,
        wrapper=rel.wrapper,
        expected=rel.expected,
    )


def _rename_all(call: ast.Call, src: str, rename: dict[str, str]) -> str:
    """The call's source text with each ``old(`` callee in ``rename`` replaced."""
    base = ast.get_source_segment(src, call) or ast.unparse(call)
    if not rename:
        return base
    start_line, start_col = call.lineno, call.col_offset
    lines = src.splitlines(keepends=True)

    def offset(line: int, col: int) -> int:  # absolute offset of (line, col) in src
        return sum(len(ln.encode()) for ln in lines[: line - 1]) + col

    origin = offset(start_line, start_col)
    raw = base.encode()
    edits = sorted(
        (
            (offset(n.func.lineno, n.func.col_offset) - origin, n.func.id)
            for n in ast.walk(call)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in rename
        ),
        reverse=True,
    )
    for pos, old in edits:
        raw = raw[:pos] + rename[old].encode() + raw[pos + len(old.encode()):]
    return raw.decode()


_BLOCKS = (ast.For, ast.AsyncFor, ast.While, ast.If, ast.With, ast.AsyncWith, ast.Try, ast.FunctionDef)


def parse_statements(
    body: list[ast.stmt],
    src: str,
    funcs: Collection[str],
    allowed_names: Collection[str],
    rename: dict[str, str] | None = None,
) -> ParseResult:
    """Asserts at the top level of ``body``; asserts nested in blocks are skipped."""
    out = ParseResult()
    for stmt in body:
        if isinstance(stmt, ast.Assert):
            r = parse_assert(stmt, src, funcs, allowed_names, rename)
            if r is None:
                out.no_call += 1
            elif isinstance(r, Skipped):
                out.skipped.append(r)
            else:
                out.asserts.append(r)
        elif isinstance(stmt, _BLOCKS):
            kind = type(stmt).__name__.lower()
            for n in ast.walk(stmt):
                if isinstance(n, ast.Assert):
                    text = ast.get_source_segment(src, n) or ast.unparse(n)
                    if _calls_to(n.test, funcs):
                        out.skipped.append(Skipped(text, f"inside a {kind} block"))
                    else:
                        out.no_call += 1
    return out


def parse_check_function(test_src: str, entry_point: str, source: str) -> ParseResult:
    """HumanEval: the asserts of ``def check(candidate)``, candidate renamed to the entry point.
    Names the program's source binds (helper functions in the prompt) may appear in calls;
    names bound inside ``check`` (loop variables, locals) may not."""
    tree = parse_module(test_src)
    check = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"), None
    )
    if check is None:
        return ParseResult(skipped=[Skipped("", "no check function")])
    param = check.args.args[0].arg if check.args.args else "candidate"
    allowed = top_level_names(source)
    funcs = {param, entry_point}
    return parse_statements(check.body, test_src, funcs, allowed, rename={param: entry_point})


def parse_assert_list(
    asserts: list[str], funcs: Collection[str], allowed_names: Collection[str]
) -> ParseResult:
    """MBPP: a list of one-line assert strings calling one of ``funcs``."""
    out = ParseResult()
    for text in asserts:
        try:
            tree = parse_module(text.strip())
        except SyntaxError as e:
            out.skipped.append(Skipped(text, f"syntax error: {e.msg}"))
            continue
        r = parse_statements(tree.body, text.strip(), funcs, allowed_names)
        if not tree.body or not isinstance(tree.body[0], ast.Assert):
            r.skipped.append(Skipped(text, "not an assert statement"))
        out.asserts += r.asserts
        out.skipped += r.skipped
        out.no_call += r.no_call
    return out


INPUT_MODES = ("first", "all")


def input_mode(options: dict) -> str:
    """The ``inputs`` option of assert-based adapters: "first" (CodeMind's choice) or "all"."""
    mode = options.get("inputs") or "first"
    if mode not in INPUT_MODES:
        raise UserError(f"unknown inputs option '{mode}' (known: {', '.join(INPUT_MODES)})")
    return mode


def to_inputs(parsed: ParseResult, mode: str) -> tuple[list[TestInput], dict]:
    """TestInputs (first usable assert, or all) and the meta that records how they were read."""
    chosen = parsed.asserts[:1] if mode == "first" else parsed.asserts
    inputs = [TestInput(index=i, call=a.call, label=a.label) for i, a in enumerate(chosen)]
    meta = {
        "asserts": [a.as_meta(i) for i, a in enumerate(chosen)],
        "skipped_asserts": [{"assert": s.text, "reason": s.reason} for s in parsed.skipped],
        "usable_asserts": len(parsed.asserts),
    }
    return inputs, meta
