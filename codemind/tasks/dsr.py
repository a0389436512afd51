"""DSR, dynamic semantics reasoning (CodeMind, arXiv 2402.09664 v4+): the model sees a program
padded with code that changes nothing (tasks/padding.py) and its tests or input/output pairs,
and writes a shorter equivalent program.

One item per program. What the prompt shows and the judge runs (judges/dsr.py):
- a function with a spec and the benchmark's tests (HumanEval): those tests;
- a function without them (CRUXEval): ``assert CALL == OUTPUT`` for each input whose ground
  truth ran, OUTPUT being the executed value (never the dataset's label);
- a stdin program (Avatar): ``Input: ...; Output: ...`` for each input that ran, with the
  executed stdout; the answer is run on those inputs;
- a ClassEval method (benchmarks/classeval.py: meta ``class_name``, ``method``, ``tests``,
  ``class_source``): the class alone is padded and shown, the method named in the prompt; the
  answer (the whole class, or the method alone, spliced into the padded class shown) is judged
  by the method's unittest tests as the ``tests`` judge runs them (judges/unittest_checks.py),
  and its lines of code are those of that class. Verification runs the padded class with the
  program's ``class Test`` (the input ``Test().test()`` must give the same value).

Every padded program is verified by execution before it is asked about: it must give the
same value (or stdout) as the original on every input whose ground truth ran, and, for
tests-judged items, pass the tests as the original does (which must itself pass them). A
program that fails is padded again with the next attempt (fewer kinds of padding, another
random stream) up to padding.ATTEMPTS times, then left out with the reason. The transform,
seed and, per program, what was applied, the padded source's sha256 and the LoC figures are
in the run manifest under ``dsr_padding``.

Its summary (summarize): S_DSR, the mean per-sample score (the authors' denominator is the
whole benchmark; ours is the samples asked, and programs left out are in the manifest), with a
seeded bootstrap interval; the plain pass rate; and the share that pass *and* are shorter.
"""

from __future__ import annotations

import random
from typing import Iterator, Sequence

from codemind.judges.stdout import run_stdin_pairs
from codemind.judges.tests import LIMITS, run_tests
from codemind.schema import Item, Program
from codemind.tasks.base import (NO_INPUT, NO_TESTS, NOT_PYTHON, RUNNABLE, Stage, StageContext, TaskBuilder, Truth,
                                 input_problem, record_usage, usage)
from codemind.tasks.padding import ATTEMPTS, TRANSFORM, Padded, PaddingError, pad
from codemind.tasks.summary import BOOTSTRAP, rate, rate_cell

PROMPT = "codemind"
# The benchmarks of CodeMind's DSR (its latest paper: HumanEval, CRUXEval, Avatar at HEAD and
# ClassEval). The transform pads any Python program; other benchmarks are left out with this
# reason so that a run says so instead of asking about programs the method was not meant for.
BENCHMARKS = ("humaneval", "cruxeval", "avatar-latest", "classeval")
NOT_DSR = "not a DSR benchmark"
JUDGE = "dsr"
NOT_PADDED = "padding not verified"  # the padded program did not behave as the original
REFERENCE_FAILS = "reference fails its tests"


def family(program: Program) -> str:
    """Which of the authors' prompt families the program belongs to."""
    if is_class_item(program):
        return "classeval"
    if program.kind == "stdin":
        return "stdin"
    if program.meta.get("spec") and program.meta.get("tests"):
        return "tests"
    return "asserts"


def is_class_item(program: Program) -> bool:
    """A ClassEval item: a class's method with its unittest tests (benchmarks/classeval.py meta)."""
    m = program.meta
    return all(m.get(k) for k in ("class_name", "method", "tests", "class_source"))


def padded_subject(program: Program) -> str:
    """What is padded and shown: the program, or for a class item the class alone."""
    return program.meta["class_source"] if is_class_item(program) else program.source


def with_padding(program: Program, padded: str) -> str:
    """The runnable program with its padded part: for a class item, the padded class followed by
    the rest of the program as it was (ClassEval's ``class Test`` whose test() is the input)."""
    if is_class_item(program):
        return padded + "\n\n" + program.source[len(program.meta["class_source"]):]
    return padded


class DSR(TaskBuilder):
    name = "dsr"
    answer_kind = "code"
    default_judge = JUDGE
    title = "DSR"
    summary_alone = True

    def default_prompt(self, program: Program) -> str:
        return PROMPT

    def build(self, programs, truths, prompt_id):
        raise NotImplementedError("DSR verifies its padding in the sandbox: see plan()")

    def static_problem(self, program: Program) -> str | None:
        if program.language != "python":
            return f"{NOT_PYTHON}: {program.language}"
        if program.benchmark not in BENCHMARKS:
            return f"{NOT_DSR}: DSR uses {', '.join(BENCHMARKS)}"
        if program.kind == "function" and not program.entry_point and not is_class_item(program):
            return f"{NO_TESTS}: a function program without an entry point"
        return None

    # ------------------------------------------------------------------ items

    def _tests(self, program: Program, truths: dict[tuple[str, int], Truth]) -> tuple[str, dict] | str:
        """(the text the prompt shows, judge context) or why the program has nothing to test by."""
        runnable = [(inp, t) for inp in program.inputs
                    if (t := truths.get((program.id, inp.index))) is not None and t.status in RUNNABLE]
        fam = family(program)
        context = {"source": program.source, "entry_point": program.entry_point,
                   "test_setup": program.meta.get("test_setup"), "kind": program.kind}
        if fam == "classeval":
            if not program.source.startswith(program.meta["class_source"]):
                return f"{NO_TESTS}: the class is not the start of the program"
            tests = program.meta["tests"]
            from codemind.judges.unittest_checks import plan_unittest

            plan = plan_unittest(tests)
            if not plan.complete:  # as SR on ClassEval (tasks/sr_class.py)
                return f"{NO_TESTS}: the unittest tests cannot be judged as checks ({plan.reason})"
            # the class under test is the padded one (judges/unittest_checks.py class_under_test
            # splices a lone method into it); source: the original class, the reference
            return tests.strip("\n") + "\n", {**context, "source": program.meta["class_source"], "tests": tests,
                                               "class_name": program.meta["class_name"],
                                               "method": program.meta["method"]}
        if fam == "tests":
            tests = program.meta["tests"]
            return tests.strip("\n") + "\n", {**context, "tests": tests}
        if not runnable:
            return input_problem(program, truths) or f"{NO_INPUT}: no input ran"
        if fam == "stdin":
            pairs = [(inp.stdin or "", t.expected or "") for inp, t in runnable]
            shown = "\n".join(f"Input: {i.rstrip(chr(10))}; Output: {o.rstrip(chr(10))}" for i, o in pairs) + "\n"
            return shown, {**context, "io_pairs": [list(p) for p in pairs], "tests": None}
        asserts = [f"assert {inp.call} == {t.expected}" for inp, t in runnable if inp.call]
        if not asserts:
            return f"{NO_INPUT}: no input with a call"
        tests = "\n".join(asserts) + "\n"
        return tests, {**context, "tests": tests}

    def _dsr_item(self, program: Program, truths, padded: Padded, shown: str, context: dict) -> Item:
        spec = self.prompt_spec(self._prompt_id)
        first = next((inp for inp in program.inputs
                      if (t := truths.get((program.id, inp.index))) is not None and t.status in RUNNABLE),
                     program.inputs[0] if program.inputs else None)
        index = first.index if first is not None else 0
        truth = truths.get((program.id, index))
        values = {"code": padded.source, "test": shown}
        if context.get("class_name"):
            context = {**context, "class_source": padded.source}
        if context.get("method"):
            values["method"] = context["method"]
        template = spec.template_for(program)
        return Item(
            key=f"{program.benchmark}/{program.id}#{index}/{self.name}",
            benchmark=program.benchmark, language=program.language, task=self.name, program_id=program.id,
            input_index=index, prompt=template.render(values, entry_point=None), extractor=template.extractor,
            answer_kind="code", expected=truth.expected if truth else None, label=first.label if first else None,
            ground_truth=truth.status if truth else "ok",  # type: ignore[arg-type]
            context={**context, "shown_tests": shown, "loc_original": padded.loc_original,
                     "loc_padded": padded.loc_padded, "padded_sha256": padded.sha256},
        )

    # ------------------------------------------------------------------ the plan

    def plan(self, ctx: StageContext) -> Iterator[Stage]:
        self._prompt_id = ctx.prompt_id or PROMPT
        if ctx.run_jobs is None:
            raise RuntimeError("DSR verifies its padded programs in the sandbox: it needs StageContext.run_jobs")
        unusable: dict[str, str] = {}
        tests: dict[str, tuple[str, dict]] = {}
        for p in ctx.programs:
            why = self.static_problem(p)
            got = why if why else self._tests(p, ctx.truths)
            if isinstance(got, str):
                unusable[p.id] = got
            else:
                tests[p.id] = got
        programs = [p for p in ctx.programs if p.id in tests]

        # the original must pass the tests it will be judged by (a broken reference asks nothing)
        judged = [p for p in programs if tests[p.id][1].get("tests")]
        for p, (outcome, detail) in zip(judged, run_tests([(padded_subject(p), self._judged_as(tests[p.id][1],
                                                                                              padded_subject(p)))
                                                           for p in judged], ctx.run_jobs)):
            if outcome != "correct":
                unusable[p.id] = f"{REFERENCE_FAILS}: {outcome}" + (f" ({detail})" if detail else "")
        programs = [p for p in programs if p.id not in unusable]

        padded: dict[str, Padded] = {}
        failures: dict[str, list[str]] = {}
        todo = programs
        for attempt in range(ATTEMPTS):
            if not todo:
                break
            made: dict[str, Padded] = {}
            for p in todo:
                try:
                    made[p.id] = pad(padded_subject(p), f"{p.benchmark}/{p.id}", ctx.seed, attempt)
                except PaddingError as e:
                    failures.setdefault(p.id, []).append(f"attempt {attempt}: {e}")
            bad = self._verify([p for p in todo if p.id in made], made, tests, ctx)
            for pid, why in bad.items():
                failures.setdefault(pid, []).append(f"attempt {attempt}: {why}")
            padded.update({pid: pad_ for pid, pad_ in made.items() if pid not in bad})
            todo = [p for p in todo if p.id not in padded]
        for p in todo:
            unusable[p.id] = f"{NOT_PADDED}: " + "; ".join(failures.get(p.id, ["no attempt"]))[:500]

        items = [self._dsr_item(p, ctx.truths, padded[p.id], *tests[p.id]) for p in programs if p.id in padded]
        ctx.manifest_extra["dsr_padding"] = {
            "transform": TRANSFORM,
            "seed": ctx.seed,
            "attempts": ATTEMPTS,
            "padded": len(padded),
            "retried": sum(1 for pad_ in padded.values() if pad_.attempt > 0),
            "left_out": {pid: why for pid, why in unusable.items() if why.startswith(NOT_PADDED)},
            "programs": {pid: {**pad_.record(), "failed_attempts": failures.get(pid, [])}
                         for pid, pad_ in padded.items()},
        }
        record_usage(ctx, self.name, usage(ctx.programs, items, unusable))
        yield Stage(None, items)

    def _verify(self, programs: list[Program], made: dict[str, Padded], tests: dict[str, tuple[str, dict]],
                ctx: StageContext) -> dict[str, str]:
        """Program id -> why its padded program does not behave as the original (absent: it does)."""
        bad: dict[str, str] = {}
        ids = {p.id: f"{p.id}@padded-{made[p.id].attempt}" for p in programs}
        copies = [p.model_copy(update={"id": ids[p.id], "source": with_padding(p, made[p.id].source),
                                       "meta": {**p.meta, "reference_id": p.id, "padding": made[p.id].record()}})
                  for p in programs]
        truths = ctx.execute(copies) if copies else {}
        for p in programs:
            for inp in p.inputs:
                original = ctx.truths.get((p.id, inp.index))
                if original is None or original.status not in RUNNABLE:
                    continue
                got = truths.get((ids[p.id], inp.index))
                if got is None or got.status not in RUNNABLE or got.expected != original.expected:
                    what = got.reason if got is not None and got.status not in RUNNABLE else \
                        f"gives {(got.expected if got else None)!r:.80} for {original.expected!r:.80}"
                    bad[p.id] = f"input {inp.index}: {what}"
                    break
        judged = [p for p in programs if p.id not in bad and tests[p.id][1].get("tests")]
        for p, (outcome, detail) in zip(judged, run_tests([(made[p.id].source,
                                                            self._judged_as(tests[p.id][1], made[p.id].source))
                                                           for p in judged], ctx.run_jobs)):  # type: ignore[arg-type]
            if outcome != "correct":
                bad[p.id] = f"fails the tests: {outcome}" + (f" ({detail})" if detail else "")
        stdin = [p for p in programs if p.id not in bad and tests[p.id][1].get("io_pairs")]
        pairs = [(made[p.id].source, [tuple(x) for x in tests[p.id][1]["io_pairs"]]) for p in stdin]
        for p, (outcome, detail) in zip(stdin, run_stdin_pairs(pairs, ctx.run_jobs, limits=LIMITS)):  # type: ignore[arg-type]
            if outcome != "correct":
                bad[p.id] = f"input/output pairs: {outcome}" + (f" ({detail})" if detail else "")
        return bad

    @staticmethod
    def _judged_as(context: dict, shown: str) -> dict:
        """The judge context for code tested against a class item's tests with `shown` as the
        class a lone method would be spliced into (other items: unchanged)."""
        return {**context, "class_source": shown} if context.get("class_name") else context

    # ------------------------------------------------------------------ the report's summary

    def summarize(self, samples: Sequence[dict]) -> dict:
        return {
            "s_dsr": mean_score([float(s.get("score") or 0.0) for s in samples]),
            "pass_rate": rate(s["correct"] for s in samples),
            "pass_and_shorter": rate(bool(s["correct"] and (s.get("measures") or {}).get("shorter"))
                                     for s in samples),
        }

    def summary_cells(self, summary: dict) -> dict[str, str]:
        return {"S_DSR": score_cell(summary.get("s_dsr")), "DSR pass": rate_cell(summary.get("pass_rate")),
                "DSR pass+shorter": rate_cell(summary.get("pass_and_shorter"))}


def mean_score(scores: list[float], seed: int = 0) -> dict:
    """The mean of per-sample scores in [0, 1] with a 95% percentile bootstrap interval."""
    n = len(scores)
    if not n:
        return {"n": 0, "sum": 0.0, "score": None, "ci_low": None, "ci_high": None}
    rng = random.Random(seed)
    means = sorted(sum(scores[rng.randrange(n)] for _ in range(n)) / n for _ in range(BOOTSTRAP))
    return {"n": n, "sum": sum(scores), "score": sum(scores) / n,
            "ci_low": means[int(0.025 * BOOTSTRAP)], "ci_high": means[int(0.975 * BOOTSTRAP) - 1]}


def score_cell(s: dict | None) -> str:
    return "-" if not s or s.get("score") is None else f"{100 * s['score']:.1f} (n={s['n']})"
