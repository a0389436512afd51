"""DER, dependent execution reasoning (CodeMind §3.2): can a model predict the output of
code it wrote itself, correctly?

Three stages, each cached and resumable on its own:
1. synthesis: the model writes code for each problem (CodeMind's synthesis prompt with the
   spec and one test); the code runs against the benchmark's tests in the sandbox;
2. prediction: for every synthesized program that passed, the model predicts its output on
   the problem's input (the IER prompt on its own code; ground truth is the model's code
   executed in the sandbox);
3. reference: IER on the reference solutions of the same problems, for comparison.
R_DER = correct predictions / predictions on its own correct programs.

DER uses a problem when it can ask all three questions about it: a Python function with a
spec and tests (synthesis.static_problem) whose first input has a call, a value to show and
ground truth that ran (the input both predictions are about). The others are recorded in the
run manifest with their reason (usable_programs.synthesis); the prediction stage records
the correct syntheses whose own code did not run on that input.
"""

from __future__ import annotations

from typing import Iterator

from codemind.schema import Program
from codemind.tasks.base import NOT_ASKABLE, TASKS, Stage, StageContext, TaskBuilder, record_usage, usage
from codemind.tasks.ier import IER
from codemind.tasks.synthesis import (SYNTHESIS_JUDGE, first_truth, shown_test, static_problem, synthesis_item,
                                      synthesis_problem)

SYNTHESIS_PROMPT = "codemind-synthesis"


@TASKS.register("der")
class DER(TaskBuilder):
    name = "der"
    default_judge = "value"

    def default_prompt(self, program: Program) -> str:
        return IER().default_prompt(program)

    def budget_prompts(self, program: Program, prompt_id: str | None) -> list[str]:
        return [SYNTHESIS_PROMPT]

    def build(self, programs, truths, prompt_id):
        raise NotImplementedError("DER is multi-stage: see plan()")

    def static_problem(self, program: Program) -> str | None:
        return static_problem(program)

    def plan(self, ctx: StageContext) -> Iterator[Stage]:
        unusable = {p.id: why for p in ctx.programs if (why := synthesis_problem(p, ctx.truths, needs_run=True))}
        # the output question about the first input must be askable (the IER prompt can show it)
        ier = IER()
        first = {p.id: p.inputs[0].index for p in ctx.programs if p.id not in unusable}
        reference = ier.build([p for p in ctx.programs if p.id in first], ctx.truths, ctx.prompt_id)
        asked = {i.program_id for i in reference if i.input_index == first[i.program_id]}
        for p in ctx.programs:
            if p.id not in unusable and p.id not in asked:
                unusable[p.id] = ier.skipped.get(p.id) or NOT_ASKABLE
        programs = [p for p in ctx.programs if p.id not in unusable]
        reference = [self._restage(i, "reference") for i in reference if i.program_id not in unusable]
        synthesis = [synthesis_item(self, p, SYNTHESIS_PROMPT, "synthesis",
                                    shown_test(p, first_truth(p, ctx.truths).expected))  # type: ignore[union-attr]
                     for p in programs]
        record_usage(ctx, "synthesis", usage(ctx.programs, synthesis, unusable))
        yield Stage("synthesis", synthesis, judge=SYNTHESIS_JUDGE)

        by_id = {p.id: p for p in programs}
        own = [
            own_program(by_id[s["program_id"]], s["extracted"], s["sample_index"])
            for s in ctx.samples()
            if s["task"] == "der" and s.get("stage") == "synthesis" and s["correct"] and s["program_id"] in by_id
        ]
        truths = ctx.execute(own) if own else {}
        ier = IER()
        prediction = [self._restage(i, "prediction") for i in ier.build(own, truths, ctx.prompt_id)]
        used = {i.program_id for i in prediction}
        record_usage(ctx, "prediction", usage(
            own, prediction, {p.id: ier.unusable_reason(p, truths) or NOT_ASKABLE for p in own if p.id not in used},
            of="correct syntheses (the model's own code, run on the problem's first input)"))
        yield Stage("prediction", prediction)

        record_usage(ctx, "reference", usage(ctx.programs, reference, unusable))
        yield Stage("reference", reference)

    def _restage(self, item, stage):
        key = f"{item.benchmark}/{item.program_id}#{item.input_index}/{self.name}:{stage}"
        return item.model_copy(update={"task": self.name, "stage": stage, "key": key})


def own_program(reference: Program, code: str, sample_index: int) -> Program:
    """The model's correct synthesis as a program with the reference problem's first input.
    Its id names the synthesis sample it came from, so predictions stay attached to it."""
    return reference.model_copy(update={
        "id": f"{reference.id}@{sample_index}",
        "source": code,
        "inputs": reference.inputs[:1],
        "meta": {**reference.meta, "reference_id": reference.id, "synthesis_sample": sample_index},
    })
