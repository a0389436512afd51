"""`tests`: is model-written code right? Run it with the benchmark's own tests in the sandbox.

Used by DER and SR synthesis. The answer is the extracted code; item.context["tests"] is
test code that raises when the code is wrong (HumanEval's check(), MBPP's asserts). Only a
clean run is correct: a failed assert is wrong_value, code that does not compile is
unparsable, a hang is timeout. Test runs go through the execution cache, so they are a
cached stage of their own.
"""

from __future__ import annotations

from typing import Sequence

from codemind.judges.base import JUDGES, Case, Judge
from codemind.sandbox.base import Sandbox
from codemind.sandbox.cache import run_cached
from codemind.schema import ExecJob, Judgement, Limits

LIMITS = Limits(cpu_seconds=10, wall_seconds=15, memory_mb=1024)
_UNPARSABLE = ("SyntaxError", "IndentationError", "TabError")


def test_program(code: str, context: dict) -> str:
    return f"{context.get('test_setup') or ''}\n{code}\n\n{context['tests']}\n"


@JUDGES.register("tests")
class TestsJudge(Judge):
    name = "tests"
    __test__ = False

    def judge(self, cases: Sequence[Case], sandbox: Sandbox | None) -> list[Judgement]:
        out: list[Judgement | None] = [None] * len(cases)
        jobs, where = [], []
        for i, case in enumerate(cases):
            if not case.extracted:
                outcome = "truncated" if case.finish_reason == "length" else "no_answer"
                out[i] = Judgement(extracted=None, outcome=outcome, correct=False)
                continue
            jobs.append(ExecJob(source=test_program(case.extracted, case.item.context), limits=LIMITS))
            where.append(i)
        if jobs:
            if sandbox is None:
                raise RuntimeError("the tests judge needs a sandbox")
            # through the execution cache: a resumed run never re-executes a finished test run
            for i, ex in zip(where, run_cached(sandbox, jobs)):
                out[i] = _judgement(cases[i].extracted, ex)
        return out  # type: ignore[return-value]


def _judgement(code: str | None, ex) -> Judgement:
    if ex.status == "ok":
        return Judgement(extracted=code, outcome="correct", correct=True)
    if ex.status == "timeout":
        return Judgement(extracted=code, outcome="timeout", correct=False)
    if ex.status == "sandbox_error":
        return Judgement(extracted=code, outcome="sandbox_error", correct=False, detail=ex.stderr[-300:] or None)
    if ex.status == "compile_error" or (ex.status == "exception" and ex.exc_type in _UNPARSABLE):
        return Judgement(extracted=code, outcome="unparsable", correct=False, detail=ex.exc_type)
    detail = ex.exc_type or ex.status
    return Judgement(extracted=code, outcome="wrong_value", correct=False, detail=detail)
