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

Its summary in the report (summarize): synthesis pass@1 (share of synthesis samples whose code
passes the tests), R_DER, IER on the reference solutions of the same problems, and consistency:
of the problems where the model predicted its own correct code's output, how often it also
predicted the reference solution's output (and the reverse).

DER uses a problem when it can ask all three questions about it: a Python function with a
spec and tests (synthesis.static_problem) whose first input has a call, a value to show and
ground truth that ran (the input both predictions are about). The others are recorded in the
run manifest with their reason (usable_programs.synthesis); the prediction stage records
the correct syntheses whose own code did not run on that input.
"""

from __future__ import annotations

import ast
from typing import Callable, Iterator, Sequence

from codemind.groundtruth import _NO_VALUE, parse_value
from codemind.judges.tests import plan_for, test_job
from codemind.judges.values import call_outcomes
from codemind.schema import ExecJob, Execution, Program
from codemind.tasks.base import NOT_ASKABLE, Stage, StageContext, TaskBuilder, record_usage, usage
from codemind.tasks import java_synthesis
from codemind.tasks.ier import IER, RUNNABLE
from codemind.tasks.summary import per_problem, rate, rate_cell
from codemind.variants.build import variant_of
from codemind.tasks.synthesis import (SYNTHESIS_JUDGE, first_truth, record_test_coverage, shown_test, static_problem,
                                      synthesis_item, synthesis_problem)

SYNTHESIS_PROMPT = "codemind-synthesis"


class DER(TaskBuilder):
    name = "der"
    default_judge = "value"
    summary_alone = True

    def default_prompt(self, program: Program) -> str:
        return IER().default_prompt(program)

    def budget_prompts(self, program: Program, prompt_id: str | None) -> list[str]:
        return [SYNTHESIS_PROMPT]

    def check_prompt(self, prompt_id: str) -> None:
        IER().prompt_spec(prompt_id)  # --prompt is the prediction and reference stages' IER prompt

    def build(self, programs, truths, prompt_id):
        raise NotImplementedError("DER is multi-stage: see plan()")

    def static_problem(self, program: Program) -> str | None:
        return static_problem(program)

    def plan(self, ctx: StageContext) -> Iterator[Stage]:
        # with --variant, ctx.programs also holds the variants of the reference programs: the
        # synthesis stage asks about the originals, the reference stage about both, and the
        # prediction stage about the model's own code and its variants (made and checked here)
        originals = [p for p in ctx.programs if variant_of(p) is None]
        unusable = {p.id: why for p in originals if (why := synthesis_problem(p, ctx.truths, needs_run=True))}
        # the output question about the first input must be askable (the IER prompt can show it)
        ier = IER()
        first = {p.id: p.inputs[0].index for p in originals if p.id not in unusable}
        reference = ier.build([p for p in originals if p.id in first], ctx.truths, ctx.prompt_id)
        asked = {i.program_id for i in reference if i.input_index == first[i.program_id]}
        for p in originals:
            if p.id not in unusable and p.id not in asked:
                unusable[p.id] = ier.skipped.get(p.id) or NOT_ASKABLE
        programs = [p for p in originals if p.id not in unusable]
        reference = [i for i in reference if i.program_id not in unusable]
        kept = {p.id for p in programs}
        shown = [p for p in ctx.programs if variant_of(p) is not None and variant_of(p)["of"] in kept]
        of = {v.id: variant_of(v)["of"] for v in shown}
        reference += [i for i in ier.build(shown, ctx.truths, ctx.prompt_id) if i.input_index == first[of[i.program_id]]]
        reference = [self._restage(i, "reference") for i in reference]
        synthesis = [synthesis_item(self, p, SYNTHESIS_PROMPT, "synthesis",
                                    shown_test(p, first_truth(p, ctx.truths).expected))  # type: ignore[union-attr]
                     for p in programs]
        record_usage(ctx, "synthesis", usage(originals, synthesis, unusable))
        record_test_coverage(ctx, synthesis)
        yield Stage("synthesis", synthesis, judge=SYNTHESIS_JUDGE)

        by_id = {p.id: p for p in programs}
        own = [
            own_program(by_id[s.program_id], s.extracted or "", s.sample_index)
            for s in ctx.samples()
            if s.task == self.name and s.stage == "synthesis" and s.correct and s.program_id in by_id
        ]
        truths = ctx.execute(own) if own else {}
        if own and ctx.run_jobs is not None:
            truths = checked_against_tests(own, truths, by_id, ctx.run_jobs)
        if own and ctx.variants is not None:  # variants of the model's own code, checked like any other
            own_variants, variant_truths = ctx.variants(own, truths, "variants_own_code")
            own, truths = own + own_variants, {**truths, **variant_truths}
        ier = IER()
        prediction = [self._restage(i, "prediction") for i in ier.build(own, truths, ctx.prompt_id)]
        used = {i.program_id for i in prediction}
        record_usage(ctx, "prediction", usage(
            own, prediction, {p.id: ier.unusable_reason(p, truths) or NOT_ASKABLE for p in own if p.id not in used},
            of="correct syntheses (the model's own code, run on the problem's first input)"))
        yield Stage("prediction", prediction)

        in_reference = {i.program_id for i in reference}
        record_usage(ctx, "reference", usage(
            [*originals, *shown], reference,
            {**unusable, **{v.id: NOT_ASKABLE for v in shown if v.id not in in_reference}}))
        yield Stage("reference", reference)

    def _restage(self, item, stage):
        key = f"{item.benchmark}/{item.program_id}#{item.input_index}/{self.name}:{stage}"
        return item.model_copy(update={"task": self.name, "stage": stage, "key": key})

    def summarize(self, samples: Sequence[dict]) -> dict:
        def stage(name: str) -> list[dict]:
            return [s for s in samples if s.get("stage") == name]

        own, ref = stage("prediction"), stage("reference")
        return {
            "synthesis_pass_at_1": rate(s["correct"] for s in stage("synthesis")),
            "r_der": rate(s["correct"] for s in own),
            "ier_reference": rate(s["correct"] for s in ref),
            "consistency": consistency(own, ref),
        }

    def summary_cells(self, summary: dict) -> dict[str, str]:
        return {"DER synth pass@1": rate_cell(summary.get("synthesis_pass_at_1")),
                "R_DER": rate_cell(summary.get("r_der")), "IER ref": rate_cell(summary.get("ier_reference")),
                "own/ref agree": _agreement_cell(summary.get("consistency"))}


def _agreement_cell(c: dict | None) -> str:
    """Problems where predicting the own code's output and the reference's were both right or
    both wrong, of those with both."""
    if not c or c.get("agreement") is None:
        return "-"
    return f"{100 * c['agreement']:.1f} (n={c['n_problems']} problems)"


def consistency(own: list[dict], reference: list[dict]) -> dict:
    """Per problem: own-code prediction right vs reference prediction right."""
    own_p, ref_p = per_problem(own), per_problem(reference)
    common = sorted(set(own_p) & set(ref_p))
    own_ok = [p for p in common if own_p[p] == 1.0]
    ref_ok = [p for p in common if ref_p[p] == 1.0]
    both = set(own_ok) & set(ref_ok)
    return {
        "n_problems": len(common),
        "reference_right_given_own_right": len(both) / len(own_ok) if own_ok else None,
        "own_right_given_reference_right": len(both) / len(ref_ok) if ref_ok else None,
        "agreement": sum((own_p[p] == 1.0) == (ref_p[p] == 1.0) for p in common) / len(common) if common else None,
    }


def own_program(reference: Program, code: str, sample_index: int) -> Program:
    """The model's correct synthesis as a program with the reference problem's first input.
    Its id names the synthesis sample it came from, so predictions stay attached to it."""
    if reference.language == "java":
        return java_synthesis.own_program(reference, code, sample_index)
    return reference.model_copy(update={
        "id": f"{reference.id}@{sample_index}",
        "source": code,
        "inputs": reference.inputs[:1],
        "meta": {**reference.meta, "reference_id": reference.id, "synthesis_sample": sample_index},
    })


UNCHECKED = "own output not confirmed by its test run"


def checked_against_tests(own: list[Program], truths: dict, references: dict[str, Program],
                          run_jobs: Callable[[list[ExecJob]], list[Execution]]) -> dict:
    """The expected output of the model's own code on the problem's input, believed only where
    the run that passed its tests returned the same value for the same call.

    A separate run of model-written code could behave differently from the test run (it can
    tell the two apart) and report a value it chose, which its author would then "predict".
    The test run is the one whose values the judge checked, and it is read back from the
    execution cache (the same job as when it was judged), so no new run of the code decides
    anything. Where the input's call is not among the test's checks (tests run whole by the
    harness), the prediction is left out with that reason. Java: tasks/java_synthesis.py."""
    java = [p for p in own if p.language == "java"]
    if java:
        truths = java_synthesis.checked_against_tests(java, truths, references, run_jobs, _unchecked)
        own = [p for p in own if p.language != "java"]
    jobs, where = [], []
    for p in own:
        ref = references[p.meta["reference_id"]]
        context = {"tests": ref.meta.get("tests"), "entry_point": ref.entry_point, "source": ref.source,
                   "test_setup": ref.meta.get("test_setup")}
        truth = truths.get((p.id, p.inputs[0].index)) if p.inputs else None
        if truth is None or truth.status not in RUNNABLE or not context["tests"]:
            continue
        plan = plan_for(context)
        k = _call_index(plan, p.inputs[0].call) if plan.complete else None
        if k is None:
            truths[(p.id, p.inputs[0].index)] = _unchecked(truth, "its tests do not call it on this input alone")
            continue
        jobs.append(test_job(p.source, context))
        where.append((p, truth, k))
    for (p, truth, k), ex in zip(where, run_jobs(jobs) if jobs else []):
        outcomes = call_outcomes(ex)
        got = outcomes[k] if k < len(outcomes) else None
        expected = parse_value(truth.expected or "")
        same_value = got is not None and got.kind == "value" and expected is not _NO_VALUE and _equal(got.value, expected)
        if not same_value:
            truths[(p.id, p.inputs[0].index)] = _unchecked(truth, "the test run returned something else")
    return truths


def _call_index(plan, call: str | None) -> int | None:
    """Where the checks evaluate this call (compared as syntax trees), or None."""
    target = _tree(call)
    if target is None:
        return None
    calls = [c for check in plan.checks for c in check.calls]
    return next((i for i, c in enumerate(calls) if _tree(c) == target), None)


def _tree(expr: str | None) -> str | None:
    try:
        return ast.dump(ast.parse(expr or "", mode="eval"))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _equal(a, b) -> bool:
    try:
        return bool(a == b) or (isinstance(a, float) and isinstance(b, float) and a != a and b != b)
    except Exception:
        return False


def _unchecked(truth, why: str):
    return truth.model_copy(update={"status": "does_not_run", "expected": None, "reason": f"{UNCHECKED}: {why}"})
