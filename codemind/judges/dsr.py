"""`dsr`: is the model's shorter program right, and how much shorter is it? (CodeMind DSR)

Pass/fail is decided by the existing judges' machinery, never again here:
- function and class items (HumanEval, CRUXEval, ClassEval): the item's tests, exactly as the
  `tests` judge runs them (judges/tests.py run_tests: each call's plain value comes back from
  the sandbox and every assert is evaluated in this process, so exit(0), always-equal objects
  or patched builtins are not a pass);
- stdin items (Avatar): the answer runs on each shown input and its stdout is compared with
  the executed output as the `stdout` judge compares (judges/stdout.py run_stdin_pairs).

Then the LoC weight of CodeMind's scripts/test_refactor.py, with the lines of code counted by
codemind/tasks/loc.py normalized_loc, on each program as ast.unparse writes it (the authors
count cleaned copies of all three; C the original program, C+ the padded one shown, C' the
answer):

    score = pass * 1[LoC(C') < LoC(C+)] * LoC(C) / max(LoC(C), LoC(C'))

The sample is `correct` when the answer passes (the plain pass rate); `score` and `measures`
(loc_original, loc_padded, loc_answer, shorter) go into the sample. The item's context holds
loc_original and loc_padded (tasks/dsr.py) and, for stdin items, `io_pairs`.
"""

from __future__ import annotations

from typing import Sequence

from codemind.judges.base import Case, Judge
from codemind.judges.stdout import run_stdin_pairs
from codemind.judges.tests import LIMITS, run_tests
from codemind.sandbox.base import Sandbox
from codemind.sandbox.cache import run_cached
from codemind.schema import Judgement
from codemind.tasks.loc import normalized_loc


def dsr_score(passed: bool, loc_original: int, loc_padded: int, loc_answer: int | None) -> float:
    """CodeMind's per-item DSR score (test_refactor.py): 0 unless the answer passes and is
    shorter than the padded program; then LoC(C) / max(LoC(C), LoC(C'))."""
    if not passed or loc_answer is None or not loc_answer < loc_padded:
        return 0.0
    return loc_original / max(loc_original, loc_answer, 1)


def answer_program(code: str, context: dict) -> str:
    """The program whose lines count: the answer, or for a class item the class it stands for
    (a lone method is spliced into the padded class shown, as the tests judge it)."""
    if context.get("class_name"):
        from codemind.judges.unittest_checks import class_under_test

        return class_under_test(code, context)
    return code


class DSRJudge(Judge):
    name = "dsr"

    def judge(self, cases: Sequence[Case], sandbox: Sandbox | None) -> list[Judgement]:
        out: list[Judgement | None] = [None] * len(cases)
        tests, stdin = [], []
        for i, case in enumerate(cases):
            if not case.extracted:
                outcome = "truncated" if case.finish_reason == "length" else "no_answer"
                out[i] = self._graded(case, outcome, None)
            elif case.item.context.get("io_pairs") is not None:
                stdin.append(i)
            else:
                tests.append(i)
        if (tests or stdin) and sandbox is None:
            raise RuntimeError("the dsr judge needs a sandbox")

        def run(jobs):
            return run_cached(sandbox, jobs)  # type: ignore[arg-type]

        verdicts = run_tests([(cases[i].extracted or "", cases[i].item.context) for i in tests], run)
        verdicts += run_stdin_pairs([(cases[i].extracted or "", [tuple(p) for p in cases[i].item.context["io_pairs"]])
                                     for i in stdin], run, limits=LIMITS)
        for i, (outcome, detail) in zip(tests + stdin, verdicts):
            out[i] = self._graded(cases[i], outcome, detail)
        return out  # type: ignore[return-value]

    @staticmethod
    def _graded(case: Case, outcome: str, detail: str | None) -> Judgement:
        context = case.item.context
        loc_original, loc_padded = context.get("loc_original"), context.get("loc_padded")
        loc_answer = normalized_loc(answer_program(case.extracted, context)) if case.extracted else None
        passed = outcome == "correct"
        if not isinstance(loc_original, int) or not isinstance(loc_padded, int):
            return Judgement(extracted=case.extracted, outcome="sandbox_error", correct=False,
                             detail="the item has no lines-of-code figures (not a DSR item)")
        score = dsr_score(passed, loc_original, loc_padded, loc_answer)
        measures = {"loc_original": loc_original, "loc_padded": loc_padded, "loc_answer": loc_answer,
                    "shorter": loc_answer is not None and loc_answer < loc_padded}
        return Judgement(extracted=case.extracted, outcome=outcome, correct=passed, detail=detail,  # type: ignore[arg-type]
                         score=score, measures=measures)
