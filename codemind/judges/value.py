"""The default judge: is the predicted value the value the program really produced?

Reference: ``item.expected`` (the executed ground truth: the repr of the return value, or the
stdout of a stdin program), never the dataset label.

* ``answer_kind == "value"`` (output prediction): both sides are parsed with
  ``ast.literal_eval`` and compared with ``compare.same`` (strict types: ``1`` != ``1.0``,
  ``True`` != ``1``, ``(1, 2)`` != ``[1, 2]``; floats within 1e-9 relative; nan == nan;
  ``-0.0`` == ``0.0``; dicts/sets order-free). When either side is not a literal (``inf``,
  ``frozenset({1})``, ``float('-inf')``, ``2 ** 10``...), both are evaluated in the sandbox (with
  ``inf``/``nan`` defined, no access to the program) and compared there with the same code;
  a reference that cannot be evaluated (e.g. ``<object at 0x...>``) is compared by repr.
* ``answer_kind == "call"`` (input prediction): the answer must be one call of the entry
  point; the sandbox runs the program, evaluates the call and compares its value with the
  reference the same strict way.
* ``answer_kind == "stdout"``: delegated to the ``stdout`` judge's normalised comparison.

Outcomes: no answer -> ``no_answer`` (``truncated`` if finish_reason is "length"); an answer
that is not valid Python -> ``unparsable``; one that parses but raises when evaluated (say
``undefined_name`` or ``1/0``) -> ``wrong_value`` with the exception in ``detail`` (it is a
well-formed but wrong prediction); evaluation past the time limit -> ``timeout``; a sandbox
failure -> ``sandbox_error``. Option ``rel_tol`` (1e-9), ``timeout`` (5 s).
"""

from __future__ import annotations

import ast
import warnings
from typing import Any, Sequence

from codemind.judges.base import JUDGES, Case, Judge
from codemind.judges.compare import SAME_SOURCE, same
from codemind.judges.stdout import stdout_equal
from codemind.sandbox.base import Sandbox
from codemind.schema import ExecJob, Execution, Judgement, Limits

_EVAL_SOURCE = SAME_SOURCE + r'''

def __codemind_value(answer, expected, rel_tol, program=None, entry=None):
    ns = {"inf": float("inf"), "nan": float("nan")}
    if program is not None:
        ns = {"__name__": "__main__"}
        exec(program, ns)
    try:
        a = eval(compile(answer, "<answer>", "eval"), ns)
    except SyntaxError:
        return ("unparsable", "")
    except BaseException as e:
        return ("raises", type(e).__name__)
    try:
        e = eval(compile(expected, "<expected>", "eval"), {"inf": float("inf"), "nan": float("nan")})
    except BaseException:
        return ("same" if repr(a) == expected else "different", "reference compared by repr")
    return ("same" if same(a, e, rel_tol) else "different", "")
'''


def _literal(text: str) -> tuple[bool, Any]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return True, ast.literal_eval(text.strip())
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _parses(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text.strip(), mode="eval")
        return True
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False


def _is_entry_call(text: str, entry: str | None) -> bool:
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (entry is None or node.func.id == entry)


@JUDGES.register("value")
class ValueJudge(Judge):
    name = "value"

    def __init__(self, **options):
        super().__init__(**options)
        self.rel_tol = float(options.get("rel_tol", 1e-9))
        self.timeout = float(options.get("timeout", 5.0))

    def _job(self, answer: str, expected: str, program: str | None = None, entry: str | None = None) -> ExecJob:
        args = f"{answer.strip()!r}, {expected!r}, {self.rel_tol!r}, {program!r}, {entry!r}"
        lim = Limits(cpu_seconds=self.timeout, wall_seconds=self.timeout + 2.0)
        return ExecJob(source=_EVAL_SOURCE, call=f"__codemind_value({args})", limits=lim)

    def judge(self, cases: Sequence[Case], sandbox: Sandbox | None) -> list[Judgement]:
        out: list[Judgement | None] = [None] * len(cases)
        jobs: list[tuple[int, ExecJob]] = []
        for k, case in enumerate(cases):
            ans, item = case.extracted, case.item
            if ans is None or not ans.strip():
                outcome = "truncated" if case.finish_reason == "length" else "no_answer"
                out[k] = Judgement(extracted=ans, outcome=outcome, correct=False)
                continue
            if item.expected is None:
                out[k] = Judgement(extracted=ans, outcome="sandbox_error", correct=False,
                                   detail="no executed ground truth for this item")
                continue
            if item.answer_kind == "stdout":
                ok = stdout_equal(ans, item.expected)
                out[k] = Judgement(extracted=ans, outcome="correct" if ok else "wrong_value", correct=ok)
                continue
            if not _parses(ans):
                out[k] = Judgement(extracted=ans, outcome="unparsable", correct=False)
                continue
            if item.answer_kind == "call":
                entry = item.context.get("entry_point")
                if not _is_entry_call(ans, entry):
                    out[k] = Judgement(extracted=ans, outcome="unparsable", correct=False,
                                       detail=f"not a call of {entry or 'the entry point'}")
                    continue
                jobs.append((k, self._job(ans, item.expected, item.context.get("source") or "", entry)))
                continue
            ok_a, a = _literal(ans)
            ok_e, e = _literal(item.expected)
            if ok_a and ok_e:
                ok = same(a, e, self.rel_tol)
                out[k] = Judgement(extracted=ans, outcome="correct" if ok else "wrong_value", correct=ok)
                continue
            jobs.append((k, self._job(ans, item.expected)))
        if jobs:
            if sandbox is None:
                from codemind.errors import UserError

                raise UserError("the value judge needs a sandbox to evaluate non-literal answers")
            for (k, _), ex in zip(jobs, sandbox.run([j for _, j in jobs])):
                out[k] = self._from_execution(cases[k].extracted, ex)
        return [j for j in out if j is not None]

    @staticmethod
    def _from_execution(ans: str | None, ex: Execution) -> Judgement:
        if ex.status == "timeout":
            return Judgement(extracted=ans, outcome="timeout", correct=False)
        if ex.status != "ok" or not ex.return_repr:
            if ex.status in ("exception", "memory", "output_limit", "killed"):
                # the program or the answer blew up while being evaluated
                return Judgement(extracted=ans, outcome="wrong_value", correct=False,
                                 detail=f"{ex.status}: {ex.exc_type or ''}".strip())
            return Judgement(extracted=ans, outcome="sandbox_error", correct=False, detail=ex.status)
        try:
            verdict, detail = ast.literal_eval(ex.return_repr)
        except (ValueError, SyntaxError):
            return Judgement(extracted=ans, outcome="sandbox_error", correct=False, detail="bad judge reply")
        if verdict == "same":
            return Judgement(extracted=ans, outcome="correct", correct=True, detail=detail or None)
        if verdict == "unparsable":
            return Judgement(extracted=ans, outcome="unparsable", correct=False)
        if verdict == "raises":
            return Judgement(extracted=ans, outcome="wrong_value", correct=False, detail=f"answer raises {detail}")
        return Judgement(extracted=ans, outcome="wrong_value", correct=False, detail=detail or None)
