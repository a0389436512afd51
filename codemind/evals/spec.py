"""Named evaluations (``specs/NAME.toml``) and suites (``suites/NAME.toml``), read from data files.

An evaluation binds everything about a question that is not the model: benchmark, language,
task, inputs, prompt, extraction, judge and judge options, and the generation settings a
published number was made with. A spec may ``include`` another (its name, or a path relative
to the including file); its own fields win, and ``judge_options`` tables merge key by key, as
lm-evaluation-harness's ``include`` does. Specs whose name starts with ``_`` are bases: they
are included, never listed or run. A name that is a path to a ``.toml`` file reads that file,
so a researcher can keep evaluations of their own beside their data.

A suite is a list of evaluation names run for one model into one directory
(codemind.evals.suite_run).
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codemind.errors import UserError
from codemind.schema import Language

SPECS, SUITES = "specs", "suites"
Scalar = str | int | float | bool
# RunConfig fields an evaluation sets; the command line may not set them as well
QUESTION_FIELDS = ("benchmark", "language", "task", "inputs", "prompt", "extraction", "judge", "judge_options")
# RunConfig fields an evaluation may default; the command line may override them
GENERATION_FIELDS = ("samples", "temperature", "top_p", "max_tokens", "variants")


class EvalSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    published: str | None = None  # the published number this evaluation reproduces, and where it is
    benchmark: str
    language: Language = "python"
    task: str = "ier"
    inputs: Literal["first", "all", "codemind"] = "first"
    prompt: str | None = None
    extraction: Literal["auto", "exact", "lenient"] = "auto"
    judge: str | None = None
    judge_options: dict[str, Scalar] = Field(default_factory=dict)
    samples: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(default=None, ge=1)
    variants: list[str] | None = None  # program variants asked besides the originals (codemind/variants)

    def run_fields(self) -> dict[str, Any]:
        """The RunConfig fields this evaluation fixes (question) or defaults (generation)."""
        fields = {k: getattr(self, k) for k in QUESTION_FIELDS}
        fields.update({k: getattr(self, k) for k in GENERATION_FIELDS if getattr(self, k) is not None})
        return fields


class TableColumn(BaseModel):
    """One column of a suite's paper table: a number from a task's summary (TaskBuilder.summarize),
    found by a dotted path, e.g. ``accuracy`` (IER) or ``r_sr.r_sr`` (SR)."""

    model_config = ConfigDict(extra="forbid")

    name: str  # the header, as the paper names it (R_IER, R_SR, S_DSR)
    task: str
    metric: str = "accuracy"
    percent: bool = True  # shown x100 (a rate); False: as a plain number (R_SR can exceed 1)


class SuiteTable(BaseModel):
    """A table as a paper prints it: one row per benchmark (and one over all of them), one
    column per task metric."""

    model_config = ConfigDict(extra="forbid")

    title: str
    columns: list[TableColumn] = Field(min_length=1)


class SuiteSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    evals: list[str] = Field(min_length=1)
    tables: list[SuiteTable] = Field(default_factory=list)


def _folder(kind: str):
    return resources.files("codemind.evals").joinpath(kind)


def _names(kind: str) -> list[str]:
    return sorted(p.name[: -len(".toml")] for p in _folder(kind).iterdir()
                  if p.name.endswith(".toml") and not p.name.startswith("_"))


def eval_names() -> list[str]:
    return _names(SPECS)


def suite_names() -> list[str]:
    return _names(SUITES)


def _read_toml(where: str, text: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"{where}: not valid TOML ({e})") from None


def _locate(kind: str, name: str, base: Path | None) -> tuple[str, str, Path | None]:
    """(display name, TOML text, folder for relative includes) of a packaged name or a file path."""
    if name.endswith(".toml"):
        path = Path(name) if base is None or Path(name).is_absolute() else base / name
        if not path.is_file():
            raise UserError(f"{kind[:-1]} file not found: {path}")
        return path.stem, path.read_text(encoding="utf-8"), path.parent
    entry = _folder(kind).joinpath(f"{name}.toml")
    if not entry.is_file():
        known = eval_names() if kind == SPECS else suite_names()
        raise UserError(f"unknown {'evaluation' if kind == SPECS else 'suite'} '{name}' (known: {', '.join(known)})")
    return name, entry.read_text(encoding="utf-8"), None


def _merged(name: str, base: Path | None, seen: tuple[str, ...] = ()) -> tuple[str, dict]:
    """The spec's fields with its includes applied (the including file's fields win)."""
    shown, text, folder = _locate(SPECS, name, base)
    if shown in seen:
        raise UserError(f"evaluation '{seen[0]}': include cycle {' -> '.join([*seen, shown])}")
    raw = _read_toml(f"evaluation '{shown}'", text)
    parent = raw.pop("include", None)
    if parent is None:
        return shown, raw
    if not isinstance(parent, str):
        raise UserError(f"evaluation '{shown}': include must be one name, not {parent!r}")
    _, fields = _merged(parent, folder, (*seen, shown))
    options = {**fields.get("judge_options", {}), **raw.get("judge_options", {})}
    merged = {**fields, **raw}
    if options:
        merged["judge_options"] = options
    return shown, merged


def load_eval(name: str) -> EvalSpec:
    if name.startswith("_"):
        raise UserError(f"'{name}' is a base for other evaluations, not one to run")
    shown, fields = _merged(name, None)
    fields.setdefault("name", shown)
    try:
        return EvalSpec.model_validate(fields)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "spec"
        raise UserError(f"evaluation '{shown}': field '{where}': {err['msg']}") from None


def load_suite(name: str) -> SuiteSpec:
    shown, text, _ = _locate(SUITES, name, None)
    fields = _read_toml(f"suite '{shown}'", text)
    fields.setdefault("name", shown)
    try:
        suite = SuiteSpec.model_validate(fields)
    except ValidationError as e:
        err = e.errors()[0]
        raise UserError(f"suite '{shown}': field '{'.'.join(map(str, err['loc']))}': {err['msg']}") from None
    for ev in suite.evals:
        load_eval(ev)  # every evaluation resolves before anything runs
    return suite
