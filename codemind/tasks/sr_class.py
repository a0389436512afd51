"""SR on one method of a class (ClassEval): what SR asks and shows when a program is a class's
method (``meta["class_name"]``, benchmarks/classeval.py) rather than a function with a spec.

- The problem is the class with the method's body replaced by ``pass`` (``meta["skeleton"]``:
  signature, docstring and every other method kept) and the method's name; prompts
  ``classeval-with-test`` / ``classeval-no-test`` (prompts/sr/).
- with_test shows one test method of the method's unittest tests (``meta["tests"]``): the
  first that has an assert with a literal expected value (else the first), as written.
- misleading_test shows the same test method with that literal mutated (tasks/mutate.py's
  ``mutate_value``, seeded by (seed, benchmark, program id)); a test whose first assert is
  ``assertTrue``/``assertFalse``/``assertIsNone``/``assertIsNotNone`` gets its opposite.
- The answer (the whole class, or only the method: judges/unittest_checks.class_under_test
  splices it in) is judged by all of the method's tests (judge ``tests``), split into checks
  decided in the judge. Problems whose tests cannot be split are left out, with the reason.
"""

from __future__ import annotations

import ast
import random

from codemind.judges.unittest_checks import ASSERTS, plan_unittest
from codemind.schema import Item, Program
from codemind.tasks.base import NO_SHOWN_TEST, NO_TESTS, TaskBuilder
from codemind.tasks.mutate import mutated_repr

WITH_TEST, NO_TEST = "classeval-with-test", "classeval-no-test"
_OPPOSITE = {"assertTrue": "assertFalse", "assertFalse": "assertTrue", "assertIsNone": "assertIsNotNone",
             "assertIsNotNone": "assertIsNone"}


def is_class_method(program: Program) -> bool:
    return bool(program.meta.get("class_name") and program.meta.get("method"))


def problem(program: Program) -> str | None:
    """Why SR cannot ask about this class method (None: it can)."""
    tests = program.meta.get("tests") or ""
    plan = plan_unittest(tests)
    if not plan.complete:
        return f"{NO_TESTS}: the unittest tests cannot be judged as checks ({plan.reason})"
    if shown_test(program) is None:
        return f"{NO_SHOWN_TEST}: no test method with an assert"
    return None


def _test_methods(tests: str) -> list[tuple[ast.FunctionDef, str]]:
    tree = ast.parse(tests)
    out = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for fn in node.body:
                if isinstance(fn, ast.FunctionDef) and fn.name.startswith("test"):
                    out.append((fn, ast.get_source_segment(tests, fn, padded=True) or ast.unparse(fn)))
    return out


def _first_assert(fn: ast.FunctionDef) -> ast.Call | None:
    for n in ast.walk(fn):
        if (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ASSERTS
                and isinstance(n.func.value, ast.Name) and n.func.value.id == "self"):
            return n
    return None


def _literal_arg(call: ast.Call) -> ast.expr | None:
    for arg in reversed(call.args[:2]):  # ClassEval writes assertEqual(actual, expected)
        try:
            ast.literal_eval(arg)
            return arg
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    return None


def shown_test(program: Program) -> str | None:
    """The test method a with_test prompt shows, dedented."""
    import textwrap

    methods = _test_methods(program.meta.get("tests") or "")
    with_assert = [(fn, text) for fn, text in methods if _first_assert(fn) is not None]
    literal = [(fn, text) for fn, text in with_assert if _literal_arg(_first_assert(fn)) is not None]  # type: ignore[arg-type]
    chosen = (literal or with_assert or [None])[0]
    return textwrap.dedent(chosen[1]).strip("\n") if chosen else None


def mutate_test(test: str, rng: random.Random) -> tuple[str, str, str] | None:
    """(misleading test, original text, mutated text) for the test's first assert, or None."""
    try:
        tree = ast.parse(test)
    except SyntaxError:
        return None
    fn = tree.body[0] if tree.body and isinstance(tree.body[0], ast.FunctionDef) else None
    call = _first_assert(fn) if fn else None
    if call is None:
        return None
    name = call.func.attr  # type: ignore[attr-defined]
    node: ast.AST
    if name in _OPPOSITE:
        node, new = call.func, f"self.{_OPPOSITE[name]}"
    else:
        arg = _literal_arg(call)
        if arg is None:
            return None
        new = mutated_repr(ast.literal_eval(arg), rng)
        if new is None:
            return None
        node = arg
    old = ast.get_source_segment(test, node) or ""
    start, end = _offset(test, node.lineno, node.col_offset), _offset(test, node.end_lineno, node.end_col_offset)
    return test[:start] + new + test[end:], old, new


def _offset(text: str, lineno: int, col: int) -> int:
    lines = text.splitlines(keepends=True)
    return sum(len(line) for line in lines[: lineno - 1]) + len(lines[lineno - 1].encode()[:col].decode())


def item(builder: TaskBuilder, program: Program, prompt_id: str, stage: str, test: str | None) -> Item:
    spec = builder.prompt_spec(prompt_id)
    values = {"spec": program.meta["skeleton"].strip("\n"), "method": program.meta["method"]}
    if test is not None:
        values["test"] = test
    it = builder._item(program, program.inputs[0], None, spec, expected_in_prompt=False,
                       answer_kind="code", stage=stage, extra=values)
    context = {**it.context, "shown_test": test, "class_name": program.meta["class_name"],
               "method": program.meta["method"], "class_source": program.meta.get("class_source")}
    return it.model_copy(update={"context": context})
