"""SR, specification reasoning (CodeMind §3.3): does the model implement a spec, and how does
a test in the prompt change that?

Three synthesis variants per problem, each judged against the benchmark's real tests:
with_test (the first test as an assert), no_test (spec only) and misleading_test (the same
assert with its expected value mutated, seeded: tasks/mutate.py). The mutations are
recorded in the run manifest. Problems whose test has no literal value to mutate get no
misleading variant (counted in the manifest).

SR uses a problem when it can show its test: a Python function with a spec and tests whose
first input has a call and a value (stated or executed; synthesis.synthesis_problem). The
others are recorded in the run manifest with their reason (usable_programs.<stage>).

Its summary in the report (summarize): the pass rate of each variant, the paired
differences over problems (with - none, with - misleading) with a seeded bootstrap interval,
and R_SR, the score of CodeMind's later versions (arXiv 2402.09664 v4-v6):

    R_SR = Pass_initial * exp(improved / total)

Pass_initial is the pass rate without a test (the no_test variant), improved the number of
problems the shown test improves (a higher pass rate with_test than no_test: with one sample
each, failed without the test and passed with it) and total the problems asked both ways. The
paper states the formula only; which variant is "initial" and what counts as improved are
read from its text (the test is what SR adds to the spec), so r_sr records its three parts.
"""

from __future__ import annotations

import math
from typing import Iterator, Sequence

from codemind.schema import Program
from codemind.tasks import sr_class
from codemind.tasks.base import NOT_RUN, Stage, StageContext, TaskBuilder, record_usage, usage
from codemind.tasks.java_synthesis import mutate_test
from codemind.tasks.mutate import mutate_assert, rng_for
from codemind.tasks.summary import difference_cell, paired_difference, per_problem, rate, rate_cell
from codemind.tasks.synthesis import (SYNTHESIS_JUDGE, first_truth, record_test_coverage, shown_test, static_problem,
                                      synthesis_item, synthesis_problem, variant_spec)
from codemind.variants.build import variant_of

NOT_MUTABLE = "no literal value in the shown test to mutate"
NOT_SAME = "a mutant"

WITH_TEST, NO_TEST = "codemind-with-test", "codemind-no-test"
VARIANTS = ("with_test", "no_test", "misleading_test")  # its stages


class SR(TaskBuilder):
    name = "sr"
    default_judge = SYNTHESIS_JUDGE
    summary_alone = True

    def default_prompt(self, program: Program) -> str:
        return WITH_TEST

    def budget_prompts(self, program: Program, prompt_id: str | None) -> list[str]:
        if sr_class.is_class_method(program):
            return [sr_class.WITH_TEST, sr_class.NO_TEST]
        return [WITH_TEST, NO_TEST]

    def build(self, programs, truths, prompt_id):
        raise NotImplementedError("SR is multi-stage: see plan()")

    def static_problem(self, program: Program) -> str | None:
        return sr_class.problem(program) if sr_class.is_class_method(program) else static_problem(program)

    def plan(self, ctx: StageContext) -> Iterator[Stage]:
        # a class's method (ClassEval) is asked and shown its own way: tasks/sr_class.py
        def why_not(p):
            return sr_class.problem(p) if sr_class.is_class_method(p) else synthesis_problem(p, ctx.truths, False)

        def test_of(p):
            if sr_class.is_class_method(p):
                return sr_class.shown_test(p)
            return shown_test(p, t.expected if (t := first_truth(p, ctx.truths)) else None)

        def item(p, stage, test):
            if sr_class.is_class_method(p):
                prompt = sr_class.WITH_TEST if test is not None else sr_class.NO_TEST
                return sr_class.item(self, p, prompt, stage, test)
            return synthesis_item(self, p, WITH_TEST if test is not None else NO_TEST, stage, test)

        originals = [p for p in ctx.programs if variant_of(p) is None]
        unusable = {p.id: why for p in originals if (why := why_not(p))}
        programs = [p for p in originals if p.id not in unusable]
        tests = {p.id: test_of(p) for p in programs}
        mutations = {}
        for p in programs:
            rng = rng_for(ctx.seed, p.benchmark, p.id)
            if sr_class.is_class_method(p):
                m = sr_class.mutate_test(tests[p.id], rng)
            else:
                m = mutate_test(p, rng) if p.language == "java" else mutate_assert(tests[p.id], rng)
            if m:
                mutations[p.id] = {"test": tests[p.id], "misleading": m[0], "original": m[1], "mutated": m[2]}
        ctx.manifest_extra["sr_mutations"] = {
            "seed": ctx.seed,
            "mutated": len(mutations),
            "not_mutable": sorted(set(tests) - set(mutations)),
            "tests": mutations,
        }
        stages = {
            "with_test": [item(p, "with_test", tests[p.id]) for p in programs],
            "no_test": [item(p, "no_test", None) for p in programs],
            "misleading_test": [item(p, "misleading_test", mutations[p.id]["misleading"])
                                for p in programs if p.id in mutations],
        }
        not_mutable = {p.id: NOT_MUTABLE for p in programs if p.id not in mutations}
        shown, not_shown = self._variants(ctx.programs, {p.id: p for p in programs}, unusable)
        unusable.update(not_shown)
        for v, spec in shown:  # a variant's spec in each stage, with its original's test and mutation
            of = variant_of(v)["of"]
            stages["with_test"].append(item(spec, "with_test", tests[of]))
            stages["no_test"].append(item(spec, "no_test", None))
            if of in mutations:
                stages["misleading_test"].append(item(spec, "misleading_test", mutations[of]["misleading"]))
            else:
                not_mutable[v.id] = NOT_MUTABLE
        for name, items in stages.items():
            why = {**unusable, **not_mutable} if name == "misleading_test" else unusable
            record_usage(ctx, name, usage(ctx.programs, items, why))
        record_test_coverage(ctx, stages["with_test"])
        for name, items in stages.items():
            yield Stage(name, items, judge=SYNTHESIS_JUDGE)

    @staticmethod
    def _variants(all_programs: Sequence[Program], usable: dict[str, Program],
                  unusable: dict[str, str]) -> tuple[list[tuple[Program, Program]], dict[str, str]]:
        """--variant: SR shows a spec, not a program body, so a variant is asked where its spec
        differs (synthesis.variant_spec: the spec is the head of the program, e.g. HumanEval's
        renamed parameters); mutants never are (the benchmark's tests check the original)."""
        shown, why = [], {}
        for v in all_programs:
            record = variant_of(v)
            if record is None:
                continue
            original = usable.get(record["of"])
            if original is None:
                why[v.id] = unusable.get(record["of"], NOT_RUN)
            elif record["behaviour"] != "same":
                why[v.id] = f"{NOT_SAME}: the benchmark's tests check the original's behaviour"
            else:
                spec, problem = variant_spec(original, v)
                if spec is None:
                    why[v.id] = problem
                else:
                    shown.append((v, v.model_copy(update={"meta": {**v.meta, "spec": spec}})))
        return [(v, s) for v, s in shown], why

    def summarize(self, samples: Sequence[dict]) -> dict:
        variants = {v: [s for s in samples if s.get("stage") == v] for v in VARIANTS}
        per = {v: per_problem(rows) for v, rows in variants.items()}
        return {
            **{v: rate(s["correct"] for s in rows) for v, rows in variants.items()},
            "with_minus_none": paired_difference(per["with_test"], per["no_test"]),
            "with_minus_misleading": paired_difference(per["with_test"], per["misleading_test"]),
            "r_sr": r_sr(variants["no_test"], per["no_test"], per["with_test"]),
        }

    def summary_cells(self, summary: dict) -> dict[str, str]:
        return {"SR with": rate_cell(summary.get("with_test")), "SR none": rate_cell(summary.get("no_test")),
                "SR misleading": rate_cell(summary.get("misleading_test")),
                "R_SR": r_sr_cell(summary.get("r_sr")),
                "with-none": difference_cell(summary.get("with_minus_none")),
                "with-misleading": difference_cell(summary.get("with_minus_misleading"))}


def r_sr(initial: Sequence[dict], before: dict[str, float], after: dict[str, float]) -> dict:
    """R_SR = Pass_initial * exp(improved / total) (see the module docstring); None parts when
    nothing was asked both ways."""
    common = sorted(set(before) & set(after))
    improved = sum(after[p] > before[p] for p in common)
    initial_rate = rate(s["correct"] for s in initial)["accuracy"]
    if not common or initial_rate is None:
        return {"pass_initial": initial_rate, "improved": improved, "total": len(common), "r_sr": None}
    return {"pass_initial": initial_rate, "improved": improved, "total": len(common),
            "r_sr": initial_rate * math.exp(improved / len(common))}


def r_sr_cell(r: dict | None) -> str:
    """R_SR as the summary table shows it: "0.412", "-" when there is none."""
    return "-" if not r or r.get("r_sr") is None else f"{r['r_sr']:.3f}"
