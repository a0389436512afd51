"""What DER and SR share: asking a model to write the program for a spec, with a test.

The test shown in the prompt is the program's first input written as an assert with the
dataset's stated value (CodeMind's assert.txt has the same form). The code the model writes
is judged by the benchmark's own tests (judges/tests.py).
"""

from __future__ import annotations

from codemind.schema import Item, Program
from codemind.tasks.base import TaskBuilder

SYNTHESIS_JUDGE = "tests"


def shown_test(program: Program, truth_expected: str | None) -> str | None:
    """`assert CALL == EXPECTED` for the program's first input, or None if it has none."""
    if not program.inputs or not program.inputs[0].call:
        return None
    inp = program.inputs[0]
    expected = inp.label if inp.label is not None else truth_expected
    return None if expected is None else f"assert {inp.call} == {expected}"


def synthesis_item(builder: TaskBuilder, program: Program, prompt_id: str, stage: str, test: str | None) -> Item:
    spec = builder.prompt_spec(prompt_id)
    values = {"spec": program.meta.get("spec", "").strip("\n")}
    if test is not None:
        values["test"] = test
    item = builder._item(program, program.inputs[0], None, spec, expected_in_prompt=False,
                         answer_kind="code", stage=stage, extra=values)
    return item.model_copy(update={"context": {**item.context, "shown_test": test}})


def synthesizable(program: Program) -> bool:
    return program.kind == "function" and program.language == "python" and bool(program.meta.get("tests"))
