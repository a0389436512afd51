"""IER, independent execution reasoning: given a program and an input, predict the output."""

from __future__ import annotations

from typing import Sequence

from codemind.schema import Item, Program
from codemind.tasks.base import RUNNABLE, TaskBuilder, Truth

__all__ = ["IER", "RUNNABLE"]


class IER(TaskBuilder):
    name = "ier"
    default_judge = "value"
    title = "IER"

    def default_prompt(self, program: Program) -> str:
        # The direct CRUXEval format suits function programs and small local models; stdin
        # programs, and function programs whose call is not one named function's (ClassEval's
        # Test().test(): no entry point), use CodeMind's own prompt, which shows the call.
        direct = program.kind == "function" and program.language == "python" and program.entry_point is not None
        return "cruxeval-direct" if direct else "codemind"

    def build(self, programs: Sequence[Program], truths: dict[tuple[str, int], Truth], prompt_id: str | None) -> list[Item]:
        items: list[Item] = []
        for program in programs:
            answer_kind = "value" if program.kind == "function" else "stdout"
            spec = self.prompt_spec(prompt_id or self.default_prompt(program))

            def make(inp, program=program, spec=spec, answer_kind=answer_kind):
                truth = truths.get((program.id, inp.index))
                if truth is None or truth.status not in RUNNABLE:
                    return None
                return self._item(program, inp, truth, spec, expected_in_prompt=False, answer_kind=answer_kind)

            items += self._items_for(program, make)
        return items
