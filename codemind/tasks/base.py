"""Task builders turn programs + executed ground truth into Items (the questions put to a
model). A task knows which prompts fit it and which judge to use by default."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Protocol, Sequence

from codemind.registry import Registry
from codemind.schema import Item, Program, TestInput
from codemind.tasks.prompts import PromptSpec, get_prompt


class Truth(Protocol):
    """What a task needs from ground truth (codemind.groundtruth.GroundTruth fits)."""

    program_id: str
    input_index: int
    expected: str | None
    status: str


def call_args(call: str | None, entry_point: str | None) -> str | None:
    """'f([1, 2], 3)' -> '[1, 2], 3': the argument text CRUXEval-style prompts show."""
    if not call or not entry_point:
        return None
    head = entry_point + "("
    if call.startswith(head) and call.endswith(")"):
        return call[len(head) : -1]
    return None


def prompt_values(program: Program, inp: TestInput, expected: str | None) -> dict[str, str]:
    values = {"code": program.source}
    args = call_args(inp.call, program.entry_point)
    for key, value in (("input", args), ("call", inp.call), ("stdin", inp.stdin), ("output", expected)):
        if value is not None:
            values[key] = value
    return values


@dataclass
class Stage:
    """One generate-and-judge pass. `judge` None: the run's --judge or the task's default."""

    name: str | None
    items: list[Item]
    judge: str | None = None


@dataclass
class StageContext:
    """What a task's plan sees: the run's programs and ground truth, the samples already
    judged (re-read after each stage, resumed ones included), and a way to execute the
    ground truth of new programs (model-written code) in the run's sandbox."""

    programs: list[Program]
    truths: dict[tuple[str, int], Truth]
    prompt_id: str | None
    seed: int
    samples: Callable[[], list[dict]]
    execute: Callable[[list[Program]], dict[tuple[str, int], Truth]]
    manifest_extra: dict[str, Any] = field(default_factory=dict)


class TaskBuilder(ABC):
    name: str = "abstract"
    answer_kind: str = "value"
    default_judge: str = "value"

    def plan(self, ctx: StageContext) -> Iterator[Stage]:
        """The stages of this task; each one runs to completion before the next is asked
        for. Single-stage tasks need not override it."""
        yield Stage(None, self.build(ctx.programs, ctx.truths, ctx.prompt_id))

    def budget_prompts(self, program: Program, prompt_id: str | None) -> list[str]:
        """Prompt ids this task may send, to size the generation budget."""
        return [prompt_id or self.default_prompt(program)]

    def default_prompt(self, program: Program) -> str:
        return "codemind"

    def prompt_spec(self, prompt_id: str) -> PromptSpec:
        return get_prompt(self.name, prompt_id)

    @abstractmethod
    def build(
        self, programs: Sequence[Program], truths: dict[tuple[str, int], Truth], prompt_id: str | None
    ) -> list[Item]:
        """Items for every (program, input) whose ground truth ran; does_not_run is left out."""

    def _item(self, program: Program, inp: TestInput, truth: Truth | None, spec: PromptSpec, expected_in_prompt: bool,
              answer_kind: str | None = None, stage: str | None = None, extra: dict | None = None) -> Item:
        template = spec.template_for(program)
        values = {**prompt_values(program, inp, truth.expected if truth else None), **(extra or {})}
        if not expected_in_prompt:
            values.pop("output", None)
        return Item(
            key=f"{program.benchmark}/{program.id}#{inp.index}/{self.name}" + (f":{stage}" if stage else ""),
            stage=stage,
            benchmark=program.benchmark,
            language=program.language,
            task=self.name,  # type: ignore[arg-type]
            program_id=program.id,
            input_index=inp.index,
            prompt=template.render(values, entry_point=program.entry_point),
            extractor=template.extractor,
            answer_kind=answer_kind or self.answer_kind,  # type: ignore[arg-type]
            expected=truth.expected if truth else None,
            label=inp.label,
            ground_truth=truth.status if truth else "ok",  # type: ignore[arg-type]
            context={
                "source": program.source,
                "call": inp.call,
                "input": values.get("input"),
                "stdin": inp.stdin,
                "entry_point": program.entry_point,
                "kind": program.kind,
                "tests": program.meta.get("tests"),
                "test_setup": program.meta.get("test_setup"),
            },
        )


TASKS: Registry[type[TaskBuilder]] = Registry(
    "task",
    {
        "ier": "codemind.tasks.ier",
        "input": "codemind.tasks.input_prediction",
        "der": "codemind.tasks.der",
        "sr": "codemind.tasks.sr",
    },
)
