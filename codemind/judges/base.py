"""The one interface every judge implements: (item, extracted answer) -> Judgement.

Judges work in batches because some of them execute code (the CRUXEval assertion, the
value judge's fallback) and a batch lets the sandbox run those checks in parallel.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Sequence

from pydantic import BaseModel

from codemind.errors import UserError
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
    allowed_options: frozenset[str] = frozenset()  # what --judge-arg / an evaluation's judge_options may set

    def __init__(self, **options):
        """An option the judge does not know is a UserError: a typo must never silently
        leave a run judged another way than its config says."""
        unknown = set(options) - self.allowed_options
        if unknown:
            known = ", ".join(sorted(self.allowed_options)) or "none"
            raise UserError(f"{self.name} judge: unknown option(s) {', '.join(sorted(unknown))} (known: {known})")
        self.options = options

    @property
    def uses_label(self) -> bool:
        """True when this judge, as configured, compares answers with the dataset's stated label
        (``Item.label``) rather than with the executed ground truth. A task may then also ask
        inputs whose ground truth did not run (or that the adapter excluded) but that carry a
        label: those items are ``label_only`` (no executed output). Judges that compare with
        executed output keep the default, and never see such items."""
        return False

    def option(self, key: str, default, kind: type | tuple[type, ...]):
        """An option's value, checked against its type (bool is not a number here)."""
        value = self.options.get(key, default)
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if value is not None and (not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds)):
            want = " or ".join(k.__name__ for k in kinds)
            raise UserError(f"{self.name} judge: option {key} must be {want}, not {value!r}")
        return value

    @abstractmethod
    def judge(self, cases: Sequence[Case], sandbox: Sandbox | None) -> list[Judgement]:
        """One Judgement per case, in order."""


JUDGES: Registry[type[Judge]] = Registry("judge")
JUDGES.register("value", lazy="codemind.judges.value:ValueJudge")
JUDGES.register("cruxeval", lazy="codemind.judges.cruxeval:CruxEvalJudge")
JUDGES.register("codemind-exact", lazy="codemind.judges.codemind_exact:CodeMindExactJudge")
JUDGES.register("stdout", lazy="codemind.judges.stdout:StdoutJudge")
JUDGES.register("tests", lazy="codemind.judges.tests:TestsJudge")
JUDGES.register("dsr", lazy="codemind.judges.dsr:DSRJudge")
JUDGES.register("trace", lazy="codemind.judges.trace:TraceJudge")
