"""RunConfig: everything that determines a run's numbers, validated at the boundary.

The config hash covers only what changes results (benchmark, task, prompt, judge, model,
generation parameters, sandbox kind...), not where files live or how fast things go, so a
run can be resumed from another checkout or with more concurrency.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from codemind.schema import GenerationParams, Language, SandboxName, TaskName, content_hash

# fields that do not change a run's numbers
# `limit` and `samples` only say how far to go: raising them extends the same run.
OPERATIONAL = {
    "out", "data_dir", "max_concurrency", "workers", "api_key_env", "base_url", "no_cache", "limit", "samples",
}


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    benchmark: str
    language: Language = "python"
    task: TaskName = "ier"
    prompt: str | None = None  # None: the task's default for each program
    judge: str | None = None  # None: the task's default judge
    model: str = "llamacpp:gemma3-270m"
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
    endpoint: Literal["chat", "completions"] | None = None  # OpenAI-compatible servers: which API
    # operational
    base_url: str | None = None
    api_key_env: str | None = None
    max_concurrency: int = Field(default=16, ge=1)
    workers: int | None = None
    data_dir: Path | None = None
    out: Path | None = None
    no_cache: bool = False

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
        return self.model_dump(mode="json", exclude=OPERATIONAL)

    def hash(self) -> str:
        return content_hash("runconfig/v1", self.identity())[:16]

    def default_out(self) -> Path:
        model = self.model.replace("/", "_").replace(":", "-")[-60:]
        return Path("results") / f"{self.benchmark}-{self.language}-{self.task}-{model}-{self.hash()[:8]}"
