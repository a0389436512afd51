"""A throwaway judge for tests/test_adding.py: right when the answer has an even length."""

from __future__ import annotations

from codemind.judges.base import Judge
from codemind.schema import Judgement


class EvenLengthJudge(Judge):
    name = "toy-even"

    def judge(self, cases, sandbox):
        out = []
        for case in cases:
            ok = case.extracted is not None and len(case.extracted) % 2 == 0
            out.append(Judgement(extracted=case.extracted, outcome="correct" if ok else "wrong_value", correct=ok,
                                 detail="toy-even"))
        return out
