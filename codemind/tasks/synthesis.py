"""What DER and SR share: asking a model to write the program for a spec, with a test.

The test shown in the prompt is the program's first input written as an assert with the
dataset's stated value (CodeMind's assert.txt has the same form). The code the model writes
is judged by the benchmark's own tests (judges/tests.py).

Which programs a synthesis stage can use (`synthesis_problem`): a Python function program
with a spec (the prompt shows it) and the benchmark's tests (the judge runs them); a stage
that shows a test also needs a first input with a call and a value for it (the dataset's
label, else the executed result). Every other program is left out with its reason, which the
task records in the run manifest.
"""

from __future__ import annotations

from codemind.schema import Item, Program
from codemind.tasks.base import (NO_INPUT, NO_SHOWN_TEST, NO_SPEC, NO_TESTS, NOT_FUNCTION, NOT_PYTHON, TaskBuilder,
                                 Truth, input_problem)

SYNTHESIS_JUDGE = "tests"


def shown_test(program: Program, truth_expected: str | None) -> str | None:
    """`assert CALL == EXPECTED` for the program's first input, or None if it has none (Java:
    the test's first check as an assertion, tasks/java_synthesis.py)."""
    if program.language == "java":
        from codemind.tasks import java_synthesis

        return java_synthesis.shown_test(program)
    if not program.inputs or not program.inputs[0].call:
        return None
    inp = program.inputs[0]
    expected = inp.label if inp.label is not None else truth_expected
    return None if expected is None else f"assert {inp.call} == {expected}"


def first_truth(program: Program, truths: dict[tuple[str, int], Truth]) -> Truth | None:
    """Ground truth of the program's first input (the one a synthesis prompt shows)."""
    return truths.get((program.id, program.inputs[0].index)) if program.inputs else None


def static_problem(program: Program) -> str | None:
    """Why no synthesis stage can use this program, whatever its ground truth."""
    if program.language == "java":
        from codemind.tasks import java_synthesis

        return java_synthesis.static_problem(program)
    if program.language != "python":
        return f"{NOT_PYTHON}: {program.language}"
    if program.kind != "function":
        return f"{NOT_FUNCTION}: {program.kind} programs have no signature to implement"
    if not (program.meta.get("spec") or "").strip():
        return f"{NO_SPEC}: the benchmark states no problem to implement"
    if not program.meta.get("tests"):
        return f"{NO_TESTS}: nothing to judge written code by"
    return None


def synthesis_problem(program: Program, truths: dict[tuple[str, int], Truth], needs_run: bool) -> str | None:
    """Why a synthesis stage that shows the first input's test cannot use this program (None:
    it can). `needs_run`: the first input's ground truth must also have run (DER asks for the
    output of that input)."""
    if program.language == "java":
        from codemind.tasks import java_synthesis

        return java_synthesis.synthesis_problem(program, truths, needs_run)
    why = static_problem(program)
    if why:
        return why
    if not program.inputs:
        return input_problem(program, truths)
    if not program.inputs[0].call:
        return f"{NO_INPUT}: the first input has no call"
    truth = first_truth(program, truths)
    if needs_run:
        why = input_problem(program, truths, program.inputs[:1])
        if why:
            return why
    if shown_test(program, truth.expected if truth else None) is None:
        return f"{NO_SHOWN_TEST}: the first input has no stated or executed value"
    return None


def synthesis_item(builder: TaskBuilder, program: Program, prompt_id: str, stage: str, test: str | None) -> Item:
    if not program.inputs:  # callers select programs with synthesis_problem first
        raise ValueError(f"{program.benchmark}/{program.id} has no input to build a synthesis item on")
    spec = builder.prompt_spec(prompt_id)
    values = {"spec": program.meta.get("spec", "").strip("\n")}
    if test is not None:
        values["test"] = test
    item = builder._item(program, program.inputs[0], None, spec, expected_in_prompt=False,
                         answer_kind="code", stage=stage, extra=values)
    return item.model_copy(update={"context": {**item.context, "shown_test": test}})


def record_test_coverage(ctx, items: list[Item]) -> None:
    """Say in the run manifest how each problem's tests are judged (judges/tests.py): split
    into checks, or run whole by the test harness (with the reason)."""
    from codemind.judges.tests import test_coverage

    language = items[0].language if items else "python"
    ctx.manifest_extra["test_checks"] = test_coverage({i.program_id: i.context for i in items}, language)


SPEC_UNCHANGED = "variant changes nothing the spec shows"


def variant_spec(original: Program, variant: Program) -> tuple[str | None, str | None]:
    """(the spec a synthesis prompt shows for a variant program, None) or (None, why it cannot
    show one). Where the benchmark's spec is the head of the program itself (HumanEval: imports,
    helpers, the signature and its docstring), the variant's spec is the same head cut from
    the variant's source: the entry point's body reduced to its docstring. A text spec (MBPP),
    a class skeleton or a Java spec stays what it was, so no variant of it is asked."""
    import ast

    spec = (original.meta.get("spec") or "").strip("\n")
    if original.language != "python" or original.entry_point is None or not original.source.startswith(spec):
        return None, f"{SPEC_UNCHANGED}: the spec is not the head of the program"
    try:
        before, after = (_head(ast.parse(src), original.entry_point) for src in (original.source, variant.source))
    except (SyntaxError, ValueError, RecursionError, MemoryError, LookupError):
        return None, f"{SPEC_UNCHANGED}: the entry point's definition cannot be cut out"
    if before == after:
        return None, SPEC_UNCHANGED
    return after, None


def _head(tree, entry_point: str) -> str:
    """The module up to and including `entry_point`'s signature and docstring (LookupError:
    no such top-level function)."""
    import ast

    for k, node in enumerate(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == entry_point:
            doc = node.body[0] if node.body and isinstance(node.body[0], ast.Expr) and isinstance(
                getattr(node.body[0], "value", None), ast.Constant) and isinstance(node.body[0].value.value, str) else None
            node.body = [doc] if doc is not None else [ast.Pass()]
            tree.body = tree.body[: k + 1]
            return ast.unparse(tree)
    raise LookupError(entry_point)
