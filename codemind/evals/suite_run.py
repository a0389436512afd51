"""Run several evaluations for one model into one suite directory, resumable as a whole.

The suite directory holds ``suite.json`` (which suite, which model, one run directory per
evaluation and how far each got) and the run directories themselves, named after their
evaluations. Each run directory resumes on its own (codemind.store.rundir), so killing a
suite at any point and running the same command again repeats nothing. An evaluation that
cannot run (bad input: one line) is recorded as failed and the others still run.
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from pydantic import BaseModel, Field, ValidationError

from codemind.config import RunConfig
from codemind.errors import UserError
from codemind.evals.spec import QUESTION_FIELDS, EvalSpec, SuiteTable

SUITE_FILE = "suite.json"


class SuiteRecord(BaseModel):
    """suite.json: what a suite directory holds."""

    suite: str
    description: str = ""
    model: str
    created: str
    evals: list[str]
    runs: dict[str, str]  # evaluation -> run directory, relative to the suite directory
    status: dict[str, str]  # evaluation -> "done", "failed: <why>" or "pending"
    tables: list[SuiteTable] = Field(default_factory=list)  # the suite's paper tables (its report reads them here)


@dataclass
class SuiteResult:
    out: Path
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    new_samples: int = 0


def read_record(path: Path) -> SuiteRecord | None:
    f = Path(path) / SUITE_FILE
    if not f.is_file():
        return None
    try:
        return SuiteRecord.model_validate_json(f.read_text(encoding="utf-8"))
    except (ValidationError, ValueError):
        raise UserError(f"{f} is not a CodeMind suite record") from None


def _write_record(path: Path, record: SuiteRecord) -> None:
    tmp = path / (SUITE_FILE + ".tmp")
    tmp.write_text(record.model_dump_json(indent=2), encoding="utf-8")
    os.replace(tmp, path / SUITE_FILE)


def default_suite_out(suite: str, model: str) -> Path:
    slug = model.replace("/", "_").replace(":", "-")[-60:]
    if suite.startswith("evals:"):  # several --eval without a suite: name the folder by their hash
        suite = "evals-" + hashlib.sha256(suite.encode()).hexdigest()[:8]
    return Path("results") / f"suite-{suite}-{slug}"


def eval_config(spec: EvalSpec, overrides: dict[str, Any], out: Path | None) -> RunConfig:
    """The run config of one evaluation: its fields, then the command line's (never a
    question field: those belong to the evaluation)."""
    clash = sorted(k for k in overrides if k in QUESTION_FIELDS)
    if clash:
        flags = ", ".join("--" + k.replace("_", "-") for k in clash)
        raise UserError(f"{flags} cannot be combined with --eval/--suite: the evaluation sets it")
    fields = {**spec.run_fields(), **overrides, "eval": spec.name}
    if out is not None:
        fields["out"] = out
    try:
        return RunConfig(**fields)
    except ValidationError as e:
        err = e.errors()[0]
        raise UserError(f"evaluation '{spec.name}': invalid {'.'.join(map(str, err['loc']))}: {err['msg']}") from None


def run_suite(suite: str, description: str, specs: Sequence[EvalSpec], overrides: dict[str, Any], out: Path | None,
              run_one: Callable[[RunConfig], Any], echo: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
              tables: Sequence[SuiteTable] = ()) -> SuiteResult:
    """Run every evaluation (each resumable) into ``out``; ``run_one`` is the pipeline."""
    configs = [eval_config(s, overrides, None) for s in specs]  # every clash is said before anything runs
    if configs and configs[0].executor != "local":  # a bad --executor: one error before anything is written
        from codemind.executors.base import open_executor

        open_executor(configs[0].executor).close()
    model = configs[0].model
    out = Path(out) if out is not None else default_suite_out(suite, model)
    old = read_record(out)
    if old is not None and (old.suite, old.model) != (suite, model):
        raise UserError(f"{out} holds suite {old.suite} for model {old.model}; use another --out")
    if old is None and out.exists() and any(out.iterdir()):
        raise UserError(f"{out} exists and is not a suite directory; use another --out")
    out.mkdir(parents=True, exist_ok=True)
    record = SuiteRecord(
        suite=suite, description=description, model=model,
        created=old.created if old else datetime.now(timezone.utc).isoformat(timespec="seconds"),
        evals=[s.name for s in specs], runs={s.name: s.name for s in specs},
        status={s.name: (old.status.get(s.name, "pending") if old else "pending") for s in specs},
        tables=list(tables),
    )
    _write_record(out, record)
    result = SuiteResult(out=out)
    for n, (spec, config) in enumerate(zip(specs, configs), 1):
        echo(f"[{n}/{len(specs)}] {spec.name}: {config.task} on {config.benchmark} ({config.language})")
        try:
            ran = run_one(config.model_copy(update={"out": out / record.runs[spec.name]}))
        except UserError as e:
            record.status[spec.name] = f"failed: {e}"
            result.failed[spec.name] = str(e)
            echo(f"[{n}/{len(specs)}] {spec.name} failed: {e}")
        else:
            record.status[spec.name] = "done"
            result.done.append(spec.name)
            result.new_samples += getattr(ran, "new_samples", 0)
        _write_record(out, record)
    return result


def suite_runs(path: Path) -> list[Path]:
    """The run directories of a suite directory, in the suite's order (those that exist)."""
    record = read_record(path)
    if record is None:
        return []
    return [Path(path) / record.runs[e] for e in record.evals if (Path(path) / record.runs[e] / "samples.jsonl").is_file()]

