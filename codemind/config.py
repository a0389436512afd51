"""RunConfig: everything that determines a run's numbers, validated at the boundary.

The config hash covers only what changes results (benchmark, task, prompt, judge, model,
generation parameters, sandbox kind...), not where files live or how fast things go, so a
run can be resumed from another checkout or with more concurrency.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterable, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from codemind.models.llamacpp import DEFAULT_MODEL_SPEC
from codemind.errors import UserError
from codemind.schema import GenerationParams, Language, SandboxName, TaskName, content_hash

# fields that do not change a run's numbers
# `limit` and `samples` only say how far to go: raising them extends the same run.
OPERATIONAL = {
    "out", "data_dir", "max_concurrency", "workers", "api_key_env", "base_url", "no_cache", "limit", "samples",
    "eval", "executor",
}
# fields added after runs were recorded: left out of the identity while empty, so the hash of
# every run made before them stays what it was
ADDED_WHEN_SET = ("benchmark_sha256", "judge_options", "model_args", "variants")


def parse_options(pairs: Iterable[str], flag: str) -> dict[str, Any]:
    """`KEY=VALUE` strings (--model-arg, --judge-arg) -> options. A value that parses as a JSON
    scalar is that (4096, 0.5, true, null, "quoted"); anything else is the string itself."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UserError(f"{flag} expects KEY=VALUE, not {pair!r}")
        if key in out:
            raise UserError(f"{flag} {key} is given twice")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        out[key] = value if isinstance(value, (str, int, float, bool)) or value is None else raw
    return out


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    benchmark: str
    # sha256 of what a benchmark's name does not pin (the file of file:PATH), set by the pipeline
    # from the adapter; None (and so not in the hash) for the built-in benchmarks
    benchmark_sha256: str | None = None
    language: Language = "python"
    task: TaskName = "ier"
    prompt: str | None = None  # None: the task's default for each program
    judge: str | None = None  # None: the task's default judge
    judge_options: dict[str, Union[bool, int, float, str, None]] = Field(default_factory=dict)  # validated by the judge
    model: str = DEFAULT_MODEL_SPEC  # the embedded model (codemind/models/llamacpp.py)
    inputs: Literal["first", "all", "codemind"] = "first"  # codemind: the paper's own items
    limit: int | None = Field(default=None, ge=1)
    samples: int = Field(default=1, ge=1)
    temperature: float = Field(default=0.0, ge=0.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    max_tokens: int | None = Field(default=None, ge=1)  # None: the prompt's own budget
    seed: int = 0
    # auto: the prompt's exact published parse for replay and completion backends, the
    # lenient parse (code fences, chat preambles) for chat backends
    extraction: Literal["auto", "exact", "lenient"] = "auto"
    sandbox: SandboxName | None = None
    # program variants asked besides the originals (codemind/variants: "rename", "mutant-operator"...)
    variants: list[str] = Field(default_factory=list)
    endpoint: Literal["chat", "completions"] | None = None  # OpenAI-compatible servers: which API
    # the backend's own options (`--model-arg KEY=VALUE`, e.g. n_ctx=4096, chat=false), checked
    # by the backend; all of them are in the hash, since most can change the answers
    model_args: dict[str, Union[bool, int, float, str, None]] = Field(default_factory=dict)
    # operational
    base_url: str | None = None
    api_key_env: str | None = None
    max_concurrency: int = Field(default=16, ge=1)
    workers: int | None = None
    data_dir: Path | None = None
    out: Path | None = None
    no_cache: bool = False
    # where sandbox jobs and generations run (codemind/executors): local, ray, ray:ADDRESS; the
    # samples are the same on every executor, so it is operational and a run resumes on another
    executor: str = "local"
    eval: str | None = None  # the named evaluation this run was made from (a label: codemind.evals)

    def params(self, max_tokens: int | None, stop: list[str]) -> GenerationParams:
        return GenerationParams(
            temperature=self.temperature,
            top_p=self.top_p,
            max_tokens=self.max_tokens or max_tokens or 512,
            stop=stop,
            n=self.samples,
            seed=self.seed,
        )

    def identity(self) -> dict:
        ident = self.model_dump(mode="json", exclude=OPERATIONAL)
        for key in ADDED_WHEN_SET:
            if not ident[key]:
                del ident[key]
        return ident

    def hash(self) -> str:
        return content_hash("runconfig/v1", self.identity())[:16]

    def default_out(self) -> Path:
        model = self.model.replace("/", "_").replace(":", "-")[-60:]
        bench = self.benchmark
        if ":" in bench:  # file:PATH -> file-<file name without suffix>; the hash tells two files apart
            kind, _, arg = bench.partition(":")
            bench = f"{kind}-{Path(arg).stem or 'programs'}"
        bench = re.sub(r"[^\w.+-]+", "_", bench)
        return Path("results") / f"{bench}-{self.language}-{self.task}-{model}-{self.hash()[:8]}"
