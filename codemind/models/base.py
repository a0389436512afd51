"""The one interface every model backend implements.

A backend turns GenRequests into Generations. `generate` yields results as they become
available, in any order, so the run store can append each one at once (nothing is lost
when a run is killed) and API backends can overlap requests.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Iterable, Iterator

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


BACKENDS: Registry[type[Backend]] = Registry(
    "model backend",
    {
        "replay": "codemind.models.replay",
        "openai": "codemind.models.openai_api",
        "vllm": "codemind.models.vllm_offline",
        "llamacpp": "codemind.models.llamacpp",
    },
)


def parse_spec(spec: str) -> tuple[str, str]:
    """'openai:gpt-4o' -> ('openai', 'gpt-4o'); the part after the first colon is the model."""
    kind, sep, model = spec.partition(":")
    if not sep:
        return kind, ""
    return kind, model
