"""SR, specification reasoning (CodeMind §3.3): does the model implement a spec, and how does
a test in the prompt change that?

Three synthesis variants per problem, each judged against the benchmark's real tests:
with_test (the first test as an assert), no_test (spec only) and misleading_test (the same
assert with its expected value mutated, seeded: tasks/mutate.py). The mutations are
recorded in the run manifest. Problems whose test has no literal value to mutate get no
misleading variant (counted in the manifest).
"""

from __future__ import annotations

from typing import Iterator

from codemind.schema import Program
from codemind.tasks.base import TASKS, Stage, StageContext, TaskBuilder
from codemind.tasks.mutate import mutate_assert, rng_for
from codemind.tasks.synthesis import SYNTHESIS_JUDGE, shown_test, synthesis_item, synthesizable

WITH_TEST, NO_TEST = "codemind-with-test", "codemind-no-test"


@TASKS.register("sr")
class SR(TaskBuilder):
    name = "sr"
    default_judge = SYNTHESIS_JUDGE

    def default_prompt(self, program: Program) -> str:
        return WITH_TEST

    def budget_prompts(self, program: Program, prompt_id: str | None) -> list[str]:
        return [WITH_TEST, NO_TEST]

    def build(self, programs, truths, prompt_id):
        raise NotImplementedError("SR is multi-stage: see plan()")

    def plan(self, ctx: StageContext) -> Iterator[Stage]:
        programs = [p for p in ctx.programs if synthesizable(p) and (p.id, 0) in ctx.truths]
        tests = {p.id: shown_test(p, ctx.truths[(p.id, 0)].expected) for p in programs}
        programs = [p for p in programs if tests[p.id]]
        mutations = {}
        for p in programs:
            m = mutate_assert(tests[p.id], rng_for(ctx.seed, p.benchmark, p.id))
            if m:
                mutations[p.id] = {"test": tests[p.id], "misleading": m[0], "original": m[1], "mutated": m[2]}
        ctx.manifest_extra["sr_mutations"] = {
            "seed": ctx.seed,
            "mutated": len(mutations),
            "not_mutable": sorted(set(tests) - set(mutations)),
            "tests": mutations,
        }
        yield Stage("with_test", [synthesis_item(self, p, WITH_TEST, "with_test", tests[p.id]) for p in programs],
                    judge=SYNTHESIS_JUDGE)
        yield Stage("no_test", [synthesis_item(self, p, NO_TEST, "no_test", None) for p in programs],
                    judge=SYNTHESIS_JUDGE)
        yield Stage("misleading_test",
                    [synthesis_item(self, p, WITH_TEST, "misleading_test", mutations[p.id]["misleading"])
                     for p in programs if p.id in mutations],
                    judge=SYNTHESIS_JUDGE)
