"""A benchmark's tests as checks: (call, test) pairs the judge can decide in its own process.

HumanEval's ``check(candidate)`` and MBPP's asserts are written to run in the same process as
the code they test, which is what lets that code defeat them (exit 0, always-equal objects,
patched ``abs``...). Here each assert is split into the call of the code under test, run in the
sandbox with its result sent back as a plain value, and the rest of the assert, evaluated by
judges/hosteval.py with that value bound:

    assert abs(candidate(1.5) - 0.5) < 1e-6   ->   call  truncate_number(1.5)
                                                   test  abs(__v0__ - 0.5) < 1e-6

A test is *complete* when every statement is accounted for: asserts that convert (one or more
outermost calls of the code under test, the rest within hosteval's language), asserts without
such a call that hold on their own (``assert True``), module-level set-up without asserts
(imports, assignments, classes: run in the sandbox after the code and before the calls, as the
original test file ran after the code; the calls may use what it binds, the judged part of an
assert may not), docstrings, ``print``, ``pass``, and HumanEval's ``def check(candidate)`` with
its ``check(entry_point)`` driver. Anything else (loops or local variables inside check(), an
assert whose judged part needs set-up names) makes the test incomplete: it is then run whole
by judges/test_harness.py, with the code under test in a process of its own.

Measured on the benchmarks' reference solutions: HumanEval 157 of 164 problems complete (1,099
checks), MBPP 426 of 427 (1,321), MBPP-full 973 of 974 (2,919).
"""

from __future__ import annotations

import ast
import builtins
import functools
import warnings
from dataclasses import dataclass, field

from codemind.judges.hosteval import evaluate, supported
from codemind.judges.purity import program_names

PLACEHOLDER = "__v{}__"


@dataclass(frozen=True)
class Check:
    call: str  # evaluated in the sandbox, in the namespace of the code under test
    test: str  # evaluated by hosteval with __v0__, __v1__, ... bound to the calls' values
    calls: tuple[str, ...] = ()  # every call of the test, in order (call is calls[0])
    text: str = ""  # the assert as written


@dataclass(frozen=True)
class TestPlan:
    __test__ = False  # not a pytest class

    checks: tuple[Check, ...]
    setup: str  # test-file statements to run after the code and before the calls
    candidates: tuple[str, ...]  # the functions of the code under test the tests call
    complete: bool
    reason: str | None = None  # why the test is incomplete
    unused: tuple[str, ...] = field(default=())  # statements ignored (docstrings, prints)


def _parse(source: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _segment(src: str, node: ast.AST) -> str:
    return ast.get_source_segment(src, node) or ast.unparse(node)


def _outer_calls(node: ast.AST, funcs: set[str]) -> list[ast.Call]:
    """Calls of funcs not nested in another such call, in source order."""
    found: list[ast.Call] = []

    def visit(n: ast.AST) -> None:
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in funcs:
            found.append(n)
            return
        for child in ast.iter_child_nodes(n):
            visit(child)

    visit(node)
    return found


class _Replace(ast.NodeTransformer):
    def __init__(self, calls: list[ast.Call]):
        self.names = {id(c): PLACEHOLDER.format(i) for i, c in enumerate(calls)}

    def visit_Call(self, node: ast.Call):
        name = self.names.get(id(node))
        if name is not None:
            return ast.copy_location(ast.Name(id=name, ctx=ast.Load()), node)
        return self.generic_visit(node)


def _rename(src: str, call: ast.Call, rename: dict[str, str]) -> str:
    """The call's text with the callee renamed (candidate -> entry point), arguments as written."""
    text = _segment(src, call)
    if isinstance(call.func, ast.Name) and call.func.id in rename:
        head = _segment(src, call.func)
        text = rename[call.func.id] + text[len(head):]
    if any(isinstance(n, ast.Name) and n.id in rename for n in ast.walk(call) if n is not call.func):
        inner = ast.parse(text, mode="eval")
        for n in ast.walk(inner):
            if isinstance(n, ast.Name) and n.id in rename:
                n.id = rename[n.id]
        text = ast.unparse(inner)
    return text


def _convert_assert(stmt: ast.Assert, src: str, funcs: set[str], rename: dict[str, str]) -> Check | str | None:
    """A Check, None for an assert that holds without calling the code, or why not convertible."""
    calls = _outer_calls(stmt.test, funcs)
    tree = ast.Expression(body=_Replace(calls).visit(stmt.test))  # our own parse: mutating it is fine
    names = {PLACEHOLDER.format(i) for i in range(len(calls))}
    why = supported(tree, names)
    if why is not None:
        return f"the assert uses {why}"
    if not calls:
        try:
            return None if evaluate(tree, {}) else "an assert that fails whatever the code does"
        except Exception as e:
            return f"an assert that raises {type(e).__name__} whatever the code does"
    texts = tuple(_rename(src, c, rename) for c in calls)
    return Check(call=texts[0], test=ast.unparse(tree), calls=texts, text=_segment(src, stmt))


@functools.lru_cache(maxsize=4096)
def plan_tests(tests: str, entry_point: str | None, reference: str = "") -> TestPlan:
    """Split a benchmark's test code into checks (see the module docstring). ``reference``: the
    benchmark's own solution, whose top-level functions are what MBPP-style asserts call."""
    tree = _parse(tests)
    if tree is None:
        return TestPlan((), "", (), False, "the tests do not parse")
    candidates = _candidates(tree, entry_point, reference)
    checks: list[Check] = []
    setup: list[str] = []
    unused: list[str] = []
    reason: str | None = None

    def body(stmts: list[ast.stmt], funcs: set[str], rename: dict[str, str], top: bool) -> None:
        nonlocal reason
        for stmt in stmts:
            if reason is not None:
                return
            text = _segment(tests, stmt)
            if isinstance(stmt, ast.Assert):
                got = _convert_assert(stmt, tests, funcs, rename)
                if isinstance(got, Check):
                    checks.append(got)
                elif isinstance(got, str):
                    reason = f"{got}: {text.splitlines()[0][:120]}"
            elif isinstance(stmt, ast.Pass) or _is_docstring_or_print(stmt):
                unused.append(text)
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                setup.append(text)
            elif top and isinstance(stmt, ast.FunctionDef) and stmt.name == "check" and entry_point:
                params = [a.arg for a in stmt.args.args]
                if len(params) != 1 or stmt.args.vararg or stmt.args.kwarg or stmt.decorator_list:
                    reason = "check() does not take exactly the candidate"
                    return
                body(stmt.body, funcs | {params[0]}, {**rename, params[0]: entry_point}, top=False)
            elif top and _is_check_driver(stmt, entry_point):
                unused.append(text)
            elif top and not any(isinstance(n, ast.Assert) for n in ast.walk(stmt)):
                setup.append(text)  # module-level set-up: runs after the code, as the test file did
            else:
                reason = f"the test runs a {type(stmt).__name__.lower()} statement: {text.splitlines()[0][:120]}"

    body(tree.body, candidates, {}, top=True)
    if reason is None and not checks:
        reason = "no assert calls the code under test"
    return TestPlan(tuple(checks), "\n".join(setup), tuple(sorted(candidates)), reason is None, reason, tuple(unused))


def _candidates(tree: ast.Module, entry_point: str | None, reference: str) -> set[str]:
    """The functions of the code under test that the tests call: HumanEval's candidate (the
    entry point); for tests without check(), the reference's functions the asserts call by
    name. Helpers the tests call that are not the solution's (HumanEval/32's poly) are not."""
    if entry_point and any(isinstance(n, ast.FunctionDef) and n.name == "check" for n in tree.body):
        return {entry_point}
    _, ref_code = program_names(reference)
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    bound_by_tests, _ = program_names(ast.unparse(tree))
    found = (set(ref_code) & called) | ({entry_point} if entry_point else set())
    if not found:  # no reference to go by: whatever the asserts call that nothing else defines
        found = called - set(dir(builtins))
    return found - bound_by_tests


def _is_docstring_or_print(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, ast.Expr):
        return False
    v = stmt.value
    if isinstance(v, ast.Constant) and isinstance(v.value, str):
        return True
    return (isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "print"
            and all(isinstance(a, ast.Constant) for a in v.args) and not v.keywords)


def _is_check_driver(stmt: ast.stmt, entry_point: str | None) -> bool:
    """HumanEval's ``check(entry_point)`` line."""
    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
        return False
    c = stmt.value
    return (isinstance(c.func, ast.Name) and c.func.id == "check" and len(c.args) == 1 and not c.keywords
            and isinstance(c.args[0], ast.Name) and c.args[0].id == entry_point)
