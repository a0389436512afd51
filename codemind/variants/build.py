"""Make the variants of a run's programs and keep only those that execution confirms.

Every variant of every program is executed on every input in the run's sandbox (through the
execution cache) and compared with the original's executed outputs:

- a behaviour-keeping variant (``same``) is kept only if every input whose original ran gives
  exactly the original's output (return value repr or stdout);
- a mutant (``changed``) is kept only if at least one such input gives another output; its
  own executed outputs are its ground truth (its inputs lose the dataset's labels, which
  describe the original).

A variant that fails its check is made again with the next attempt's random stream (another
site, other names) up to ATTEMPTS times; what is still not kept is dropped with its reason.
The counts per kind (tried, kept, dropped and why) go into the run manifest (``variants``)
and into ``codemind data variants``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Sequence

from codemind.errors import UserError
from codemind.schema import Program
from codemind.variants.base import VARIANTS, NotApplicable, Target, VariantKind, rng_for

ATTEMPTS = 3
TIME_FACTOR, MIN_SECONDS = 10.0, 2.0  # a variant's time limit: 10x its original's run, at least 2 s
SEPARATOR = "~"  # a variant's program id: "<original id>~<kind>"
RUNNABLE = ("ok", "label_mismatch")

Truths = dict  # (program id, input index) -> ground truth (codemind.groundtruth.GroundTruth)
Execute = Callable[[list[Program]], Truths]


@dataclass
class KindReport:
    behaviour: str
    tried: int = 0  # original programs with at least one input that ran
    kept: int = 0
    reasons: Counter = field(default_factory=Counter)  # why dropped (category) -> programs
    dropped_programs: dict[str, str] = field(default_factory=dict)  # program id -> why (the full reason)

    def record(self) -> dict:
        dropped = self.tried - self.kept
        return {"behaviour": self.behaviour, "tried": self.tried, "kept": self.kept, "dropped": dropped,
                "kept_share": round(self.kept / self.tried, 4) if self.tried else None,
                "reasons": dict(self.reasons.most_common()), "dropped_programs": dict(self.dropped_programs)}


@dataclass
class VariantSet:
    programs: list[Program]  # the kept variants, grouped by kind in the order asked, programs in run order
    truths: Truths
    report: dict[str, dict]  # kind -> KindReport.record()


def check_kinds(kinds: Sequence[str], language: str) -> list[VariantKind]:
    """The variant kinds named, each able to transform this language; else one UserError."""
    out = []
    for name in kinds:
        try:
            kind = VARIANTS.get(name)
        except KeyError as e:
            raise UserError(str(e)) from None
        if language not in kind.transforms:
            raise UserError(f"variant '{name}' has no {language} transform (it has: {', '.join(kind.languages())})")
        out.append(kind)
    if len(set(kinds)) != len(kinds):
        raise UserError(f"a variant is named twice in {','.join(kinds)}")
    return out


def variant_of(program: Program) -> dict | None:
    """The variant record of a variant program (kind, of, behaviour, attempt); None for an original."""
    return program.meta.get("variant")


def original_id(program_id: str, variant: str | None) -> str:
    """The id of the program a variant was made from (itself for an original)."""
    suffix = SEPARATOR + variant if variant else ""
    return program_id[: -len(suffix)] if suffix and program_id.endswith(suffix) else program_id


def target_of(program: Program) -> Target:
    keep = {n for n in (program.meta.get("class_name"), program.meta.get("method")) if n}
    return Target(source=program.source, language=program.language, kind=program.kind,
                  entry_point=program.entry_point, calls=tuple(i.call for i in program.inputs if i.call),
                  keep_names=frozenset(keep))


def make_variants(programs: Sequence[Program], truths: Truths, kinds: Sequence[VariantKind], seed: int,
                  execute: Execute, attempts: int = ATTEMPTS) -> VariantSet:
    """The kept variants of `programs` for each kind, their ground truth and the counts."""
    reports = {k.name: KindReport(k.behaviour) for k in kinds}
    originals = [p for p in programs if _ran(p, truths)]
    for k in kinds:
        reports[k.name].tried = len(originals)
    pending = [(k, p) for k in kinds for p in originals]
    kept: dict[tuple[str, str], Program] = {}
    out_truths: Truths = {}
    for attempt in range(attempts):
        made: list[tuple[VariantKind, Program, Program]] = []
        for kind, program in pending:
            variant, why = _make(kind, program, seed, attempt, truths)
            if variant is None:
                _drop(reports[kind.name], program, why)
            else:
                made.append((kind, program, variant))
        got = execute([v for _, _, v in made]) if made else {}
        pending = []
        for kind, program, variant in made:
            why = _check(kind, program, variant, truths, got)
            if why is None:
                kept[(kind.name, program.id)] = variant
                reports[kind.name].kept += 1
                out_truths.update({(variant.id, i.index): got[(variant.id, i.index)] for i in variant.inputs
                                   if (variant.id, i.index) in got})
            elif attempt + 1 < attempts:
                pending.append((kind, program))
            else:
                _drop(reports[kind.name], program, why)
    ordered = [kept[(k.name, p.id)] for k in kinds for p in originals if (k.name, p.id) in kept]
    return VariantSet(ordered, out_truths, {name: r.record() for name, r in reports.items()})


def _ran(program: Program, truths: Truths) -> bool:
    return any(getattr(truths.get((program.id, i.index)), "status", None) in RUNNABLE for i in program.inputs)


def time_limits(program: Program, truths: Truths) -> dict[str, float]:
    """A variant's wall and CPU limits: TIME_FACTOR times its original's slowest run, at least
    MIN_SECONDS, at most the default. A mutant that loops forever (a loop bound moved) then costs
    seconds, not the default 15, and a slower variant is no variant of a fast program anyway."""
    from codemind.schema import Limits

    default = Limits()
    walls = [t.execution.wall_time for i in program.inputs
             if (t := truths.get((program.id, i.index))) is not None and t.execution is not None]
    wall = min(default.wall_seconds, max(MIN_SECONDS, TIME_FACTOR * max(walls, default=0.0)))
    return {"wall_seconds": round(wall, 3), "cpu_seconds": round(min(default.cpu_seconds, wall), 3)}


def _make(kind: VariantKind, program: Program, seed: int, attempt: int,
          truths: Truths) -> tuple[Program | None, str]:
    transform = kind.transform_for(program.language)
    if transform is None:
        return None, f"not applicable: no {program.language} transform"
    rng = rng_for(seed, f"{program.benchmark}/{program.id}", kind.name, attempt)
    try:
        source = transform(target_of(program), rng)
    except NotApplicable as e:
        return None, f"not applicable: {e}"
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:  # a program the transform cannot read
        return None, f"transform failed: {type(e).__name__}: {e}"
    if source == program.source:
        return None, "not applicable: nothing changed"
    inputs = program.inputs if kind.behaviour == "same" else [i.model_copy(update={"label": None})
                                                               for i in program.inputs]
    record = {"kind": kind.name, "of": program.id, "behaviour": kind.behaviour, "attempt": attempt,
              "limits": time_limits(program, truths)}
    return program.model_copy(update={"id": program.id + SEPARATOR + kind.name, "source": source, "inputs": inputs,
                                      "meta": {**program.meta, "variant": record}}), ""


def _check(kind: VariantKind, program: Program, variant: Program, truths: Truths, got: Truths) -> str | None:
    """None when the variant's executed outputs fit its kind; else why not."""
    changed, ran = [], 0
    for inp in program.inputs:
        orig = truths.get((program.id, inp.index))
        if orig is None or orig.status not in RUNNABLE:
            continue
        mine = got.get((variant.id, inp.index))
        if mine is None or mine.status not in RUNNABLE:
            if kind.behaviour == "same":
                return f"does not run: input {inp.index}: {_short(getattr(mine, 'reason', None) or 'not executed')}"
            continue  # a mutant that fails on an input is not asked about it
        ran += 1
        if mine.expected != orig.expected:
            if kind.behaviour == "same":
                return f"outputs differ: input {inp.index}: {_short(orig.expected)} became {_short(mine.expected)}"
            if program.kind == "function" or (mine.expected or "").strip():
                changed.append(inp.index)  # (a mutant that prints nothing leaves no answer to give)
    if kind.behaviour == "changed" and not ran:
        return "does not run: on any input the original runs on"
    if kind.behaviour == "changed" and not changed:
        return "equivalent mutant: every output the same"
    return None


def _drop(report: KindReport, program: Program, why: str) -> None:
    report.reasons[why.split(":", 1)[0]] += 1
    report.dropped_programs[program.id] = why


def _short(text: str | None, limit: int = 80) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def survey(benchmark: str, language: str = "python", kinds: Sequence[str] | None = None, inputs: str = "first",
           seed: int = 0, data_dir=None, sandbox_kind: str | None = None, use_cache: bool = True,
           limit: int | None = None, progress=None) -> dict:
    """``codemind data variants B --json``: per kind, the programs tried, kept and dropped and
    why, every kept variant checked by execution on every input (make_variants)."""
    import time

    from codemind.benchmarks.base import BENCHMARKS
    from codemind.groundtruth import execute_ground_truth, job_count
    from codemind.registry import UnknownName
    from codemind.sandbox import open_sandbox
    from codemind.ui import Progress

    progress = progress or Progress(enabled=False)
    names = list(kinds) if kinds else [k for k in VARIANTS.names() if language in VARIANTS.get(k).transforms]
    chosen = check_kinds(names, language)
    start = time.monotonic()
    try:
        bench = BENCHMARKS.get(benchmark)(data_dir=data_dir, language=language, inputs=inputs)
    except UnknownName as e:
        raise UserError(str(e)) from None
    programs = bench.load()[:limit] if limit else bench.load()
    with open_sandbox(sandbox_kind) as sb:

        def execute(ps: list[Program], label: str) -> Truths:
            with progress.task(label, total=job_count(ps)) as advance:
                got = execute_ground_truth(ps, sb, use_cache=use_cache, progress=advance)
            return {(t.program_id, t.input_index): t for t in got}

        truths = execute(programs, "ground truth")
        made = make_variants(programs, truths, chosen, seed, execute=lambda ps: execute(ps, "variants"))
        sandbox_name = sb.name
    return {"benchmark": benchmark, "language": language, "inputs": inputs, "seed": seed, "programs": len(programs),
            "sandbox": sandbox_name, "attempts": ATTEMPTS, "kinds": made.report,
            "seconds": round(time.monotonic() - start, 2)}
