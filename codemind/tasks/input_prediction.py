"""CRUXEval-I, input prediction: given a function and an output, find an input that yields it.
The answer is a call such as f(...), judged by running it (any input that works is right)."""

from __future__ import annotations

from typing import Sequence

from codemind.schema import Item, Program
from codemind.tasks.base import NO_INPUT, NOT_FUNCTION, NOT_PYTHON, RUNNABLE, TaskBuilder, Truth


class InputPrediction(TaskBuilder):
    name = "input"
    answer_kind = "call"
    default_judge = "cruxeval"
    summary_alone = True

    def default_prompt(self, program: Program) -> str:
        return "cruxeval-direct"

    def static_problem(self, program: Program) -> str | None:
        if program.kind != "function":
            return f"{NOT_FUNCTION}: {program.kind} programs have no return value to find an input for"
        if program.language != "python":
            return f"{NOT_PYTHON}: {program.language}"
        if program.entry_point is None:  # ClassEval's Test().test(): no argument to find
            return f"{NO_INPUT}: the call is not one function's, so it has no argument to predict"
        return None

    def build(self, programs: Sequence[Program], truths: dict[tuple[str, int], Truth], prompt_id: str | None) -> list[Item]:
        items: list[Item] = []
        for program in programs:
            if self.static_problem(program):
                continue  # input prediction needs a Python function with a return value
            spec = self.prompt_spec(prompt_id or self.default_prompt(program))

            def make(inp, program=program, spec=spec):
                truth = truths.get((program.id, inp.index))
                if truth is None or truth.status not in RUNNABLE:
                    return None
                return self._item(program, inp, truth, spec, expected_in_prompt=True)

            items += self._items_for(program, make)
        return items
