"""Ground truth: execute every (program, input) and check the dataset's stated labels.

Labels are noisy (docs/architecture.md, "Ground truth"; docs/data-noise.md), so the expected
answer of every item is what the program actually returns (its repr) or prints (stdin
programs), never the label. Where the dataset states a value and execution disagrees, the
item is kept, judged on the executed output, and marked ``label_mismatch``; an item whose
execution fails is ``does_not_run`` and left out of tasks; a program with no usable input at
all gets one ``excluded`` row so that nothing disappears silently. (A judge that compares with
the label, Judge.uses_label, may still have IER ask a labelled does_not_run/excluded input, on
the label only: codemind.tasks.base.label_only_inputs. The statuses here are the same.)
"""

from __future__ import annotations

import ast
import math
import re
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from pydantic import BaseModel, ConfigDict

from codemind.errors import UserError
from codemind.schema import Execution, ExecJob, GroundTruthStatus, Program, TestInput

Progress = Callable[[int], None]

_NO_VALUE = object()
_WRAPPERS: dict[str, Callable[[Any], Any]] = {
    "set": set, "frozenset": frozenset, "sorted": sorted, "tuple": tuple, "list": list,
    "int": int, "float": float, "str": str, "bool": bool, "dict": dict,
}  # fmt: skip


class GroundTruth(BaseModel):
    model_config = ConfigDict(extra="forbid")

    program_id: str
    input_index: int
    execution: Execution | None  # None: nothing was executed (excluded)
    expected: str | None  # return repr (functions) or stdout (stdin programs); None if it did not run
    status: GroundTruthStatus
    reason: str | None = None  # why label_mismatch / does_not_run / excluded


def job_for(program: Program, inp: TestInput) -> ExecJob:
    job = ExecJob(language=program.language, source=program.source, call=inp.call, stdin=inp.stdin or "")
    limits = (program.meta.get("variant") or {}).get("limits")  # a variant runs under its original's time
    return job.model_copy(update={"limits": job.limits.model_copy(update=limits)}) if limits else job


def job_count(programs: Sequence[Program]) -> int:
    """How many executions execute_ground_truth runs for these programs (a progress bar's total):
    one per input, plus the determinism probes of programs that ask for them."""
    return sum(len(p.inputs) * (1 + (len(PROBE_ZONES) if p.meta.get("determinism_probe") else 0)) for p in programs)


def execute_ground_truth(
    programs: Sequence[Program],
    sandbox,
    use_cache: bool = True,
    progress: Progress | None = None,
) -> list[GroundTruth]:
    """One GroundTruth per (program, input), in program order, plus one ``excluded`` row
    (input_index 0) for each program without inputs. Executions go through the execution
    cache keyed by content hash, so a rerun executes nothing."""
    from codemind.sandbox.cache import run_cached  # the execution cache owns its storage

    pairs = [(p, inp) for p in programs for inp in p.inputs]
    probed = [(p, inp) for p, inp in pairs if p.meta.get("determinism_probe")]
    jobs = [job_for(p, i) for p, i in pairs] + [j for p, i in probed for j in probe_jobs(p, i)]
    executions = run_cached(sandbox, jobs, progress=progress, use_cache=use_cache)
    probes = {(p.id, i.index): executions[len(pairs) + k * len(PROBE_ZONES): len(pairs) + (k + 1) * len(PROBE_ZONES)]
              for k, (p, i) in enumerate(probed)}  # fmt: skip
    by_program: dict[str, list[GroundTruth]] = {}
    for (program, inp), execution in zip(pairs, executions):
        truth = assess(program, inp, execution)
        if (program.id, inp.index) in probes and truth.status in ("ok", "label_mismatch"):
            truth = _probed(truth, probes[(program.id, inp.index)], program.kind)
        by_program.setdefault(program.id, []).append(truth)
    out: list[GroundTruth] = []
    for program in programs:
        # inputs the adapter left out (over its byte cap): one excluded row each, with the reason
        over = [
            GroundTruth(program_id=program.id, input_index=x["index"], execution=None, expected=None,
                        status="excluded", reason=x["reason"])
            for x in program.meta.get("excluded_inputs") or []
        ]  # fmt: skip
        if program.inputs or over:
            out += by_program.get(program.id, []) + over
        else:
            out.append(
                GroundTruth(
                    program_id=program.id, input_index=0, execution=None, expected=None,
                    status="excluded", reason=_no_input_reason(program),
                )  # fmt: skip
            )
    return out


# Two clocks 26 hours apart (POSIX TZ strings, no zoneinfo needed): their dates always differ.
PROBE_ZONES = ("CMW+12", "CME-14")


def probe_jobs(program: Program, inp: TestInput) -> list[ExecJob]:
    """The input run again under each of PROBE_ZONES (a fresh interpreter state each time, so
    ``random`` draws again): a program whose value depends on the clock or on chance gives
    another value in at least one of them."""
    from codemind import resources

    prelude = resources.text("codemind", "snippets/clock_probe.py")
    base = job_for(program, inp)
    return [base.model_copy(update={"source": prelude + base.source, "env": {**base.env, "TZ": tz}})
            for tz in PROBE_ZONES]


def _probed(truth: GroundTruth, probes: Sequence[Execution], kind: str) -> GroundTruth:
    """does_not_run (nondeterministic) when a probe run gives another value than the run that
    set the expected answer: a model cannot be judged against one run's clock or random draw."""
    for tz, ex in zip(PROBE_ZONES, probes):
        got = None if ex.status != "ok" else ex.stdout if kind == "stdin" else ex.return_repr
        if got != truth.expected:
            why = f"gives {_short(got)}" if ex.status == "ok" else _failure(ex)
            return truth.model_copy(update={
                "status": "does_not_run", "expected": None,
                "reason": f"nondeterministic: run again (TZ={tz}, fresh random state) it {why}, "
                          f"first run {_short(truth.expected)}"})
    return truth


def _no_input_reason(program: Program) -> str:
    skipped = program.meta.get("skipped_asserts") or []
    if skipped:
        return f"no usable input: {skipped[0]['reason']}"
    return "no usable input"


def assess(program: Program, inp: TestInput, execution: Execution) -> GroundTruth:
    """Status of one executed item: does_not_run, label_mismatch or ok."""
    row = dict(program_id=program.id, input_index=inp.index, execution=execution)
    if execution.status != "ok":
        reason = _failure(execution)
        if program.meta.get("python2"):  # the adapter found it parses only as Python 2
            reason = f"python2: {reason}"
        return GroundTruth(**row, expected=None, status="does_not_run", reason=reason)
    if program.kind == "stdin":
        expected = execution.stdout
        ok = inp.label is None or _norm_stdout(inp.label) == _norm_stdout(expected)
    else:
        expected = execution.return_repr
        if expected is None:
            return GroundTruth(**row, expected=None, status="does_not_run", reason="no return value recorded")
        ok = label_agrees(inp.label, expected, _assert_meta(program, inp.index))
        if not ok and program.meta.get("label_form") == "str":
            ok = _str_form_agrees(inp.label, expected)
    if ok:
        return GroundTruth(**row, expected=expected, status="ok")
    stated = inp.label if inp.label is not None else _assert_meta(program, inp.index).get("assert")
    reason = f"dataset states {_short(stated)}, execution gives {_short(expected)}"
    return GroundTruth(**row, expected=expected, status="label_mismatch", reason=reason)


def _assert_meta(program: Program, index: int) -> dict:
    for a in program.meta.get("asserts") or []:
        if a.get("index") == index:
            return a
    return {}


def _failure(e: Execution) -> str:
    detail = ": ".join(x for x in (e.exc_type, e.exc_message) if x)
    missing = re.fullmatch(r"No module named '([\w.]+)'", e.exc_message or "")
    if e.exc_type == "ModuleNotFoundError" and missing:  # the sandbox image lacks it (docs/data-noise.md)
        return _short(f"needs package {missing.group(1).split('.')[0]}: {e.status}: {detail}", 300)
    if not detail and e.stderr.strip():
        detail = e.stderr.strip().splitlines()[-1]
    return _short(f"{e.status}: {detail}" if detail else e.status, 300)


def _short(text: str | None, limit: int = 120) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _norm_stdout(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


# ---------------------------------------------------------------- comparing values


def parse_value(text: str) -> Any:
    """A Python value from a literal or repr (``set()``, ``frozenset({1})``, ``inf``, ``nan``
    included), or _NO_VALUE when it is not one."""
    text = text.strip()
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    if text == "set()":
        return set()
    if text in ("inf", "-inf", "nan"):
        return float(text)
    # dict subclasses compare equal to dicts (an assert's ``== {...}`` passes): read their contents
    m = re.fullmatch(r"(?:collections\.)?(Counter|OrderedDict|defaultdict)\((.*)\)", text, re.S)
    if m:
        body = m.group(2)
        if m.group(1) == "defaultdict":  # defaultdict(<class 'list'>, {...}): drop the factory
            cut = body.find(", {")
            body = body[cut + 2 :] if cut >= 0 else ""
        inner = parse_value(body) if body.strip() else {}
        try:
            return _NO_VALUE if inner is _NO_VALUE else dict(inner)
        except (TypeError, ValueError):
            return _NO_VALUE
    m = re.fullmatch(r"frozenset\((.*)\)", text, re.S)
    if m:
        inner = parse_value(m.group(1)) if m.group(1) else ()
        try:
            return _NO_VALUE if inner is _NO_VALUE else frozenset(inner)
        except TypeError:
            return _NO_VALUE
    return _NO_VALUE


def values_equal(a: str, b: str) -> bool:
    """Labels vs executed reprs: by value where both parse (``==``, so 1 == 1.0 and
    (1, 2) != [1, 2]), else as text with whitespace runs collapsed."""
    va, vb = parse_value(a), parse_value(b)
    if va is not _NO_VALUE and vb is not _NO_VALUE:
        try:
            return bool(va == vb) or _both_nan(va, vb)
        except Exception:  # exotic __eq__ of a parsed value: fall back to text
            pass
    return " ".join(a.split()) == " ".join(b.split())


def _both_nan(a: Any, b: Any) -> bool:
    return isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)


def label_agrees(label: str | None, got: str, how: dict) -> bool:
    """Does the executed repr satisfy what the dataset's assert states? ``how`` is the
    input's record in Program.meta["asserts"] (relation eq/approx/truthy/falsy/under/other);
    without one a stated label means equality."""
    relation = how.get("relation") or ("eq" if label is not None else "other")
    if relation == "approx" and label is not None:
        a, b = parse_value(label), parse_value(got)
        if _is_number(a) and _is_number(b):
            tol = how.get("tol") or 1e-9
            return math.isclose(a, b, rel_tol=tol, abs_tol=tol)
        return values_equal(label, got)
    if relation in ("truthy", "falsy"):
        v = parse_value(got)
        return v is _NO_VALUE or bool(v) == (relation == "truthy")
    if relation == "under" and how.get("wrapper") in _WRAPPERS and how.get("expected"):
        return _agrees_under(_WRAPPERS[how["wrapper"]], how["wrapper"], how["expected"], got)
    if label is None:
        return True
    return values_equal(label, got)


def _agrees_under(wrap: Callable[[Any], Any], name: str, expected: str, got: str) -> bool:
    v = parse_value(got)
    m = re.fullmatch(rf"{name}\((.*)\)", expected.strip(), re.S)
    e = parse_value(m.group(1)) if m else parse_value(expected)
    if v is _NO_VALUE or e is _NO_VALUE:
        return True  # cannot tell: not counted as label noise
    try:
        return wrap(v) == (wrap(e) if m else e)
    except Exception:
        return False


def _str_form_agrees(label: str | None, got: str) -> bool:
    """A label written as ``str(value)`` (ClassEval's output.txt: ``Bob`` for ``'Bob'``), whitespace
    runs collapsed, as stdout labels are compared."""
    v = parse_value(got)
    return label is not None and isinstance(v, str) and " ".join(label.split()) == " ".join(v.split())


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# ---------------------------------------------------------------- codemind data verify


def verify(
    benchmark_name: str,
    data_dir: Path | None = None,
    sandbox=None,
    use_cache: bool = True,
    language: str = "python",
    inputs: str = "first",
    progress: Progress | None = None,
    sandbox_kind: str | None = None,
) -> dict:
    """Execute all ground truth of a benchmark: the JSON of ``codemind data verify B --json``
    (docs/architecture.md, "Command-line contract") plus the ids behind each count. Without ``sandbox`` one of ``sandbox_kind``
    (None: the default) is opened once the programs have loaded, so bad data fails first."""
    from codemind.benchmarks.base import BENCHMARKS
    from codemind.registry import UnknownName

    start = time.monotonic()
    try:
        bench = BENCHMARKS.get(benchmark_name)(data_dir=data_dir, language=language, inputs=inputs)
    except UnknownName as e:
        raise UserError(str(e)) from None
    programs = bench.load()
    if sandbox is None:
        from codemind.sandbox import open_sandbox

        with open_sandbox(sandbox_kind) as sb:
            truths = execute_ground_truth(programs, sb, use_cache=use_cache, progress=progress)
            sandbox_name = sb.name
    else:
        truths = execute_ground_truth(programs, sandbox, use_cache=use_cache, progress=progress)
        sandbox_name = sandbox.name
    counts = {s: 0 for s in ("ok", "label_mismatch", "does_not_run", "excluded")}
    for t in truths:
        counts[t.status] += 1

    def listing(status: str) -> list[dict]:
        return [
            {"id": f"{t.program_id}#{t.input_index}", "reason": t.reason} for t in truths if t.status == status
        ]

    return {
        "benchmark": benchmark_name,
        "language": language,
        "inputs": inputs,
        "programs": len(programs),
        "items": len(truths),
        **counts,
        "seconds": round(time.monotonic() - start, 3),
        "sandbox": sandbox_name,
        "data": bench.data_files(),
        "mismatches": listing("label_mismatch"),
        "not_run": listing("does_not_run"),
        "excluded_items": listing("excluded"),
    }
