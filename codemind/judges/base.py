"""The one interface every judge implements: (item, extracted answer) -> Judgement.

Judges work in batches because some of them execute code (the CRUXEval assertion, the
value judge's fallback) and a batch lets the sandbox run those checks in parallel.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Sequence

from pydantic import BaseModel

from codemind.registry import Registry
from codemind.sandbox.base import Sandbox
from codemind.schema import Item, Judgement


class Case(BaseModel):
    """What a judge sees for one sample: the item, the raw text and the extracted answer
    (None when extraction found nothing)."""

    item: Item
    raw: str | None
    extracted: str | None
    finish_reason: str | None = None


class Judge(ABC):
    name: str = "abstract"

    def __init__(self, **options):
        self.options = options

    @abstractmethod
    def judge(self, cases: Sequence[Case], sandbox: Sandbox | None) -> list[Judgement]:
        """One Judgement per case, in order."""


JUDGES: Registry[type[Judge]] = Registry("judge")
JUDGES.register("value", lazy="codemind.judges.value:ValueJudge")
JUDGES.register("cruxeval", lazy="codemind.judges.cruxeval:CruxEvalJudge")
JUDGES.register("codemind-exact", lazy="codemind.judges.codemind_exact:CodeMindExactJudge")
JUDGES.register("stdout", lazy="codemind.judges.stdout:StdoutJudge")
JUDGES.register("tests", lazy="codemind.judges.tests:TestsJudge")
