"""Judge for stdin programs (CodeNet/Avatar style, Python or Java): compare predicted stdout
with the executed stdout after normalisation: ``\\r\\n`` -> ``\\n``, trailing whitespace stripped
from every line, leading and trailing blank lines dropped (answer formats such as CodeMind's
``<<<Output>>>\\nYES`` put the output on the line after the tag) and the leading whitespace of
the first line dropped (every answer extractor strips the answer, so a program that prints
`` YES`` could never be answered right otherwise). Option ``float_tol`` (default None = off):
when set, lines are split into whitespace-separated tokens and two tokens that both parse as
floats are equal within that absolute-or-relative tolerance (typical of judge systems).
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

from codemind.judges.base import Case, Judge
from codemind.sandbox.base import Sandbox
from codemind.schema import ExecJob, Execution, Judgement, Limits

_UNPARSABLE = ("SyntaxError", "IndentationError", "TabError")


def normalise(text: str) -> list[str]:
    """Lines without trailing whitespace, without leading or trailing empty lines."""
    lines = [ln.rstrip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    return [lines[start].lstrip(), *lines[start + 1:]] if start < len(lines) else []


def _float(tok: str) -> float | None:
    try:
        return float(tok)
    except ValueError:
        return None


def _tokens_equal(a: str, b: str, tol: float) -> bool:
    if a == b:
        return True
    fa, fb = _float(a), _float(b)
    if fa is None or fb is None or math.isnan(fa) or math.isnan(fb):
        return False
    return math.isclose(fa, fb, rel_tol=tol, abs_tol=tol)


def stdout_equal(predicted: str, expected: str, float_tol: float | None = None) -> bool:
    """True when the two outputs are the same after normalisation (and float tolerance)."""
    pa, pb = normalise(predicted), normalise(expected)
    if float_tol is None:
        return pa == pb
    if len(pa) != len(pb):
        return False
    for la, lb in zip(pa, pb):
        ta, tb = la.split(), lb.split()
        if len(ta) != len(tb) or not all(_tokens_equal(x, y, float_tol) for x, y in zip(ta, tb)):
            return False
    return True


class StdoutJudge(Judge):
    name = "stdout"
    allowed_options = frozenset({"float_tol"})

    def __init__(self, **options):
        super().__init__(**options)
        tol = self.option("float_tol", None, (int, float))
        self.float_tol = None if tol is None else float(tol)

    def judge(self, cases: Sequence[Case], sandbox: Sandbox | None) -> list[Judgement]:
        out = []
        for case in cases:
            ans = case.extracted
            if ans is None or not ans.strip():
                outcome = "truncated" if case.finish_reason == "length" else "no_answer"
                # an empty prediction is still right for a program that prints nothing
                if ans is not None and case.item.expected is not None and not normalise(case.item.expected):
                    out.append(Judgement(extracted=ans, outcome="correct", correct=True))
                else:
                    out.append(Judgement(extracted=ans, outcome=outcome, correct=False))
                continue
            if case.item.expected is None:
                out.append(Judgement(extracted=ans, outcome="sandbox_error", correct=False,
                                     detail="no executed ground truth for this item"))
                continue
            ok = stdout_equal(ans, case.item.expected, self.float_tol)
            out.append(Judgement(extracted=ans, outcome="correct" if ok else "wrong_value", correct=ok))
        return out


def run_stdin_pairs(pairs: Sequence[tuple[str, Sequence[tuple[str, str]]]],
                    run_jobs: Callable[[list[ExecJob]], list[Execution]], float_tol: float | None = None,
                    limits: Limits | None = None) -> list[tuple[str, str | None]]:
    """(outcome, detail) of each (Python stdin program, [(stdin, expected stdout), ...]): the
    program is run on every stdin in the sandbox (`run_jobs`, through the execution cache) and
    its stdout compared with the expected one as this judge compares a predicted output. Only
    the captured stdout and the run's status come back, so the program can print its answer but
    cannot decide the comparison; a run that does not end normally is never a pass. Used by
    DSR, whose answers are programs."""
    jobs, owner = [], []
    for k, (code, io_pairs) in enumerate(pairs):
        for stdin, _ in io_pairs:
            jobs.append(ExecJob(language="python", source=code, stdin=stdin, limits=limits or Limits()))
            owner.append(k)
    results: list[list[tuple[Execution, str]]] = [[] for _ in pairs]
    for k, ex, (_, expected) in zip(owner, run_jobs(jobs) if jobs else [],
                                    (p for _, io_pairs in pairs for p in io_pairs)):
        results[k].append((ex, expected))
    out = []
    for (code, io_pairs), runs in zip(pairs, results):
        if not io_pairs:
            out.append(("sandbox_error", "no input/output pair to run"))
            continue
        out.append(_stdin_verdict(runs, float_tol))
    return out


def _stdin_verdict(runs: list[tuple[Execution, str]], float_tol: float | None) -> tuple[str, str | None]:
    for n, (ex, expected) in enumerate(runs):
        if ex.status == "timeout":
            return "timeout", f"input {n}"
        if ex.status == "sandbox_error":
            return "sandbox_error", (ex.stderr or "")[-300:] or None
        if ex.status == "compile_error" or (ex.status == "exception" and ex.exc_type in _UNPARSABLE):
            return "unparsable", ex.exc_type
        if ex.status == "tampered":
            return "exited_early", "wrote to the result channel"
        if ex.status != "ok":
            return "wrong_value", f"input {n}: {ex.status}: {ex.exc_type or ''} {ex.exc_message or ''}".strip()[:300]
        if not stdout_equal(ex.stdout, expected, float_tol):
            return "wrong_value", f"input {n}: printed {ex.stdout[:100]!r}, expected {expected[:100]!r}"
    return "correct", None
