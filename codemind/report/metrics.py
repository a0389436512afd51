"""Accuracy tables from run directories: the report JSON (docs/architecture.md, "Command-line
contract") and the rows behind the terminal table. Every sample counts in n (no_generation,
api_error... are wrong answers), so a model cannot raise its score by failing to answer.

Grouping by a program feature (``construct``, ``complexity``, ``output_type``, ``recursion``,
``kind``, ``cyclomatic``, ``loc``, ``max_nesting``) first joins each sample with its program's
analysis (codemind.analysis.features). A program has several constructs, so ``construct``
gives one row per construct over the samples whose program has it: a sample counts in every
construct row of its program, rows do not add up to the total, and programs with none of the
constructs form the row ``none`` (``unknown``: the program's source could not be recovered).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable, Sequence

from codemind.analysis.stats import wilson
from codemind.errors import UserError
from codemind.schema import OUTCOMES
from codemind.store.rundir import RunDir

BASE_KEYS = ("benchmark", "language", "task")


FEATURE_KEYS = ("construct", "complexity", "output_type", "recursion", "kind", "cyclomatic", "loc", "max_nesting")


def load_samples(dirs: Sequence[Path], features: bool = False) -> list[dict]:
    """Samples of the run directories, each with ``model`` and ``run``; with ``features``,
    joined with their program's analysis and the output type of ``expected``."""
    rows: list[dict] = []
    runs: list[tuple] = []
    for d in dirs:
        if not Path(d).is_dir():
            raise UserError(f"run directory not found: {d}")
        rd = RunDir(Path(d))
        manifest = rd.read_manifest()
        model = manifest.config.get("model") if manifest else None
        triples = set()
        for s in rd.samples():
            s.setdefault("model", model)
            s["run"] = str(d)
            rows.append(s)
            triples.add((s["benchmark"], s["language"], s["program_id"]))
        if features:  # the run's own programs (programs.jsonl); None: an older directory
            runs.append((manifest.model_dump(mode="json") if manifest else None, triples, rd.recorded_programs()))
    if features:
        _attach_features(rows, runs)
    return rows


def _attach_features(rows: list[dict], runs: list[tuple]) -> None:
    from codemind.analysis.features import output_type, run_features

    feats = run_features(runs)
    types: dict[tuple, str] = {}
    for s in rows:
        f = feats[(s["benchmark"], s["language"], s["program_id"])]
        cons = f["constructs"]
        s["constructs"] = cons
        s["construct"] = ["unknown"] if cons is None else (list(cons) or ["none"])
        for k in ("complexity", "recursion", "kind", "cyclomatic", "loc", "max_nesting"):
            s.setdefault(k, f.get(k))
        key = (s.get("expected"), f.get("kind") or "function")
        if key not in types:
            types[key] = output_type(*key)
        s.setdefault("output_type", types[key])


def needs_features(by: Sequence[str]) -> bool:
    return any(k in FEATURE_KEYS for k in by)


def metrics(samples: Iterable[dict], by: Sequence[str] = (), seed: int = 0, n_boot: int = 2000) -> dict:
    """{"metrics": [...], "outcomes": {...}} grouped by benchmark/language/task (+ `by`).

    ``ci_low``/``ci_high`` are Wilson intervals, which treat samples as independent. Where a
    group has several samples of one program (several inputs or generations), the row also
    has ``programs`` and ``ci_cluster``: a bootstrap interval resampling programs, the honest
    one for such groups."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    outcomes: Counter[str] = Counter()
    extra = [k for k in by if k not in BASE_KEYS]
    for s in samples:
        base = tuple(s.get(k) for k in BASE_KEYS)
        for values in _group_values(s, extra):
            groups[base + values].append(s)
        outcomes[s["outcome"]] += 1
    rows = []
    names = [*BASE_KEYS, *extra]
    for key in sorted(groups, key=lambda k: tuple(_sort_value(n, v) for n, v in zip(names, k))):
        members = groups[key]
        n = len(members)
        correct = sum(1 for s in members if s["correct"])
        lo, hi = wilson(correct, n)
        rows.append(
            {
                "benchmark": key[0],
                "language": key[1],
                "task": key[2],
                "group": dict(zip(extra, key[3:])),
                "n": n,
                "correct": correct,
                "accuracy": correct / n if n else 0.0,
                "ci_low": lo,
                "ci_high": hi,
                "outcomes": dict(Counter(s["outcome"] for s in members)),
            }
        )
        clusters = [(s.get("benchmark"), s.get("program_id")) for s in members]
        programs = len(set(clusters))
        if programs < n:
            from codemind.analysis.stats import cluster_bootstrap

            _, clo, chi = cluster_bootstrap([float(bool(s["correct"])) for s in members], clusters, b=n_boot,
                                            seed=seed)
            rows[-1]["programs"] = programs
            rows[-1]["ci_cluster"] = [clo, chi]
    return {"metrics": rows, "outcomes": {o: outcomes[o] for o in OUTCOMES if outcomes[o]}}


def _sort_value(name: str, value) -> tuple:
    """Sort rows naturally: complexity bins in order, numbers as numbers, None first."""
    if value is None:
        return (0, 0, "")
    if name == "complexity":
        from codemind.analysis.features import COMPLEXITY_BINS

        order = [label for _, _, label in COMPLEXITY_BINS]
        return (1, order.index(value) if value in order else len(order), str(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value, "")
    return (2, 0, str(value))


def _group_values(sample: dict, keys: Sequence[str]) -> list[tuple]:
    """The group keys of one sample: several when a key is a list (``construct``)."""
    combos: list[tuple] = [()]
    for key in keys:
        if key not in sample:
            hint = " (run report with features: --by construct needs the program analysis)" \
                if key in FEATURE_KEYS else ""
            raise UserError(f"cannot group by '{key}': samples have no such field{hint}")
        v = sample[key]
        values = v if isinstance(v, list) else [v]
        combos = [c + (x,) for c in combos for x in values]
    return combos



# the sample fields the columnar report reads (and may group by)
FRAME_COLUMNS = ("benchmark", "language", "task", "stage", "variant", "program_id", "outcome", "correct",
                 "prompt_id", "input_index", "sample_index", "item_key")


def _columnar_report(d: Path, by: Sequence[str], seed: int, n_boot: int) -> dict | None:
    """build_report of one run directory from its columns (pyarrow, pandas), for a report that
    needs nothing but the accuracy table: no program features, no task summary, no variants.
    A million samples take seconds and a few hundred MB, where sample dicts take a minute and
    gigabytes. None: this report needs the sample dicts (build_report's general path)."""
    from codemind.report.tasks_summary import _task
    from codemind.store.load import samples_columns

    extra = [k for k in by if k not in BASE_KEYS]
    if needs_features(by) or any(k not in FRAME_COLUMNS and k not in ("model", "run") for k in extra):
        return None
    rd = RunDir(Path(d))
    if not rd.samples_path.exists():
        return None
    cols = list(dict.fromkeys([*BASE_KEYS, "stage", "variant", "program_id", "outcome", "correct",
                               *(k for k in extra if k in FRAME_COLUMNS)]))
    table = samples_columns(Path(d), cols)
    tasks = set(table.column("task").unique().to_pylist())
    if len(tasks) > 1 or any(t is not None and t.summary_alone for t in map(_task, tasks)):
        return None  # the task summary reads sample dicts
    if table.column("variant").null_count < table.num_rows and any(table.column("variant").unique().to_pylist()):
        return None  # the variant comparison reads sample dicts
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    table = pa.table({c: table.column(c).dictionary_encode() if pa.types.is_string(table.column(c).type)
                      else table.column(c) for c in table.column_names})  # categoricals: no string per row
    df = table.to_pandas()
    manifest = rd.read_manifest()
    constant = {"model": manifest.config.get("model") if manifest else None, "run": str(d)}
    for key in ("model", "run"):
        if key in extra:
            df[key] = pd.Categorical.from_codes(np.zeros(len(df), dtype=np.int8), [constant[key]]) \
                if constant[key] is not None else None
    if "stage" not in by and df["stage"].notna().any():
        by = [*by, "stage"]
    return metrics_frame(df, by=by, seed=seed, n_boot=n_boot)


def metrics_frame(df, by: Sequence[str] = (), seed: int = 0, n_boot: int = 2000) -> dict:
    """metrics() over a DataFrame of samples (one row each): the same rows, numbers and
    intervals (clusters coded in first-seen order, as metrics() does), with no loop over samples."""
    import numpy as np
    import pandas as pd

    extra = [k for k in by if k not in BASE_KEYS]
    for key in extra:
        if key not in df.columns:
            raise UserError(f"cannot group by '{key}': samples have no such field")
    names = [*BASE_KEYS, *extra]
    outcomes = df["outcome"].value_counts(sort=False)
    group_codes = _combined_codes([df[k] for k in names])
    first = pd.Series(np.arange(len(df))).groupby(group_codes).first().to_numpy()

    def py(v):
        return None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else \
            v.item() if isinstance(v, np.generic) else v

    keys = [tuple(py(df[k].iat[i]) for k in names) for i in first]
    correct = df["correct"].fillna(False).astype(bool).to_numpy()
    order = sorted(range(len(keys)), key=lambda g: tuple(_sort_value(n, v) for n, v in zip(names, keys[g])))
    members_of = pd.Series(np.arange(len(df))).groupby(group_codes).indices
    clusters_all = _combined_codes([df["benchmark"], df["program_id"]])
    outcome_codes, outcome_names = pd.factorize(df["outcome"], use_na_sentinel=False)
    rows = []
    for g in order:
        idx = np.asarray(members_of[g])
        n = len(idx)
        c = int(correct[idx].sum())
        lo, hi = wilson(c, n)
        oc = outcome_codes[idx]
        seen = pd.unique(oc)  # first-seen order, as Counter's
        counts = np.bincount(oc, minlength=len(outcome_names))
        row = {"benchmark": keys[g][0], "language": keys[g][1], "task": keys[g][2],
               "group": dict(zip(extra, keys[g][3:])), "n": n, "correct": c, "accuracy": c / n if n else 0.0,
               "ci_low": lo, "ci_high": hi,
               "outcomes": {str(outcome_names[o]): int(counts[o]) for o in seen}}
        rows.append(row)
        member_clusters = pd.factorize(clusters_all[idx])[0]  # first-seen order within the group
        programs = int(member_clusters.max()) + 1 if n else 0
        if programs < n:
            from codemind.analysis.stats import cluster_bootstrap

            _, clo, chi = cluster_bootstrap(correct[idx].astype(np.float64), member_clusters.astype(np.int64),
                                            b=n_boot, seed=seed)
            row["programs"] = programs
            row["ci_cluster"] = [clo, chi]
    return {"metrics": rows, "outcomes": {o: int(outcomes[o]) for o in OUTCOMES if outcomes.get(o, 0)}}


def _combined_codes(columns) -> "np.ndarray":
    """One integer code per row for the tuple of its values in `columns`, in first-seen order."""
    import pandas as pd

    code = None
    for col in columns:
        c, uniq = pd.factorize(col, use_na_sentinel=False)
        code = c.astype("int64") if code is None else pd.factorize(code * max(len(uniq), 1) + c)[0]
    return pd.factorize(code)[0]


def build_report(dirs: Sequence[Path], by: Sequence[str] = (), seed: int = 0, n_boot: int = 2000) -> dict:
    """What `codemind report` prints: ``metrics`` and ``outcomes`` (docs/architecture.md), plus
    ``comparisons`` (paired, every two runs on the same task) when there are several runs and
    ``constructs`` (with vs without each construct) when grouping by construct, and
    ``variants`` (each variant against its original, item by item) for runs with --variant."""
    from codemind.report.compare import comparisons, construct_effects

    by = list(by)
    if len(dirs) == 1:
        fast = _columnar_report(Path(dirs[0]), by, seed, n_boot)
        if fast is not None:
            return fast
    samples = load_samples(dirs, features=needs_features(by))
    if len(dirs) > 1 and "model" not in by:
        by = ["model", *by]
    if "stage" not in by and any(s.get("stage") for s in samples):
        by = [*by, "stage"]  # the stages of a multi-stage task are different questions
    if "variant" not in by and any(s.get("variant") for s in samples):
        by = [*by, "variant"]  # a variant is another program (its row: none = the benchmark's own)
    result = metrics(samples, by=by, seed=seed, n_boot=n_boot)
    from codemind.report.tasks_summary import summarize, wanted

    if wanted(samples):
        result["summary"] = summarize(samples)
    if len({s["run"] for s in samples}) > 1:
        result["comparisons"] = comparisons(samples, seed=seed, n_boot=n_boot)
    if "construct" in by:
        result["constructs"] = construct_effects(samples, seed=seed, n_boot=n_boot)
    from codemind.report.variants import variant_report

    variants = variant_report(samples, seed=seed, n_boot=n_boot)
    if variants is not None:
        result["variants"] = variants
    return result
