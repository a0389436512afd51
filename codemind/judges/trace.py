"""The judge of trace questions (task ``trace``): the answer against what the trace recorded.

Everything is decided here, in the judge's process, and no answer is ever executed:

* ``coverage``: yes/no (also true/false), against whether the line ran;
* ``state``: a Python literal read with ``ast.literal_eval`` (or the reprs ``groundtruth.parse_value``
  reads: ``set()``, ``inf``, ``frozenset({...})``...), compared with the recorded plain value by
  ``compare.same`` (strict types); ``Nil`` for a line that never runs. REval's ``value; type`` form
  is accepted (the type part is ignored: the value's type is compared strictly anyway). An answer
  that is no literal is ``invalid_answer``;
* ``path`` and ``loops``: an integer (``line 7`` is read as 7);
* ``output``: the return value: a literal or a repr ``parse_value`` reads (``Counter({...})``)
  compared here as ground truth compares labels, any other answer judged as output prediction is
  (the ``value`` judge: a pure expression in the sandbox); a return value whose repr is no value (``<class 'str'>``
  inside) is matched by its repr's text, whitespace runs collapsed.

The question is ``item.context["question"]`` (kind, line, variable, and for state the plain-value
encoding of the expected value); the judgement's ``measures`` repeat it so reports and
``codemind.load`` can group by question kind and line.
"""

from __future__ import annotations

import re
from typing import Sequence

from codemind.groundtruth import _NO_VALUE, parse_value
from codemind.judges.base import Case, Judge
from codemind.judges.compare import same
from codemind.judges.value import ValueJudge
from codemind.sandbox.base import Sandbox
from codemind.sandbox.runner.plainvalues import decode
from codemind.schema import Judgement
from codemind.tasks.tracing import NIL

_INT = re.compile(r"(?:line\s*)?(-?\d+)\.?", re.I)
_TYPE_SUFFIX = re.compile(r"^(.*);\s*[A-Za-z_][\w.]*\s*$", re.S)
YES = frozenset({"yes", "true"})
NO = frozenset({"no", "false"})


def measures_of(item) -> dict:
    q = item.context.get("question") or {}
    return {k: q[k] for k in ("question", "line", "variable", "executed") if k in q}


class TraceJudge(Judge):
    name = "trace"
    rel_tol = 1e-9

    def judge(self, cases: Sequence[Case], sandbox: Sandbox | None) -> list[Judgement]:
        out: list[Judgement | None] = [None] * len(cases)
        outputs = []
        for k, c in enumerate(cases):
            if (c.item.context.get("question") or {}).get("question") != "output":
                continue
            expected = parse_value(c.item.expected) if c.extracted and c.item.expected is not None else _NO_VALUE
            answer = parse_value(c.extracted) if expected is not _NO_VALUE else _NO_VALUE
            if c.extracted and c.item.expected is not None and expected is _NO_VALUE:
                # a return value that is no value (<class 'str'> inside): only its repr matches
                ok = " ".join(c.extracted.split()) == " ".join(c.item.expected.split())
                out[k] = self._verdict(c.extracted, ok).model_copy(
                    update={"detail": "reference compared by repr", "measures": measures_of(c.item)})
            elif answer is not _NO_VALUE:  # a literal, or a repr parse_value reads (Counter({...}), set())
                out[k] = self._verdict(c.extracted, same(answer, expected, self.rel_tol)).model_copy(
                    update={"measures": measures_of(c.item)})
            else:
                outputs.append(k)
        if outputs:
            judged = ValueJudge().judge([cases[k] for k in outputs], sandbox)
            for k, j in zip(outputs, judged):
                out[k] = j.model_copy(update={"measures": measures_of(cases[k].item)})
        for k, case in enumerate(cases):
            if out[k] is None:
                out[k] = self._one(case).model_copy(update={"measures": measures_of(case.item)})
        return [j for j in out if j is not None]

    def _one(self, case: Case) -> Judgement:
        ans, item = case.extracted, case.item
        q = item.context.get("question") or {}
        if ans is None or not ans.strip():
            return Judgement(extracted=ans, outcome="truncated" if case.finish_reason == "length" else "no_answer",
                             correct=False)
        text = ans.strip().strip("`").strip()
        kind = q.get("question")
        if kind == "coverage":
            word = text.lower().rstrip(".!")
            if word not in YES | NO:
                return Judgement(extracted=ans, outcome="unparsable", correct=False, detail="not yes or no")
            ok = (word in YES) == bool(q.get("executed"))
            return self._verdict(ans, ok)
        if kind in ("path", "loops"):
            m = _INT.fullmatch(text)
            if m is None:
                return Judgement(extracted=ans, outcome="unparsable", correct=False, detail="not a number")
            return self._verdict(ans, str(int(m.group(1))) == item.expected)
        if kind == "state":
            if text.lower() == NIL.lower():
                return self._verdict(ans, q.get("value") is None)
            if q.get("value") is None:  # the line never runs: only Nil is right
                value = parse_value(text)
                if value is _NO_VALUE and not _TYPE_SUFFIX.fullmatch(text):
                    return Judgement(extracted=ans, outcome="unparsable", correct=False, detail="not a literal or Nil")
                return self._verdict(ans, False)
            value = parse_value(text)
            if value is _NO_VALUE:
                m = _TYPE_SUFFIX.fullmatch(text)  # REval's "value; type"
                value = parse_value(m.group(1)) if m else _NO_VALUE
            if value is _NO_VALUE:
                return Judgement(extracted=ans, outcome="invalid_answer", correct=False,
                                 detail="not a literal (answers are never executed)")
            expected = decode(q["value"])
            if isinstance(expected, dict) and type(expected) is not dict:
                expected = dict(expected)  # Counter, OrderedDict, defaultdict: parse_value reads them as dicts
            return self._verdict(ans, same(value, expected, self.rel_tol))
        return Judgement(extracted=ans, outcome="sandbox_error", correct=False, detail=f"unknown question {kind!r}")

    @staticmethod
    def _verdict(ans: str, ok: bool) -> Judgement:
        return Judgement(extracted=ans, outcome="correct" if ok else "wrong_value", correct=ok)
