"""IER, independent execution reasoning: given a program and an input, predict the output.

Items are the inputs whose ground truth ran (ok or label_mismatch). Under a judge that
compares with the dataset's label (Judge.uses_label: codemind-exact against="label", the
CodeMind paper's judge) the labelled inputs whose program does not run here, or that the
adapter excluded, are asked too, as the paper did: label-only items (Item.label_only, no
executed output), counted in the manifest's usable_programs.ier.label_only.

An input whose executed return value has no literal form (a datetime, a class: ``<class
'str'>``) is not asked where the judge compares with that value: no answer could state it. It
is counted in the stage's ``inputs_left_out`` (NOT_VALUE). Under a label judge it is asked, as
the paper did: the label is text the dataset states.
"""

from __future__ import annotations

from typing import Sequence

from codemind.schema import Item, Program
from codemind.tasks.base import NOT_VALUE, RUNNABLE, TaskBuilder, Truth, Unaskable, label_only_inputs

__all__ = ["IER", "RUNNABLE"]


def is_plain_value(expected: str | None) -> bool:
    """Whether an executed return value has a literal form an answer can state (the value judge
    compares plain values: codemind/judges/compare.py)."""
    from codemind.groundtruth import _NO_VALUE, parse_value

    return expected is not None and parse_value(expected) is not _NO_VALUE


class IER(TaskBuilder):
    name = "ier"
    default_judge = "value"
    title = "IER"
    asks_on_label = True

    def default_prompt(self, program: Program) -> str:
        # The direct CRUXEval format suits function programs and small local models (a call that
        # is not one named function's, ClassEval's Test().test(), is shown whole: its
        # -call variant); stdin programs use CodeMind's own prompt.
        if program.kind == "function" and program.language == "python":
            return "cruxeval-direct" if program.entry_point is not None else "cruxeval-direct-call"
        return "codemind"

    def build(self, programs: Sequence[Program], truths: dict[tuple[str, int], Truth], prompt_id: str | None) -> list[Item]:
        items: list[Item] = []
        for program in programs:
            answer_kind = "value" if program.kind == "function" else "stdout"
            spec = self.prompt_spec(prompt_id or self.default_prompt(program))
            on_label = {inp.index: inp for inp in label_only_inputs(program, truths)} if self.on_label else {}

            def make(inp, program=program, spec=spec, answer_kind=answer_kind):
                truth = truths.get((program.id, inp.index))
                if truth is None or (truth.status not in RUNNABLE and inp.index not in on_label):
                    return None
                if (answer_kind == "value" and not self.on_label and truth.status in RUNNABLE
                        and not is_plain_value(truth.expected)):
                    raise Unaskable(f"{NOT_VALUE}: input {inp.index} returns {truth.expected[:60]}")
                return self._item(program, inp, truth, spec, expected_in_prompt=False, answer_kind=answer_kind)

            asked = {inp.index for inp in program.inputs}
            extra = [inp for i, inp in on_label.items() if i not in asked]  # excluded by the adapter
            items += self._items_for(program, make, inputs=sorted([*program.inputs, *extra], key=lambda i: i.index))
        return items
