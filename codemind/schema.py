"""The shared vocabulary: every stage takes and returns these pydantic models.

Data flows one way: Program -> Item (task + prompt) -> Execution (ground truth)
-> Generation (model) -> Judgement -> Sample (one line of samples.jsonl).
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

Language = Literal["python", "java"]
ProgramKind = Literal["function", "stdin"]


def known_task(name: str) -> str:
    """A task name is one the task registry knows (codemind.tasks.base.TASKS), so a task is
    its module plus one registry line; the error lists the known names."""
    from codemind.tasks.base import TASKS  # the registry imports this module

    if name not in TASKS:
        raise PydanticCustomError("unknown_task", "unknown task '{name}' (known: {known})",
                                  {"name": name, "known": ", ".join(TASKS.names())})
    return name


TaskName = Annotated[str, AfterValidator(known_task)]


def known_sandbox(name: str) -> str:
    """A sandbox name is one the sandbox registry knows (codemind.sandbox.base.SANDBOXES)."""
    from codemind.sandbox.base import SANDBOXES  # the registry imports this module

    if name not in SANDBOXES:
        raise PydanticCustomError("unknown_sandbox", "unknown sandbox '{name}' (known: {known})",
                                  {"name": name, "known": ", ".join(SANDBOXES.names())})
    return name


SandboxName = Annotated[str, AfterValidator(known_sandbox)]

ExecStatus = Literal[
    "ok",
    "exception",
    "timeout",
    "memory",
    "output_limit",
    "killed",
    "compile_error",
    "sandbox_error",
    "tampered",  # the result channel carried records the runner did not write
]

Outcome = Literal[
    "correct",
    "wrong_value",
    "unparsable",
    "invalid_answer",  # not a value: not a pure expression, side effects, exits, a non-builtin object
    "exited_early",  # code under test ended (or broke the result channel) before every check reported
    "no_answer",
    "truncated",
    "timeout",
    "api_error",
    "no_generation",
    "sandbox_error",
]
OUTCOMES: tuple[str, ...] = Outcome.__args__  # type: ignore[attr-defined]

GroundTruthStatus = Literal["ok", "label_mismatch", "does_not_run", "excluded"]


def content_hash(*parts: Any) -> str:
    """sha256 over a canonical JSON encoding of the parts: the key of every cache."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_jsonable)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    raise TypeError(f"cannot hash {type(obj).__name__}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- programs and inputs


class TestInput(_Model):
    """One input of a program. Function programs have ``call`` (an expression such as
    ``f([1, 2])``); stdin programs have ``stdin``. ``label`` is the output the dataset
    states (a Python literal for functions, stdout text for stdin programs): noisy, so it
    is compared with the executed output, never trusted."""

    __test__ = False  # not a pytest class

    index: int = 0
    call: str | None = None
    stdin: str | None = None
    label: str | None = None


class Program(_Model):
    id: str  # unique within its benchmark, e.g. "HumanEval/0", "sample_3", "554"
    benchmark: str
    language: Language
    kind: ProgramKind
    source: str  # complete runnable source (imports included)
    entry_point: str | None = None  # function name for function programs
    inputs: list[TestInput]
    meta: dict[str, Any] = Field(default_factory=dict)  # spec text, tests, origin file, ...


class RunProgram(Program):
    """One line of a run directory's programs.jsonl: a program the run asked about or executed,
    as it was then, with its analysis (codemind.analysis.features: constructs, complexity...,
    plus ``version``) where it could be made. Reports read these, never the benchmark again."""

    features: dict[str, Any] | None = None


# ---------------------------------------------------------------- execution


class Limits(_Model):
    cpu_seconds: float = 10.0
    wall_seconds: float = 15.0
    memory_mb: int = 1024
    output_bytes: int = 1 << 20
    processes: int = 64
    user_cpu_seconds: float | None = None  # user CPU time only (ITIMER_VIRTUAL): load-independent


class ExecJob(_Model):
    """One program run. For function programs the sandbox runs ``source`` and then
    evaluates ``call`` and returns its repr; for stdin programs it feeds ``stdin``.
    ``calls`` are expressions evaluated in order after the source, each returning a plain
    value (sandbox/runner/plainvalues.py) in ``Execution.values``: what judges compare, in the
    host. ``hash_seed``: the PYTHONHASHSEED to run under (None: the sandbox's own, 0)."""

    language: Language = "python"
    source: str
    call: str | None = None
    calls: list[str] | None = None
    stdin: str = ""
    limits: Limits = Field(default_factory=Limits)
    env: dict[str, str] = Field(default_factory=dict)
    hash_seed: int | None = None

    def key(self, runtime: str) -> str:
        return content_hash("exec/v1", runtime, self)


class CallValue(_Model):
    """What one of a job's ``calls`` gave: a plain value (encoded), what it raised, or why its
    result is not a plain value."""

    value: str | None = None  # plainvalues.encode() text
    raised: str | None = None  # exception type name
    message: str | None = None
    not_value: str | None = None
    truthy: Literal["true", "false", "error"] | None = None  # a non-plain result's truth value


class Execution(_Model):
    status: ExecStatus
    stdout: str = ""
    stderr: str = ""
    return_repr: str | None = None  # repr of the call's value (function programs)
    values: list[CallValue] | None = None  # one per call that reported (jobs with ``calls``), in order
    exc_type: str | None = None
    exc_message: str | None = None
    exit_code: int | None = None
    wall_time: float = 0.0
    peak_memory_kb: int | None = None
    runtime: str = ""  # identity of the sandbox that ran it (image hash, interpreter)


# ---------------------------------------------------------------- tasks and prompts


class Prompt(_Model):
    id: str  # template id, e.g. "cruxeval-direct"
    hash: str  # sha256 of the template file
    text: str  # the rendered prompt
    system: str | None = None  # system message for chat backends
    stop: list[str] = Field(default_factory=list)


class Item(_Model):
    """One question put to a model: a program, one of its inputs, a task and a prompt."""

    key: str  # "<benchmark>/<program id>#<input index>/<task>[:<stage>]"
    benchmark: str
    language: Language
    task: TaskName
    stage: str | None = None  # multi-stage tasks: "synthesis", "prediction", "with_test", ...
    program_id: str
    input_index: int = 0
    prompt: Prompt
    extractor: str  # name of the answer extractor that fits the prompt
    answer_kind: Literal["value", "stdout", "call", "code"] = "value"
    expected: str | None  # executed ground truth (repr or stdout); None if it did not run
    label: str | None = None  # what the dataset says the answer is
    ground_truth: GroundTruthStatus = "ok"
    # True: the input's ground truth did not run (or the adapter excluded the input), so the
    # item exists only because the run's judge compares with the dataset's label
    # (Judge.uses_label); expected is None and it is judged on `label` alone
    label_only: bool = False
    # the variant kind of the program shown (codemind/variants: "rename", "mutant-operator", ...);
    # None: the benchmark's own program. Its program_id is "<original id>~<kind>"
    variant: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)  # judge needs: source, call, input


class Task(_Model):
    """A built task over one benchmark: the items plus how they were made."""

    name: TaskName
    benchmark: str
    language: Language
    prompt_id: str
    items: list[Item]


# ---------------------------------------------------------------- generation


class GenerationParams(_Model):
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 512
    stop: list[str] = Field(default_factory=list)
    n: int = 1  # samples per item
    seed: int | None = 0


class GenRequest(_Model):
    """What a backend is asked: one prompt, one sample index."""

    item_key: str
    sample_index: int
    prompt: str
    system: str | None = None
    stop: list[str] = Field(default_factory=list)
    benchmark: str = ""  # provenance, so replay can match recorded generations
    program_id: str = ""
    input_index: int = 0


class Generation(_Model):
    item_key: str
    sample_index: int
    text: str | None  # None: nothing was generated (see error / no recorded generation)
    finish_reason: str | None = None  # "stop", "length", ...
    error: str | None = None  # api_error / no_generation detail
    error_kind: Literal["api_error", "no_generation"] | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency: float | None = None
    cached: bool = False
    pre_extracted: bool = False  # text is already the extracted answer (CRUXEval result files)


# ---------------------------------------------------------------- judging and the run store


class Judgement(_Model):
    extracted: str | None
    outcome: Outcome
    correct: bool
    detail: str | None = None
    # a task's graded score of the sample (DSR: pass weighted by how much shorter the code is) and
    # what it was computed from (DSR: loc_original, loc_padded, loc_answer); None for pass/fail tasks
    score: float | None = None
    measures: dict[str, Any] | None = None


class Sample(_Model):
    """One line of samples.jsonl."""

    item_key: str
    benchmark: str
    language: Language
    task: TaskName
    stage: str | None = None
    program_id: str
    input_index: int
    variant: str | None = None  # Item.variant: the variant kind of the program asked about
    prompt_id: str
    prompt_hash: str
    sample_index: int
    raw: str | None
    extracted: str | None
    expected: str | None
    outcome: Outcome
    correct: bool
    detail: str | None = None
    ground_truth: GroundTruthStatus = "ok"
    finish_reason: str | None = None
    latency: float | None = None
    judge_seconds: float | None = None
    score: float | None = None  # Judgement.score (graded tasks: DSR)
    measures: dict[str, Any] | None = None  # Judgement.measures


class RunManifest(_Model):
    model_config = ConfigDict(extra="allow")

    config: dict[str, Any]  # the RunConfig, as given
    config_hash: str
    created: str
    codemind_version: str
    packages: dict[str, str]
    data: dict[str, str]  # data file -> sha256
    prompts: dict[str, str]  # prompt id -> template sha256
    sandbox: dict[str, Any]
    ground_truth: dict[str, int] = Field(default_factory=dict)  # status -> count
    # the backend's display label and declared capabilities (models/base.py Capabilities);
    # absent from manifests written before they were recorded
    model_label: str | None = None
    capabilities: dict[str, Any] | None = None
