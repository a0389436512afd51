"""`tests`: is model-written code right? The benchmark's own tests decide, in the judge.

Used by DER and SR synthesis. Java code (HumanEval-X Java) is judged by judges/java_tests.py,
the same way: the test's calls run in the sandbox, their plain values are compared here. item.context["tests"] is the benchmark's test code (HumanEval's
check(), MBPP's asserts), item.context["source"] its reference solution. The tests are split
into checks (judges/testchecks.py): the code runs in the sandbox with the checks' calls, each
call's result comes back as a plain value, and every assert is then evaluated here
(judges/hosteval.py). So the code under test never holds an expected value, and nothing it does
in its process (exit 0, forge the result channel, patch builtins, trace, return an object that
equals anything) can make an assert pass: it can only return values, and the values are
checked here. Tests that cannot be split are run whole by judges/test_harness.py, with the code
under test in a process of its own behind plain-value proxies. A class's method (ClassEval:
item.context has ``class_name``, ``method``, ``class_source``) is tested by its unittest tests,
split by judges/unittest_checks.py the same way (literal expectations stay here; the rewritten
test methods log plain values), after a lone method in the answer is spliced into its class.

Outcomes: correct (every check holds and the program ended normally); wrong_value (a check
fails or a call raises); invalid_answer (a call returned something that is not a plain value);
exited_early (the code ended, or broke the result channel, before every call reported);
unparsable (the code does not compile); timeout; sandbox_error. Test runs go through the
execution cache, so they are a cached stage of their own.
"""

from __future__ import annotations

import ast
import json
from typing import Callable, Sequence

from codemind import resources
from codemind.judges.base import Case, Judge
from codemind.judges.hosteval import evaluate
from codemind.judges.testchecks import TestPlan, plan_tests
from codemind.judges.unittest_checks import UnittestPlan, class_under_test, plan_unittest, records_verdict
from codemind.judges.values import CallOutcome, call_outcomes
from codemind.sandbox.base import Sandbox
from codemind.sandbox.cache import run_cached
from codemind.schema import ExecJob, Execution, Judgement, Limits

LIMITS = Limits(cpu_seconds=10, wall_seconds=15, memory_mb=1024)
_UNPARSABLE = ("SyntaxError", "IndentationError", "TabError")
HARNESS_CALL = "codemind_test_harness()"


def harness_source() -> str:
    """judges/test_harness.py: a program for the sandbox, sent as a job's source (never imported here)."""
    return resources.text("codemind.judges", "test_harness.py")


def _frame(obj: dict) -> str:
    body = json.dumps(obj)
    return f"{len(body.encode('utf-8')):010d}{body}"


def plan_for(context: dict) -> TestPlan:
    return plan_tests(context["tests"], context.get("entry_point"), context.get("source") or "")


def test_job(code: str, context: dict) -> ExecJob:
    """The sandbox job that tests code: its checks' calls, or the whole test in the harness;
    a class's method (ClassEval: context has ``class_name``): its unittest cases, each a call."""
    if context.get("class_name"):
        plan = plan_unittest(context["tests"])
        parts = (context.get("test_setup") or "", class_under_test(code, context),
                 resources.text("codemind.judges", "snippets/unittest_cases.py"), plan.source)
        return ExecJob(source="\n\n".join(p for p in parts if p), calls=plan.calls, limits=LIMITS)
    plan = plan_for(context)
    if plan.complete:
        source = "\n\n".join(p for p in (context.get("test_setup") or "", code, plan.setup) if p)
        return ExecJob(source=source, calls=[c for check in plan.checks for c in check.calls], limits=LIMITS)
    spec = {"reference": context.get("source") or "", "tests": context["tests"], "candidates": list(plan.candidates)}
    return ExecJob(source=harness_source(), stdin=_frame({"code": code}) + _frame(spec),
                   calls=[HARNESS_CALL], limits=LIMITS)


def test_coverage(contexts: dict[str, dict], language: str = "python") -> dict:
    """How the tests of these problems (id -> item context) are judged, for the run manifest:
    split into checks (decided in the judge) or run whole by the harness, and why."""
    harness = {}
    checks = 0
    for pid, context in contexts.items():
        n, reason = _plan_size(context, language)
        checks += n
        if reason is not None:
            harness[pid] = reason
    return {"problems": len(contexts), "as_checks": len(contexts) - len(harness), "checks": checks,
            "run_whole": len(harness), "run_whole_problems": harness}


def _plan_size(context: dict, language: str) -> tuple[int, str | None]:
    """(checks decided in the judge, why the tests are not all checks or None) for one problem."""
    if language == "java":
        from codemind.judges.java_tests import plan_java_tests

        jplan = plan_java_tests(context["tests"])
        return (len(jplan.checks), None) if jplan.complete else (0, jplan.reason)
    if context.get("class_name"):
        uplan = plan_unittest(context["tests"] or "")
        return len(uplan.assertions), None if uplan.complete else uplan.reason
    plan = plan_for(context)
    return (len(plan.checks), None) if plan.complete else (0, plan.reason)


def run_tests(pairs: Sequence[tuple[str, dict]],
              run_jobs: Callable[[list[ExecJob]], list[Execution]]) -> list[tuple[str, str | None]]:
    """(outcome, detail) of each (code, context) under its tests: context as an item's ("tests",
    "entry_point", "source", "test_setup"). `run_jobs` runs sandbox jobs (through the execution
    cache). Also used to check code the harness made (DSR's padded programs) against the tests."""
    if not pairs:
        return []
    out = []
    for (code, context), ex in zip(pairs, run_jobs([test_job(code, context) for code, context in pairs])):
        if context.get("class_name"):
            out.append(_unittest_verdict(plan_unittest(context["tests"]), ex))
            continue
        plan = plan_for(context)
        out.append(_checks_verdict(plan, ex) if plan.complete else _harness_verdict(ex))
    return out


class TestsJudge(Judge):
    name = "tests"
    __test__ = False

    def judge(self, cases: Sequence[Case], sandbox: Sandbox | None) -> list[Judgement]:
        out: list[Judgement | None] = [None] * len(cases)
        where = []
        java = []  # Java code: its tests are split by judges/java_tests.py
        for i, case in enumerate(cases):
            if not case.extracted:
                outcome = "truncated" if case.finish_reason == "length" else "no_answer"
                out[i] = Judgement(extracted=None, outcome=outcome, correct=False)
                continue
            if case.item.language == "java":
                java.append(i)
                continue
            where.append(i)
        if where:
            if sandbox is None:
                raise RuntimeError("the tests judge needs a sandbox")
            # through the execution cache: a resumed run never re-executes a finished test run
            pairs = [(cases[i].extracted or "", cases[i].item.context) for i in where]
            for i, (outcome, detail) in zip(where, run_tests(pairs, lambda jobs: run_cached(sandbox, jobs))):
                out[i] = Judgement(extracted=cases[i].extracted, outcome=outcome, correct=outcome == "correct",
                                   detail=detail)
        if java:
            if sandbox is None:
                raise RuntimeError("the tests judge needs a sandbox")
            from codemind.judges.java_tests import judge_java

            for i, judgement in zip(java, judge_java([cases[i] for i in java], sandbox)):
                out[i] = judgement
        return out  # type: ignore[return-value]


def _checks_verdict(plan: TestPlan, ex: Execution) -> tuple[str, str | None]:
    outcomes = call_outcomes(ex)
    k = 0
    for check in plan.checks:
        got = outcomes[k:k + len(check.calls)]
        k += len(check.calls)
        if len(got) < len(check.calls):
            return _ended(ex)
        env = {}
        tree = ast.parse(check.test, mode="eval")
        for j, o in enumerate(got):
            if o.kind == "not_value" and o.truthy is not None and _truth_test(tree):
                env[f"__v{j}__"] = o.truthy  # ``assert f(x)`` of a re.Match: only its truth counts
            elif o.kind != "value":
                return _call_failed(o, check.text)
            else:
                env[f"__v{j}__"] = o.value
        try:
            holds = bool(evaluate(tree, env))
        except Exception as e:  # what the assert itself would raise
            return "wrong_value", f"{type(e).__name__} in: {check.text[:200]}"
        if not holds:
            return "wrong_value", f"fails: {check.text[:200]}"
    return _clean_end(ex)


def _unittest_verdict(plan: UnittestPlan, ex: Execution) -> tuple[str, str | None]:
    if not plan.complete:
        return "sandbox_error", f"these unittest tests cannot be split into checks: {plan.reason}"
    outcomes = call_outcomes(ex)
    failed = records_verdict(plan, outcomes)
    if failed is not None:
        return failed
    if len(outcomes) < len(plan.cases):
        return _ended(ex)
    return _clean_end(ex)


def _truth_test(tree: ast.Expression) -> bool:
    """The assert only asks for the truth of one value: ``f(x)`` or ``not f(x)``."""
    node = tree.body
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        node = node.operand
    return isinstance(node, ast.Name)


def _harness_verdict(ex: Execution) -> tuple[str, str | None]:
    outcomes = call_outcomes(ex)
    if not outcomes:
        return _ended(ex)
    o = outcomes[0]
    if o.kind != "value" or not isinstance(o.value, list) or not o.value or not isinstance(o.value[0], str):
        return "exited_early", "the test harness did not report"
    kind, *rest = o.value
    detail = ": ".join(str(x) for x in rest)[:300] or None
    if kind == "passed":
        return _clean_end(ex)
    if kind == "exited_early":
        return "exited_early", detail
    if kind == "not_value":
        return "invalid_answer", detail
    if kind == "unsupported":
        return "sandbox_error", f"this test cannot be judged in isolation: {detail}"
    if rest and rest[0] in _UNPARSABLE:
        return "unparsable", rest[0]
    return "wrong_value", detail


def _call_failed(o: CallOutcome, text: str) -> tuple[str, str | None]:
    if o.kind == "not_value":
        return "invalid_answer", f"returned {o.detail}, not a plain value: {text[:200]}"
    if o.kind == "tampered":
        return "exited_early", o.detail
    if o.detail and o.detail.split(":")[0] in ("SystemExit", "KeyboardInterrupt"):
        return "exited_early", f"the call raised {o.detail}: {text[:200]}"
    return "wrong_value", f"raised {o.detail}: {text[:200]}"


def _clean_end(ex: Execution) -> tuple[str, str | None]:
    """Every check held: correct if the program also ended normally."""
    if ex.status == "ok":
        return "correct", None
    if ex.status == "timeout":
        return "timeout", "after the checks"
    return "wrong_value", f"{ex.status} after the checks: {ex.exc_type or ''} {ex.exc_message or ''}".strip()


def _ended(ex: Execution) -> tuple[str, str | None]:
    """Why calls are missing."""
    if ex.status == "timeout":
        return "timeout", ex.exc_message
    if ex.status == "sandbox_error":
        return "sandbox_error", (ex.stderr or "")[-300:] or None
    if ex.status == "compile_error" or (ex.status == "exception" and ex.exc_type in _UNPARSABLE):
        return "unparsable", ex.exc_type
    if ex.status == "memory":
        return "wrong_value", "memory"
    if ex.status == "exception" and ex.exc_type not in (None, "SystemExit"):
        return "wrong_value", f"{ex.exc_type}: {ex.exc_message or ''}"[:300]
    what = "wrote to the result channel" if ex.status == "tampered" else (ex.exc_message or ex.status)
    return "exited_early", f"before every check reported ({what})"
