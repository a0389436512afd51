"""What a job's calls gave, decoded in the host: the bridge between the sandbox and a verdict.

A job with ``calls`` (schema.ExecJob) reports one record per call that finished: a plain value
(sandbox/runner/plainvalues.py), the exception it raised, or why its result is not a plain
value. ``call_outcomes`` turns them into Python values here, in the judge's process; a record
that does not decode can only be one the code under test wrote itself (``tampered``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from codemind.sandbox.runner.plainvalues import decode
from codemind.schema import Execution

Kind = Literal["value", "raised", "not_value", "tampered"]


@dataclass(frozen=True)
class CallOutcome:
    kind: Kind
    value: Any = None  # the decoded plain value (kind "value")
    detail: str | None = None  # exception type and message, or why it is not a value
    truthy: bool | None = None  # kind "not_value": the result's truth value, when it has one


def call_outcomes(ex: Execution) -> list[CallOutcome]:
    """One outcome per call that reported, in order (fewer than the job's calls when the code
    ended first)."""
    out: list[CallOutcome] = []
    for v in ex.values or ():
        if v.value is not None:
            try:
                out.append(CallOutcome("value", decode(v.value)))
            except ValueError as e:
                out.append(CallOutcome("tampered", detail=f"an undecodable value ({e})"))
        elif v.raised is not None:
            detail = f"{v.raised}: {v.message}" if v.message else v.raised
            out.append(CallOutcome("raised", detail=detail[:300]))
        else:
            truthy = {"true": True, "false": False}.get(v.truthy or "")
            out.append(CallOutcome("not_value", detail=v.not_value or "?", truthy=truthy))
    return out
