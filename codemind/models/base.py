"""The one interface every model backend implements.

A backend turns GenRequests into Generations. `generate` yields results as they become
available, in any order, so the run store can append each one at once (nothing is lost
when a run is killed) and API backends can overlap requests.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from importlib import metadata
from typing import Any, Iterable, Iterator

from codemind.errors import UserError
from codemind.registry import Registry
from codemind.schema import GenerationParams, GenRequest, Generation


class Backend(ABC):
    name: str = "abstract"
    chat: bool = False  # True: prompts go as a user message; False: raw completion text
    allowed_options: frozenset[str] | None = None  # None: any option is accepted

    def __init__(self, model: str, params: GenerationParams, **options):
        """Options set to None are dropped (unset CLI flags); an option the backend does not
        know is a UserError, so a typo never silently changes a run."""
        options = {k: v for k, v in options.items() if v is not None}
        if self.allowed_options is not None:
            unknown = set(options) - self.allowed_options
            if unknown:
                raise UserError(f"{self.name} backend: unknown option(s) {', '.join(sorted(unknown))}")
        self.model = model
        self.params = params
        self.options = options

    def identity(self) -> dict:
        """Recorded in the manifest and part of the generation-cache key."""
        return {"backend": self.name, "model": self.model}

    @abstractmethod
    def generate(self, requests: Iterable[GenRequest]) -> Iterator[Generation]:
        """One Generation per request, in any order. Failures are Generations with
        error_kind set, never exceptions (except for bad configuration)."""

    def close(self) -> None:
        pass


BACKENDS: Registry[type[Backend]] = Registry("model backend")
BACKENDS.register("replay", lazy="codemind.models.replay:Replay")
BACKENDS.register("openai", lazy="codemind.models.openai_api:OpenAIBackend")
BACKENDS.register("vllm", lazy="codemind.models.vllm_offline:VllmBackend")
BACKENDS.register("llamacpp", lazy="codemind.models.llamacpp:LlamaCppBackend")


def parse_spec(spec: str) -> tuple[str, str]:
    """'openai:gpt-4o' -> ('openai', 'gpt-4o'); the part after the first colon is the model."""
    kind, sep, model = spec.partition(":")
    if not sep:
        return kind, ""
    return kind, model


# ---------------------------------------------------------------- helpers every backend shares


def merge_stop(*lists: Iterable[str]) -> list[str]:
    """Stop sequences from params and request, in order, without duplicates or empties."""
    seen: dict[str, None] = {}
    for stops in lists:
        for s in stops:
            if s:
                seen.setdefault(s, None)
    return list(seen)


def sample_seed(params: GenerationParams, sample_index: int) -> int | None:
    """Each sample gets its own reproducible seed, so n samples differ but repeat."""
    return None if params.seed is None else params.seed + sample_index


def sampling_args(params: GenerationParams, req: GenRequest) -> dict[str, Any]:
    """The sampling settings of one request: temperature, top_p, max_tokens, stop (merged;
    None when empty) and seed (per sample; None when unseeded). Backends rename or drop keys
    as their engine wants."""
    return {
        "temperature": params.temperature,
        "top_p": params.top_p,
        "max_tokens": params.max_tokens,
        "stop": merge_stop(params.stop, req.stop) or None,
        "seed": sample_seed(params, req.sample_index),
    }


def chat_messages(req: GenRequest, system_role: bool = True) -> list[dict[str, str]]:
    """The request as chat messages; without a system role (some templates have none) the
    system text leads the user message."""
    if req.system and system_role:
        return [{"role": "system", "content": req.system}, {"role": "user", "content": req.prompt}]
    content = f"{req.system}\n\n{req.prompt}" if req.system else req.prompt
    return [{"role": "user", "content": content}]


def installed_version(distribution: str) -> str | None:
    """The installed version of a Python distribution, None when it is not installed."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None
