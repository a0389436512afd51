"""CodeMind's own IER judge (``get_result()`` in the authors' ``IER/parse_result.py``), to
reproduce the paper's success lists. Both strings are normalised the same way:

1. delete every ``\\n`` and space; 2. replace ``"`` with ``'``; 3. drop one leading and one
trailing ``'`` or backtick; 4. (prediction only) remove ``[END-OF-RESPONSE]``; then compare
for exact equality.

The authors compared with the dataset's ``output.txt`` (often not what the program really
prints; see the codemind data SOURCE.md), so the reference is ``item.label`` when present
(option ``against="label"``, the default) and the executed ``item.expected`` otherwise; with
``against="executed"`` the executed output is used. A blank prediction is judged too (it is
right when the reference normalises to the empty string, as the authors' judge did).

Against the label the judge needs no executed output, so it declares ``uses_label``: IER then
also asks the inputs whose program does not run here (Python 2, a compile error, a timeout...)
or that the adapter left out (AVATAR inputs over the prompt byte cap), as the authors did;
those ``label_only`` items are judged on the label alone and their samples say so in
``detail``. With ``against="executed"`` they are never built.
"""

from __future__ import annotations

from typing import Sequence

from codemind.errors import UserError
from codemind.judges.base import Case, Judge
from codemind.sandbox.base import Sandbox
from codemind.schema import Judgement

END = "[END-OF-RESPONSE]"


def normalise(text: str, prediction: bool = False) -> str:
    """The authors' normalisation (steps 1-4 above)."""
    s = text.replace("\n", "").replace(" ", "")
    s = s.replace('"', "'")
    if s[:1] in ("'", "`"):
        s = s[1:]
    if s[-1:] in ("'", "`"):
        s = s[:-1]
    if prediction:
        s = s.replace(END, "")
    return s


def exact_match(prediction: str, reference: str) -> bool:
    return normalise(prediction, prediction=True) == normalise(reference)


class CodeMindExactJudge(Judge):
    name = "codemind-exact"
    allowed_options = frozenset({"against"})

    def __init__(self, **options):
        super().__init__(**options)
        self.against = options.get("against", "label")
        if self.against not in ("label", "executed"):
            raise UserError(f"codemind-exact judge: against must be 'label' or 'executed', not '{self.against}'")

    @property
    def uses_label(self) -> bool:
        return self.against == "label"

    def judge(self, cases: Sequence[Case], sandbox: Sandbox | None) -> list[Judgement]:
        out = []
        for case in cases:
            ans = case.extracted
            item = case.item
            ref = item.label if self.against == "label" and item.label is not None else item.expected
            only = f"judged on the label only (ground truth {item.ground_truth})" if item.label_only else None
            if ans is None:
                outcome = "truncated" if case.finish_reason == "length" else "no_answer"
                out.append(Judgement(extracted=ans, outcome=outcome, correct=False, detail=only))
            elif ref is None:
                out.append(Judgement(extracted=ans, outcome="sandbox_error", correct=False,
                                     detail="no reference output"))
            else:
                ok = exact_match(ans, ref)
                detail = only or (None if ok or ref is item.label else "against executed output")
                out.append(Judgement(extracted=ans, outcome="correct" if ok else "wrong_value", correct=ok,
                                     detail=detail))
        return out
