"""The default judge: is the predicted value the value the program really produced?

Reference: ``item.expected`` (the executed ground truth: the repr of the return value, or the
stdout of a stdin program), never the dataset label. It is read into a value here, in the
judge's process, without executing anything (groundtruth.parse_value: literals, ``set()``,
``inf``, ``nan``, ``frozenset(...)``, dict subclasses' reprs); a reference that is no value
(``<object at 0x...>``) is compared by repr.

* ``answer_kind == "value"`` (output prediction): a literal answer is read with
  ``ast.literal_eval`` and compared with ``compare.same`` (strict types: ``1`` != ``1.0``,
  ``True`` != ``1``, ``(1, 2)`` != ``[1, 2]``; floats within 1e-9 relative; nan == nan;
  ``-0.0`` == ``0.0``; dicts/sets order-free). Any other answer (``2 ** 10``,
  ``float('-inf')``, ``frozenset({1})``) must be a pure expression (judges/purity.py: no
  program, no imports, no dunders, ``inf`` and ``nan`` defined) or it is ``invalid_answer``
  without running; it is evaluated in the sandbox and its plain value (or that it is none:
  ``invalid_answer``) comes back to be compared here.
* ``answer_kind == "call"`` (input prediction): the answer must be one call of the entry
  point with pure arguments; the sandbox runs the program and the call, and the value it
  returns is compared here the same strict way.
* ``answer_kind == "stdout"``: delegated to the ``stdout`` judge's normalised comparison.

Outcomes: no answer -> ``no_answer`` (``truncated`` if finish_reason is "length"); an answer
that is not valid Python -> ``unparsable``; not a value (impure, not a plain value, ends the
process) -> ``invalid_answer``; one that raises when evaluated (``1/0``) -> ``wrong_value``
with the exception in ``detail``; evaluation past the time limit -> ``timeout``; a sandbox
failure -> ``sandbox_error``. Option ``rel_tol`` (1e-9), ``timeout`` (5 s).
"""

from __future__ import annotations

import ast
from typing import Any, Sequence

from codemind import resources
from codemind.groundtruth import _NO_VALUE, parse_value
from codemind.judges.base import Case, Judge
from codemind.judges.compare import same
from codemind.judges.purity import impurity, parse_expression, program_names
from codemind.judges.stdout import stdout_equal
from codemind.judges.values import call_outcomes
from codemind.sandbox.base import Sandbox
from codemind.schema import ExecJob, Execution, Judgement, Limits

# what a non-literal output prediction may name besides the pure builtins (CRUXEval-style
# outputs print infinities and nans as inf and nan)
VALUE_PRELUDE = resources.text("codemind.judges", "snippets/value_prelude.py")
VALUE_NAMES = frozenset({"inf", "nan"})


def _literal(tree: ast.Expression) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(tree)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


class ValueJudge(Judge):
    name = "value"

    def __init__(self, **options):
        super().__init__(**options)
        self.rel_tol = float(options.get("rel_tol", 1e-9))
        self.timeout = float(options.get("timeout", 5.0))

    def _limits(self) -> Limits:
        return Limits(cpu_seconds=self.timeout, wall_seconds=self.timeout + 2.0)

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
            tree = parse_expression(ans)
            if tree is None:
                out[k] = Judgement(extracted=ans, outcome="unparsable", correct=False)
                continue
            if item.answer_kind == "call":
                source = item.context.get("source") or ""
                entry = item.context.get("entry_point")
                node = tree.body
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and (entry is None or node.func.id == entry)):
                    out[k] = Judgement(extracted=ans, outcome="unparsable", correct=False,
                                       detail=f"not a call of {entry or 'the entry point'}")
                    continue
                why = impurity(tree, program_names(source)[0])
                job = ExecJob(source=source, calls=[ans.strip()], limits=self._limits())
            else:
                is_literal, value = _literal(tree)
                if is_literal:
                    out[k] = self._compare(ans, value, item.expected)
                    continue
                why = impurity(tree, VALUE_NAMES)
                job = ExecJob(source=VALUE_PRELUDE, calls=[ans.strip()], limits=self._limits())
            if why is not None:
                out[k] = Judgement(extracted=ans, outcome="invalid_answer", correct=False, detail=f"the answer {why}")
                continue
            jobs.append((k, job))
        if jobs:
            if sandbox is None:
                from codemind.errors import UserError

                raise UserError("the value judge needs a sandbox to evaluate non-literal answers")
            for (k, _), ex in zip(jobs, sandbox.run([j for _, j in jobs])):
                out[k] = self._from_execution(cases[k].extracted, ex, cases[k].item.expected)
        return [j for j in out if j is not None]

    def _compare(self, ans: str | None, value: Any, expected_text: str) -> Judgement:
        expected = parse_value(expected_text)
        if expected is _NO_VALUE:  # a repr that is no value: only the same repr matches
            ok, detail = repr(value) == expected_text, "reference compared by repr"
        else:
            ok, detail = same(value, expected, self.rel_tol), None
        return Judgement(extracted=ans, outcome="correct" if ok else "wrong_value", correct=ok, detail=detail)

    def _from_execution(self, ans: str | None, ex: Execution, expected_text: str) -> Judgement:
        outcomes = call_outcomes(ex)
        if not outcomes:
            if ex.status == "timeout":
                return Judgement(extracted=ans, outcome="timeout", correct=False)
            if ex.status in ("sandbox_error",):
                return Judgement(extracted=ans, outcome="sandbox_error", correct=False, detail=ex.status)
            if ex.status in ("exception", "memory", "compile_error") and ex.exc_type not in (None, "SystemExit"):
                # the program itself failed (input prediction runs it first)
                return Judgement(extracted=ans, outcome="wrong_value", correct=False,
                                 detail=f"{ex.status}: {ex.exc_type}")
            return Judgement(extracted=ans, outcome="invalid_answer", correct=False,
                             detail=f"the evaluation ended before the answer had a value ({ex.status})")
        o = outcomes[0]
        if o.kind == "raised":
            return Judgement(extracted=ans, outcome="wrong_value", correct=False, detail=f"answer raises {o.detail}")
        if o.kind != "value":
            return Judgement(extracted=ans, outcome="invalid_answer", correct=False,
                             detail=f"the answer gives {o.detail}, not a plain value")
        return self._compare(ans, o.value, expected_text)
