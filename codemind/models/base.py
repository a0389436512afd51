"""The one interface every model backend implements.

A backend turns GenRequests into Generations. `generate` yields results as they become
available, in any order, so the run store can append each one at once (nothing is lost
when a run is killed) and API backends can overlap requests.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from importlib import metadata
from pathlib import PurePath
from typing import Any, Iterable, Iterator, Literal

from pydantic import BaseModel, ConfigDict, Field

from codemind.errors import UserError
from codemind.registry import Registry
from codemind.schema import GenerationParams, GenRequest, Generation


class Capabilities(BaseModel):
    """What a backend tells the pipeline about itself; the pipeline asks nothing else (never
    its name, never what a wrapper wraps)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    chat: bool = False  # prompts go as chat messages (True) or as raw completion text
    # the answer parse under --extraction auto: the prompt's exact published one, or the
    # lenient one (code fences, chat preambles) that chat models need
    extraction: Literal["exact", "lenient"] = "exact"
    cacheable: bool = True  # worth storing in the generation cache (recorded ones are not)
    benchmarks: frozenset[str] | None = None  # the only benchmarks it has answers for; None: any
    # the only program ids it was ever asked about (a recording that lists every item of its
    # run, answered or not); the pipeline leaves the others out and names them in the manifest
    # (programs_outside_backend). None: any. Not dumped (the manifest names what it left out).
    programs: frozenset[str] | None = Field(default=None, exclude=True)
    label: str  # short display name for tables; recorded in the run manifest


class Backend(ABC):
    """A backend is one module that subclasses this, plus one ``BACKENDS.register`` line
    below."""

    name: str = "abstract"
    chat: bool = False  # True: prompts go as a user message; False: raw completion text
    # The options it takes (from the pipeline and from `--model-arg KEY=VALUE`); None: any.
    allowed_options: frozenset[str] | None = None

    def __init__(self, model: str, params: GenerationParams, **options):
        """Options set to None are dropped (unset CLI flags); an option the backend does not
        know is a UserError, so a typo never silently changes a run."""
        options = {k: v for k, v in options.items() if v is not None}
        self.check_options(options)
        self.model = model
        self.params = params
        self.options = options

    @classmethod
    def check_options(cls, names: Iterable[str]) -> None:
        """A UserError naming the options this backend does not take."""
        if cls.allowed_options is None:
            return
        unknown = set(names) - cls.allowed_options
        if unknown:
            raise UserError(f"{cls.name} backend: unknown option(s) {', '.join(sorted(unknown))} "
                            f"(known: {', '.join(sorted(cls.allowed_options)) or 'none'})")

    @property
    def capabilities(self) -> Capabilities:
        """Chat backends get the lenient parse by default; override to declare more."""
        return Capabilities(chat=self.chat, extraction="lenient" if self.chat else "exact",
                            label=self.label_for(self.model))

    @classmethod
    def label_for(cls, model: str) -> str:
        """The display label of `kind:model` (also used for run manifests that predate the
        recorded label): the spec itself by default."""
        return f"{cls.name}:{model}" if model else cls.name

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


def label_of_spec(spec: str | None) -> str:
    """The display label of a model spec, as its backend class computes it; the spec itself
    when its kind is unknown here."""
    if not spec:
        return "?"
    kind, model = parse_spec(spec)
    try:
        cls = BACKENDS.get(kind)
    except Exception:  # unknown kind, or its module does not import here
        return spec
    return cls.label_for(model)


def path_label(kind: str, model: str) -> str:
    """`kind:NAME` for a model given as a path (its last part), else the spec."""
    return f"{kind}:{PurePath(model).name}" if "/" in model else f"{kind}:{model}" if model else kind


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
