"""Task builders turn programs + executed ground truth into Items (the questions put to a
model). A task owns its whole contract: which prompts fit it, which judge to use by default,
its stages (plan) and its summary in the report (summarize, summary_cells), so a new task is
its module plus one line in TASKS at the end of this file."""

from __future__ import annotations

import ast
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Protocol, Sequence

from codemind.registry import Registry
from codemind.schema import ExecJob, Execution, Item, Program, Sample, TestInput
from codemind.tasks.prompts import _PLACEHOLDER, PromptSpec, get_prompt
from codemind.tasks.summary import rate, rate_cell


class Truth(Protocol):
    """What a task needs from ground truth (codemind.groundtruth.GroundTruth fits)."""

    program_id: str
    input_index: int
    expected: str | None
    status: str
    reason: str | None


RUNNABLE = ("ok", "label_mismatch")  # ground truth a question can be asked about
UNRUN = ("does_not_run", "excluded")  # ground truth only a label-comparing judge can ask about

# Why a task cannot use a program (the first word of each unusable program's reason in the
# run manifest; what follows the colon is the detail).
NO_INPUT = "no usable input"
NOT_RUN = "ground truth does not run"
NOT_FUNCTION = "not a function program"
NOT_PYTHON = "not a Python program"
NO_SPEC = "no spec"
NO_TESTS = "no tests"
NO_SHOWN_TEST = "no test to show"
NOT_ASKABLE = "prompt cannot show the input"
NOT_VALUE = "output is not a plain value"  # e.g. a datetime or a class: no literal answer can state it


class Unaskable(Exception):
    """This input cannot be put in this prompt: a value the template needs is missing (e.g. the
    argument text of a call that is not one plain call of the entry point)."""


def input_problem(program: Program, truths: dict[tuple[str, int], Truth],
                  inputs: Sequence[TestInput] | None = None) -> str | None:
    """None when one of `inputs` (default: all the program's inputs) has runnable ground
    truth; otherwise why none does, with the ground truth's own reason."""
    inputs = program.inputs if inputs is None else inputs
    failed: list[Truth] = []
    for inp in inputs:
        truth = truths.get((program.id, inp.index))
        if truth is not None and truth.status in RUNNABLE:
            return None
        if truth is not None:
            failed.append(truth)
    if not inputs:
        indexes = [0] + [x["index"] for x in program.meta.get("excluded_inputs") or []]
        why = next((t.reason for t in (truths.get((program.id, i)) for i in indexes) if t is not None and t.reason),
                   None)
        if why and why.startswith(NO_INPUT):
            why = why[len(NO_INPUT):].lstrip(": ")
        return f"{NO_INPUT}: {why}" if why else NO_INPUT
    why = next((t.reason for t in failed if t.reason), None)
    return f"{NOT_RUN}: {why}" if why else NOT_RUN


def excluded_inputs(program: Program) -> list[TestInput]:
    """The inputs the adapter left out of ``program.inputs`` but kept with their text and
    stated output (``meta["excluded_inputs"]`` records with ``stdin`` or ``call``), e.g. AVATAR
    inputs over the prompt byte cap. Ground truth never runs them (``excluded``); only a
    label-only question can be asked about them."""
    out = []
    for x in program.meta.get("excluded_inputs") or []:
        if x.get("stdin") is not None or x.get("call") is not None:
            out.append(TestInput(index=x["index"], call=x.get("call"), stdin=x.get("stdin"), label=x.get("label")))
    return out


def label_only_inputs(program: Program, truths: dict[tuple[str, int], Truth]) -> list[TestInput]:
    """The inputs of `program` a judge that compares with the dataset's label can still be
    asked about although their ground truth did not run (does_not_run) or was never executed
    (excluded by the adapter): those that state a label. In input-index order."""
    out = []
    for inp in [*program.inputs, *excluded_inputs(program)]:
        truth = truths.get((program.id, inp.index))
        if inp.label is not None and truth is not None and truth.status in UNRUN:
            out.append(inp)
    return sorted(out, key=lambda i: i.index)


def reason_kind(why: str) -> str:
    """The kind of a reason (its text before the first colon): what the manifest counts by."""
    return why.split(":", 1)[0]


def usage(programs: Iterable[Program], items: Sequence[Item], unusable: dict[str, str],
          of: str = "benchmark programs") -> dict:
    """A stage's accounting for the run manifest: every program it was given is either used
    (has items) or unusable, with a reason. Where some items are label-only (asked although
    their ground truth did not run: Item.label_only) ``label_only`` counts them, by ground
    truth status, and names their programs."""
    programs = list(programs)
    used = {i.program_id for i in items}
    missing = [p.id for p in programs if p.id not in used and p.id not in unusable]
    assert not missing, f"programs neither used nor marked unusable: {missing[:5]}"
    report = {
        "of": of,
        "programs": len(programs),
        "used": len(used),
        "items": len(items),
        "unusable": len(unusable),
        "reasons": dict(Counter(reason_kind(r) for r in unusable.values()).most_common()),
        "unusable_programs": dict(unusable),
    }
    only = [i for i in items if i.label_only]
    if only:
        report["label_only"] = {
            "items": len(only),
            "judged_on_executed_output": len(items) - len(only),
            "by_ground_truth": dict(Counter(i.ground_truth for i in only).most_common()),
            "programs": sorted({i.program_id for i in only}),
        }
    return report


def record_usage(ctx: "StageContext", stage: str, report: dict) -> None:
    """Put a stage's accounting into the run manifest (ctx.manifest_extra["usable_programs"])."""
    ctx.manifest_extra.setdefault("usable_programs", {})[stage] = report


def call_args(call: str | None, entry_point: str | None) -> str | None:
    """'f([1, 2], 3)' -> '[1, 2], 3': the argument text CRUXEval-style prompts show. None
    unless the call is exactly one call of the entry point by name (spaces before the
    parenthesis allowed: CodeMind's MBPP items have `is_Diff (12345)`)."""
    if not call or not entry_point:
        return None
    text = call.strip()
    rest = text[len(entry_point):].lstrip() if text.startswith(entry_point) else ""
    if not (rest.startswith("(") and text.endswith(")")):
        return None
    try:
        node = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == entry_point):
        return None  # e.g. f(1)(2) or f(1) + f(2): no single argument list to show
    return rest[1:-1]


def prompt_values(program: Program, inp: TestInput, expected: str | None) -> dict[str, str]:
    values = {"code": program.source}
    args = call_args(inp.call, program.entry_point)
    for key, value in (("input", args), ("call", inp.call), ("stdin", inp.stdin), ("output", expected)):
        if value is not None:
            values[key] = value
    return values


@dataclass
class Stage:
    """One generate-and-judge pass. `judge` None: the run's --judge or the task's default."""

    name: str | None
    items: list[Item]
    judge: str | None = None


@dataclass
class StageContext:
    """What a task's plan sees: the run's programs and ground truth, the samples already
    judged (re-read after each stage, resumed ones included), and a way to execute the
    ground truth of new programs (model-written code) in the run's sandbox."""

    programs: list[Program]
    truths: dict[tuple[str, int], Truth]
    prompt_id: str | None
    seed: int
    samples: Callable[[], list[Sample]]
    execute: Callable[[list[Program]], dict[tuple[str, int], Truth]]
    manifest_extra: dict[str, Any] = field(default_factory=dict)
    # run sandbox jobs through the execution cache (a job already run is read back, not re-run)
    run_jobs: Callable[[list[ExecJob]], list[Execution]] | None = None
    # the run's judge compares with the dataset's labels (Judge.uses_label): a task that can
    # (TaskBuilder.asks_on_label) also asks labelled inputs whose ground truth did not run
    label_judge: bool = False
    # --variant: make and check the variants of programs made during the run (DER's own code):
    # (programs, their truths, the manifest key for the counts) -> (kept variants, their truths)
    variants: Callable[[list[Program], dict, str], tuple[list[Program], dict]] | None = None


class TaskBuilder(ABC):
    name: str = "abstract"
    answer_kind: str = "value"
    default_judge: str = "value"
    title: str = ""  # its column in the report's task summary (default: the name)
    summary_alone: bool = False  # True: the report shows the task summary even for a run of this task alone
    # True: under a judge that compares with labels (StageContext.label_judge) build() also
    # makes label-only items (label_only_inputs); only IER does, as the CodeMind paper did
    asks_on_label: bool = False

    def __init__(self) -> None:
        self.skipped: dict[str, str] = {}  # program id -> why build() left an input of it out
        self.left_out: Counter[str] = Counter()  # reason kind -> inputs build() left out (Unaskable)
        self.on_label = False  # set by plan(): build label-only items too (asks_on_label and a label judge)

    def plan(self, ctx: StageContext) -> Iterator[Stage]:
        """The stages of this task; each one runs to completion before the next is asked
        for. Single-stage tasks need not override it. Every stage records in the manifest
        which programs it used and why it could not use the others (record_usage)."""
        self.on_label = self.asks_on_label and ctx.label_judge
        items = self.build(ctx.programs, ctx.truths, ctx.prompt_id)
        used = {i.program_id for i in items}
        unusable = {p.id: self.unusable_reason(p, ctx.truths) or NOT_RUN for p in ctx.programs if p.id not in used}
        report = usage(ctx.programs, items, unusable)
        if self.left_out:  # inputs of used programs too: items + these = inputs with runnable truth
            report["inputs_left_out"] = dict(self.left_out.most_common())
        record_usage(ctx, self.name, report)
        yield Stage(None, items)

    def static_problem(self, program: Program) -> str | None:
        """Why this task can never use the program, whatever its ground truth (None: it may).
        Asked before anything executes, so a run that could have no items fails at once."""
        return None

    def unusable_reason(self, program: Program, truths: dict[tuple[str, int], Truth]) -> str | None:
        """Why build() makes no item of this program (None: it makes some)."""
        return self.static_problem(program) or input_problem(program, truths) or self.skipped.get(program.id)

    def _items_for(self, program: Program, make, inputs: Sequence[TestInput] | None = None) -> list[Item]:
        """`make(inp)` for each input of the program (or of `inputs`): an Item, None (skip it)
        or Unaskable (skip it and remember why, in self.skipped)."""
        items = []
        for inp in program.inputs if inputs is None else inputs:
            try:
                item = make(inp)
            except Unaskable as e:
                self.skipped.setdefault(program.id, str(e))
                self.left_out[reason_kind(str(e))] += 1
                continue
            if item is not None:
                items.append(item)
        return items

    def budget_prompts(self, program: Program, prompt_id: str | None) -> list[str]:
        """Prompt ids this task may send, to size the generation budget."""
        return [prompt_id or self.default_prompt(program)]

    def default_prompt(self, program: Program) -> str:
        return "codemind"

    def prompt_spec(self, prompt_id: str) -> PromptSpec:
        return get_prompt(self.name, prompt_id)

    def check_prompt(self, prompt_id: str) -> None:
        """Raise UserError when --prompt names no prompt this task can use; called before anything
        runs. budget_prompts() already resolves the prompts it returns; a task that uses the
        prompt elsewhere (DER asks its prediction stage with an IER prompt) checks it here."""

    # ---------------------------------------------------------------- the report's task summary
    # codemind/report/tasks_summary.py calls these for every task a model has samples of; it
    # names no task. Samples are samples.jsonl rows (dicts) of one model and this task, all stages.

    def summarize(self, samples: Sequence[dict]) -> dict:
        """This task's summary metrics (JSON: the report's ``summary[].<task>``). Default: accuracy
        with a 95% Wilson interval over every sample."""
        return rate(s["correct"] for s in samples)

    def summary_cells(self, summary: dict) -> dict[str, str]:
        """The summary table's cells for what summarize() returned: column header -> text."""
        return {self.title or self.name: rate_cell(summary)}

    @abstractmethod
    def build(
        self, programs: Sequence[Program], truths: dict[tuple[str, int], Truth], prompt_id: str | None
    ) -> list[Item]:
        """Items for every (program, input) whose ground truth ran; does_not_run is left out."""

    def _item(self, program: Program, inp: TestInput, truth: Truth | None, spec: PromptSpec, expected_in_prompt: bool,
              answer_kind: str | None = None, stage: str | None = None, extra: dict | None = None) -> Item:
        template = spec.template_for(program)
        values = {**prompt_values(program, inp, truth.expected if truth else None), **(extra or {})}
        if not expected_in_prompt:
            values.pop("output", None)
        missing = sorted({m for m in _PLACEHOLDER.findall(template.text) if m not in values})
        if missing:
            raise Unaskable(f"{NOT_ASKABLE}: prompt '{spec.id}' needs {', '.join(missing)} (input {inp.index})")
        return Item(
            key=f"{program.benchmark}/{program.id}#{inp.index}/{self.name}" + (f":{stage}" if stage else ""),
            stage=stage,
            benchmark=program.benchmark,
            language=program.language,
            task=self.name,  # type: ignore[arg-type]
            program_id=program.id,
            input_index=inp.index,
            prompt=template.render(values, entry_point=program.entry_point),
            extractor=template.extractor,
            answer_kind=answer_kind or self.answer_kind,  # type: ignore[arg-type]
            expected=truth.expected if truth else None,
            label=inp.label,
            ground_truth=truth.status if truth else "ok",  # type: ignore[arg-type]
            label_only=truth is not None and truth.status in UNRUN,
            variant=(program.meta.get("variant") or {}).get("kind"),
            context={
                "source": program.source,
                "call": inp.call,
                "input": values.get("input"),
                "stdin": inp.stdin,
                "entry_point": program.entry_point,
                "kind": program.kind,
                "tests": program.meta.get("tests"),
                "test_setup": program.meta.get("test_setup"),
            },
        )


TASKS: Registry[type[TaskBuilder]] = Registry("task")
TASKS.register("ier", lazy="codemind.tasks.ier:IER")
TASKS.register("input", lazy="codemind.tasks.input_prediction:InputPrediction")
TASKS.register("der", lazy="codemind.tasks.der:DER")
TASKS.register("sr", lazy="codemind.tasks.sr:SR")
TASKS.register("dsr", lazy="codemind.tasks.dsr:DSR")
TASKS.register("trace", lazy="codemind.tasks.trace:TraceTask")
