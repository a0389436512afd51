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
"""

from __future__ import annotations

from typing import Iterator

from codemind.schema import Program
from codemind.tasks.base import TASKS, Stage, StageContext, TaskBuilder
from codemind.tasks.ier import IER
from codemind.tasks.synthesis import SYNTHESIS_JUDGE, shown_test, synthesis_item, synthesizable

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

    def plan(self, ctx: StageContext) -> Iterator[Stage]:
        programs = [p for p in ctx.programs if synthesizable(p) and (p.id, 0) in ctx.truths]
        yield Stage(
            "synthesis",
            [synthesis_item(self, p, SYNTHESIS_PROMPT, "synthesis", shown_test(p, ctx.truths[(p.id, 0)].expected))
             for p in programs],
            judge=SYNTHESIS_JUDGE,
        )
        by_id = {p.id: p for p in programs}
        own = [
            own_program(by_id[s["program_id"]], s["extracted"], s["sample_index"])
            for s in ctx.samples()
            if s["task"] == "der" and s.get("stage") == "synthesis" and s["correct"] and s["program_id"] in by_id
        ]
        truths = ctx.execute(own) if own else {}
        ier = IER()
        prediction = ier.build(own, truths, ctx.prompt_id)
        yield Stage("prediction", [self._restage(i, "prediction") for i in prediction])
        reference = ier.build(programs, ctx.truths, ctx.prompt_id)
        yield Stage("reference", [self._restage(i, "reference") for i in reference])

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
