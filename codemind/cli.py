"""The `codemind` command line (contract: docs/architecture.md, "Command-line contract"; add
options, never rename).

Bad input of any kind is one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer
from pydantic import ValidationError

from codemind.errors import UserError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Evaluate how well language models reason about code (CodeMind).",
)
data_app = typer.Typer(no_args_is_help=True, help="Benchmark data: verify ground truth, survey program variants.")
app.add_typer(data_app, name="data")


def _sandbox_app() -> typer.Typer | None:
    try:
        from codemind.sandbox.cli import sandbox_app
    except ImportError:
        return None
    return sandbox_app


_sb = _sandbox_app()
if _sb is not None:
    app.add_typer(_sb, name="sandbox", help="Build, check and use the Docker sandbox.")


def _config(**kwargs):
    from codemind.config import RunConfig

    try:
        return RunConfig(**{k: v for k, v in kwargs.items() if v is not None})
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise UserError(f"invalid --{where.replace('_', '-')}: {err['msg']}") from None


@app.command()
def run(
    benchmark: Optional[str] = typer.Option(None, "--benchmark", "-b", help="humaneval, mbpp, mbpp-full, cruxeval, ..., or file:PATH (your own programs)"),
    eval_names: Optional[List[str]] = typer.Option(None, "--eval", help="a named evaluation (codemind list evals); "
                                                   "repeat for several; or a path to your own .toml"),
    suite: Optional[str] = typer.Option(None, help="a named suite of evaluations (codemind list suites)"),
    language: Optional[str] = typer.Option(None, help="python or java (default python)"),
    task: Optional[str] = typer.Option(None, help="ier, der, sr or input (default ier)"),
    prompt: Optional[str] = typer.Option(None, help="prompt template id (default: the task's)"),
    judge: Optional[str] = typer.Option(None, help="value, cruxeval, codemind-exact, stdout"),
    judge_arg: Optional[List[str]] = typer.Option(None, "--judge-arg", help="KEY=VALUE option of the judge (repeat)"),
    model: Optional[str] = typer.Option(None, help="openai:M, vllm:PATH, llamacpp:PATH_OR_ALIAS, replay:FILE"),
    model_arg: Optional[List[str]] = typer.Option(
        None, "--model-arg", help="KEY=VALUE option of the model backend, repeatable (e.g. n_ctx=4096, chat=false); "
                                  "values are JSON scalars when they parse, else strings"),
    base_url: Optional[str] = typer.Option(None, help="OpenAI-compatible server URL"),
    api_key_env: Optional[str] = typer.Option(None, help="env var holding the API key"),
    endpoint: Optional[str] = typer.Option(None, help="chat or completions (openai: models; default chat)"),
    limit: Optional[int] = typer.Option(None, help="first N programs only (of every evaluation of a suite)"),
    samples: Optional[int] = typer.Option(None, help="samples per item (default 1, or the evaluation's)"),
    temperature: Optional[float] = typer.Option(None, help="default 0, or the evaluation's"),
    top_p: Optional[float] = typer.Option(None, help="default 1, or the evaluation's"),
    max_tokens: Optional[int] = typer.Option(None, help="default: the prompt's budget"),
    seed: int = typer.Option(0),
    inputs: Optional[str] = typer.Option(
        None, help="first (default) or all inputs per program, or codemind: the CodeMind paper's own items"
    ),
    extraction: Optional[str] = typer.Option(None, help="auto (default), exact or lenient answer extraction"),
    variant: Optional[List[str]] = typer.Option(
        None, "--variant", help="program variants to ask besides the originals, comma-separated or repeated "
                                "(rename, loop, mutant-operator, ...: codemind data variants --help)"),
    sandbox: Optional[str] = typer.Option(None, help="docker or process (default: docker if ready)"),
    workers: Optional[int] = typer.Option(None, help="sandbox workers (default: one per core)"),
    max_concurrency: int = typer.Option(16, help="concurrent API requests"),
    executor: Optional[str] = typer.Option(
        None, help="where sandbox jobs and generation run: local (default) or ray[:ADDRESS] (a Ray cluster; "
                   "pip install 'codemind[ray]'; docs/distributed.md); the samples are the same"),
    data_dir: Optional[Path] = typer.Option(None, help="local data mirror (default: $CODEMIND_DATA)"),
    out: Optional[Path] = typer.Option(None, help="run directory (suite or several --eval: the suite directory)"),
    no_cache: bool = typer.Option(False, "--no-cache", help="ignore execution and generation caches"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Evaluate a model on a benchmark task, a named evaluation or a suite; resumable: rerun the
    same command to continue."""
    from codemind.config import parse_options
    from codemind.pipeline import run as run_pipeline
    from codemind.ui import Progress

    question = dict(benchmark=benchmark, language=language, task=task, prompt=prompt, judge=judge, inputs=inputs,
                    extraction=extraction, judge_options=parse_options(judge_arg or [], "--judge-arg") or None)
    rest = dict(model=model, model_args=parse_options(model_arg or [], "--model-arg") or None, base_url=base_url, api_key_env=api_key_env, endpoint=endpoint, limit=limit,
                samples=samples, temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed,
                sandbox=sandbox, workers=workers, max_concurrency=max_concurrency, data_dir=data_dir,
                no_cache=no_cache, variants=_names(variant), executor=executor)
    progress = Progress(enabled=not as_json)
    try:
        if eval_names or suite:
            _run_evals(eval_names or [], suite, question, rest, out, progress, as_json)
            return
        if benchmark is None:
            raise UserError("say what to run: --benchmark, --eval or --suite")
        config = _config(**question, **rest, out=out)
        result = run_pipeline(config, progress=progress)
    except KeyboardInterrupt:
        print("interrupted: every judged sample is saved; rerun the same command to continue", file=sys.stderr)
        raise typer.Exit(130)
    _finish_run(result, as_json)


def _names(values: list[str] | None) -> list[str] | None:
    """Repeated and comma-separated option values as one list (None: not given)."""
    if not values:
        return None
    return [n.strip() for v in values for n in v.split(",") if n.strip()]


def _finish_run(result, as_json: bool) -> None:
    """What a finished run prints: a summary line on stderr, then its report."""
    if not as_json:
        print(f"{result.out}: {result.items} items, {result.new_samples} new samples, "
              f"{result.skipped} already done", file=sys.stderr)
    _print_report([result.out], by=[], fmt="json" if as_json else "table")


def _run_evals(names: list[str], suite: str | None, question: dict, rest: dict, out: Path | None,
               progress, as_json: bool) -> None:
    """--eval NAME (one: a run directory; several: a suite directory) or --suite NAME."""
    from codemind.evals.spec import load_eval, load_suite
    from codemind.evals.suite_run import eval_config, run_suite
    from codemind.pipeline import run as run_pipeline

    if suite and names:
        raise UserError("--suite and --eval cannot be combined: a suite names its evaluations")
    given = {k: v for k, v in question.items() if v is not None}
    overrides = {k: v for k, v in rest.items() if v is not None}
    if suite:
        spec = load_suite(suite)
        specs, name, description, tables = [load_eval(e) for e in spec.evals], spec.name, spec.description, spec.tables
    else:
        specs = [load_eval(n) for n in names]
        name, description, tables = "evals:" + ",".join(s.name for s in specs), "", []
    if len(specs) == 1 and not suite:
        config = eval_config(specs[0], {**given, **overrides}, out)
        _finish_run(run_pipeline(config, progress=progress), as_json)
        return
    done = run_suite(name, description, specs, {**given, **overrides}, out,
                     run_one=lambda config: run_pipeline(config, progress=progress), tables=tables)
    print(f"{done.out}: {len(done.done)} of {len(specs)} evaluations done, {done.new_samples} new samples",
          file=sys.stderr)
    _print_report([done.out], by=[], fmt="json" if as_json else "table")
    if done.failed:
        raise UserError(f"{len(done.failed)} of {len(specs)} evaluations failed: "
                        + "; ".join(f"{k}: {v}" for k, v in done.failed.items()))


@app.command("list")
def list_(
    what: str = typer.Argument(..., help="evals or suites"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The named evaluations or suites, with what each runs."""
    from codemind.evals.spec import eval_names, load_eval, load_suite, suite_names

    if what == "evals":
        rows = [load_eval(n).model_dump(exclude_none=True) for n in eval_names()]
        lines = [f"{r['name']:<34} {r['task']:<6} {r['benchmark'] + '-' + r['language']:<24} {r['description']}"
                 for r in rows]
    elif what == "suites":
        rows = [load_suite(n).model_dump() for n in suite_names()]
        lines = [f"{r['name']:<16} {len(r['evals'])} evaluations: {', '.join(r['evals'])}" for r in rows]
    else:
        raise UserError(f"unknown list '{what}' (evals or suites)")
    print(json.dumps(rows, indent=2) if as_json else "\n".join(lines))


@app.command()
def report(
    dirs: List[Path] = typer.Argument(..., help="run directories"),
    by: Optional[str] = typer.Option(
        None, help="extra grouping, comma-separated: benchmark, language, model, prompt_id, construct, complexity, "
                   "output_type, recursion, ... (construct: one row per construct over the samples whose program "
                   "has it)"),
    fmt: str = typer.Option("table", "--format", help="table, md, json or html"),
    as_json: bool = typer.Option(False, "--json", help="same as --format json"),
    seed: int = typer.Option(0, help="bootstrap seed"),
    bootstrap: int = typer.Option(2000, help="bootstrap resamples"),
) -> None:
    """Accuracy with 95% Wilson intervals and outcome counts; several runs: a comparison table
    and paired tests (McNemar, bootstrap); --by construct adds with-vs-without each construct."""
    keys = [k.strip() for k in by.split(",") if k.strip()] if by else []
    _print_report(dirs, by=keys, fmt="json" if as_json else fmt, seed=seed, n_boot=bootstrap)


def _print_report(dirs: list[Path], by: list[str], fmt: str, seed: int = 0, n_boot: int = 2000) -> None:
    from codemind.report.metrics import build_report
    from codemind.report.render import render_report

    if fmt not in ("table", "md", "json", "html"):
        raise UserError(f"unknown --format '{fmt}' (table, md, json, html)")
    if n_boot < 1:
        raise UserError("--bootstrap must be at least 1")
    from codemind.evals.suite_run import read_record
    from codemind.store.load import find_runs

    if len(dirs) == 1 and not by and fmt != "html" and read_record(dirs[0]) is not None:
        from codemind.report.suite import render_suite, suite_report

        result = suite_report(dirs[0], seed=seed, n_boot=n_boot)
        print(json.dumps(result, indent=2) if fmt == "json" else render_suite(result, "md" if fmt == "md" else "table"))
        return
    result = build_report(find_runs(dirs), by=by, seed=seed, n_boot=n_boot)
    if fmt == "json":
        print(json.dumps(result, indent=2))
    elif fmt == "html":
        from codemind.report.html import report_html

        print(report_html(result), end="")
    else:
        print(render_report(result, fmt))


@app.command()
def leaderboard(
    dirs: List[Path] = typer.Argument(..., help="run directories"),
    out: Path = typer.Option(..., "--out", help="site folder: index.html, leaderboard.md, plots/"),
    title: str = typer.Option("CodeMind leaderboard", help="page title"),
    seed: int = typer.Option(0, help="bootstrap seed"),
    bootstrap: int = typer.Option(2000, help="bootstrap resamples"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Build a static leaderboard site (HTML + Markdown + PNG plots) from run directories."""
    from codemind.report.leaderboard import build

    if bootstrap < 1:
        raise UserError("--bootstrap must be at least 1")
    from codemind.store.load import find_runs

    result = build(find_runs(dirs), out, seed=seed, n_boot=bootstrap, title=title)
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['index']}: {result['runs']} runs, {result['samples']} samples, {result['sections']} sections")


@app.command()
def export(
    dirs: List[Path] = typer.Argument(..., help="run directories (or folders/globs holding them)"),
    parquet: Path = typer.Option(..., "--parquet", help="output Parquet file"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Samples joined with program features as Parquet (DuckDB/pandas read it directly)."""
    from codemind.store.export import export_parquet

    result = export_parquet([str(d) for d in dirs], parquet)
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['out']}: {result['rows']} samples from {result['runs']} runs, {result['columns']} columns")


@app.command()
def rescore(
    file: Path = typer.Argument(..., help="a CRUXEval result or generations file"),
    fmt: str = typer.Option("cruxeval", "--format", help="cruxeval"),
    rule: str = typer.Option("2024-01", help="CRUXEval scoring rule: 2024-01 (before 0a800bd) or 2024-04"),
    mode: Optional[str] = typer.Option(None, help="output or input (default: from the file name, as upstream)"),
    hash_seed: Optional[int] = typer.Option(None, help="PYTHONHASHSEED for the checks (default: pinned 0)"),
    timeout: float = typer.Option(3.0, help="seconds per check: wall clock, as CRUXEval (or user CPU: --cpu-time)"),
    cpu_time: bool = typer.Option(False, "--cpu-time", help="limit user CPU time, not wall clock (load-independent)"),
    no_cache: bool = typer.Option(False, "--no-cache", help="execute every check again (default: reuse cached runs)"),
    sandbox: Optional[str] = typer.Option(None, help="docker or process (default: docker if ready)"),
    data_dir: Optional[Path] = typer.Option(None, help="local data mirror (default: $CODEMIND_DATA)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Re-score published generations: pass@1, pass@5 (unbiased) and per-problem results."""
    from codemind.sandbox import open_sandbox
    from codemind.scoring.rescore import rescore_file

    if fmt != "cruxeval":
        raise UserError(f"unknown --format '{fmt}' (supported: cruxeval)")
    if rule not in ("2024-01", "2024-04"):
        raise UserError(f"unknown --rule '{rule}' (2024-01 or 2024-04)")
    if mode not in (None, "output", "input"):
        raise UserError(f"unknown --mode '{mode}' (output or input)")
    if not file.is_file():
        raise UserError(f"file not found: {file}")
    if not 0 < timeout <= 600:
        raise UserError(f"--timeout must be in (0, 600] seconds, not {timeout}")
    with open_sandbox(sandbox) as sb:
        result = rescore_file(file, rule=rule, sandbox=sb, mode=mode, data_dir=data_dir, hash_seed=hash_seed,
                              timeout=timeout, cpu_time=cpu_time, use_cache=not no_cache)
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{file.name}: pass@1 {result['pass_at_1']:.4f}  pass@5 {result['pass_at_5']:.4f}  "
              f"({result['n_problems']} problems, rule {rule})")


@data_app.command("verify")
def data_verify(
    benchmark: str = typer.Argument(..., help="a benchmark name, or file:PATH (your own programs)"),
    language: str = typer.Option("python"),
    inputs: str = typer.Option("all", help="first or all inputs per program"),
    no_cache: bool = typer.Option(False, "--no-cache", help="execute everything again"),
    sandbox: Optional[str] = typer.Option(None, help="docker or process (default: docker if ready)"),
    data_dir: Optional[Path] = typer.Option(None),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Execute all ground truth of a benchmark and report label noise."""
    from codemind.groundtruth import verify

    if language not in ("python", "java"):
        raise UserError(f"unknown --language '{language}' (python or java)")
    if inputs not in ("first", "all"):
        raise UserError(f"unknown --inputs '{inputs}' (first or all)")
    from codemind.benchmarks.base import BENCHMARKS

    BENCHMARKS.get(benchmark)  # unknown name: fail before starting a sandbox
    # the sandbox starts once the programs have loaded: a malformed programs file fails first
    result = verify(benchmark, data_dir=data_dir, use_cache=not no_cache, language=language, inputs=inputs,
                    sandbox_kind=sandbox)
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        keys = ("items", "ok", "label_mismatch", "does_not_run", "excluded", "seconds")
        print("  ".join(f"{k}={result[k]}" for k in keys if k in result))


@data_app.command("variants")
def data_variants(
    benchmark: str = typer.Argument(..., help="a benchmark name, or file:PATH (your own programs)"),
    language: str = typer.Option("python"),
    kind: Optional[List[str]] = typer.Option(None, "--kind", help="variant kinds, comma-separated or repeated "
                                             "(default: every kind with a transform for the language)"),
    inputs: str = typer.Option("first", help="first or all inputs per program"),
    seed: int = typer.Option(0),
    limit: Optional[int] = typer.Option(None, help="first N programs only"),
    no_cache: bool = typer.Option(False, "--no-cache", help="execute everything again"),
    sandbox: Optional[str] = typer.Option(None, help="docker or process (default: docker if ready)"),
    data_dir: Optional[Path] = typer.Option(None),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Make every variant of a benchmark's programs, check each by execution, and count per
    kind the programs tried, kept and dropped (and why)."""
    from codemind.ui import Progress
    from codemind.variants.build import survey

    if language not in ("python", "java"):
        raise UserError(f"unknown --language '{language}' (python or java)")
    if inputs not in ("first", "all"):
        raise UserError(f"unknown --inputs '{inputs}' (first or all)")
    if limit is not None and limit < 1:
        raise UserError("--limit must be at least 1")
    result = survey(benchmark, language, _names(kind), inputs=inputs, seed=seed, data_dir=data_dir,
                    sandbox_kind=sandbox, use_cache=not no_cache, limit=limit, progress=Progress(enabled=not as_json))
    if as_json:
        print(json.dumps(result, indent=2))
        return
    print(f"{benchmark} ({language}): {result['programs']} programs, {result['seconds']} s")
    for name, r in result["kinds"].items():
        share = "-" if r["kept_share"] is None else f"{100 * r['kept_share']:.1f}%"
        why = ", ".join(f"{k} {v}" for k, v in r["reasons"].items())
        print(f"  {name:<18} {r['behaviour']:<8} tried {r['tried']:>5}  kept {r['kept']:>5} ({share})"
              + (f"  dropped: {why}" if why else ""))


def main() -> None:
    try:
        app()
    except UserError as e:
        print(f"codemind: error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
