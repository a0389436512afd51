"""Notebook API: run directories -> one pandas DataFrame of samples joined with program features.

    >>> import codemind
    >>> df = codemind.load("results/*")            # a run dir, a glob, or a folder of run dirs
    >>> df.groupby(["model", "complexity"]).correct.mean()

Columns: every samples.jsonl field; ``run`` (directory), ``model`` (the run's model spec),
``model_label`` (short name for tables, as recorded in the run's manifest); program features (``constructs`` as a list,
``has_<construct>`` booleans, ``recursion``, ``cyclomatic``, ``complexity`` bin, ``loc``,
``max_nesting``, ``kind``) and ``output_type`` of the expected answer. Samples are read with
pyarrow's JSON reader (then from a Parquet copy in the cache) and features come from the
feature cache, so 50,000 samples load in well under two seconds once seen.
"""

from __future__ import annotations

import glob as _glob
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from codemind.errors import UserError
from codemind.store.rundir import MANIFEST, SAMPLES, RunDir

if TYPE_CHECKING:  # pandas is an optional dependency ([analysis])
    import pandas as pd

FEATURE_COLUMNS = ("constructs", "recursion", "cyclomatic", "complexity", "loc", "max_nesting", "kind", "parse_error")


def find_runs(paths: str | Path | Sequence[str | Path]) -> list[Path]:
    """Run directories named by paths or globs; a folder without samples.jsonl is searched
    for run directories below it."""
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    runs: list[Path] = []
    for item in items:
        text = str(item)
        matches = sorted(_glob.glob(text)) if any(ch in text for ch in "*?[") else [text]
        if not matches:
            raise UserError(f"no run directory matches {text}")
        for m in matches:
            p = Path(m)
            if (p / SAMPLES).is_file():
                runs.append(p)
            elif p.is_dir():
                found = sorted(s.parent for s in p.rglob(SAMPLES))
                if not found and not any(ch in text for ch in "*?["):
                    raise UserError(f"{p} holds no run directory ({SAMPLES} not found)")
                runs += found
            elif not any(ch in text for ch in "*?["):
                raise UserError(f"run directory not found: {p}")
    seen: set[Path] = set()
    unique = [r for r in runs if not (r.resolve() in seen or seen.add(r.resolve()))]
    if not unique:
        raise UserError(f"no run directory found in {', '.join(map(str, items))}")
    return unique


def read_manifest(run: Path) -> dict:
    path = Path(run) / MANIFEST
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except ValueError:
        raise UserError(f"{path} is not valid JSON") from None


def model_label(spec: str | None) -> str:
    """Short model name for tables, as the spec's backend labels it (a replay file's stem, a
    path's last part, or the spec); for run directories, prefer run_label."""
    from codemind.models.base import label_of_spec

    return label_of_spec(spec)


def run_label(manifest: dict) -> str:
    """The label a run recorded in its manifest; older manifests: from their model spec."""
    return manifest.get("model_label") or model_label((manifest.get("config") or {}).get("model"))


def _schema():
    import pyarrow as pa

    s, i, b, f = pa.string(), pa.int64(), pa.bool_(), pa.float64()
    return pa.schema([
        ("item_key", s), ("benchmark", s), ("language", s), ("task", s), ("program_id", s), ("input_index", i),
        ("prompt_id", s), ("prompt_hash", s), ("sample_index", i), ("raw", s), ("extracted", s), ("expected", s),
        ("outcome", s), ("correct", b), ("detail", s), ("ground_truth", s), ("finish_reason", s), ("latency", f),
        ("judge_seconds", f), ("score", f), ("variant", s),
    ])


def read_samples_table(run: Path, schema=None, others: str = "infer"):
    """samples.jsonl as a pyarrow Table (complete lines only: a torn last line is left out):
    the columns of `schema` (default: _schema()), and fields outside it inferred (``others``
    "infer") or skipped ("ignore")."""
    import pyarrow as pa
    import pyarrow.json as pj

    schema = _schema() if schema is None else schema
    path = Path(run) / SAMPLES
    size = path.stat().st_size
    with path.open("rb") as f:
        f.seek(max(0, size - 1))
        whole = f.read(1) == b"\n"
    if whole:
        source = str(path)  # pyarrow reads the file itself, no copy through Python
    else:  # a run being written or killed: leave the torn last line out
        data = path.read_bytes()
        source = pa.BufferReader(pa.py_buffer(data)[: data.rfind(b"\n") + 1])
    if size == 0 or (not whole and source.size() == 0):
        return schema.empty_table()
    opts = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior=others)
    try:
        return pj.read_json(source, parse_options=opts, read_options=pj.ReadOptions(block_size=1 << 24))
    except Exception as e:  # pyarrow.ArrowInvalid and friends: a damaged file is bad input
        raise UserError(f"{path} is not valid samples JSONL: {str(e).splitlines()[0]}") from None


def _cache_target(run: Path) -> Path:
    """The Parquet copy of a run's samples.jsonl in the cache (path, size and mtime in the name)."""
    import hashlib

    from codemind.analysis.features import cache_dir

    path = (Path(run) / SAMPLES).resolve()
    st = path.stat()
    stem = hashlib.sha256(str(path).encode()).hexdigest()[:24]
    return cache_dir() / "samples" / f"{stem}-{st.st_size}-{st.st_mtime_ns}.parquet"


# The small columns every report and resume reads, kept in the cache apart from the whole table
LIGHT_COLUMNS = ("item_key", "benchmark", "language", "task", "stage", "program_id", "input_index", "variant",
                 "prompt_id", "sample_index", "outcome", "correct")


def samples_columns(run: Path, columns: Sequence[str]):
    """Some columns of samples.jsonl as a pyarrow Table (string columns dictionary-encoded:
    to_pandas gives categoricals), in the memory of those columns alone. From the cache: the
    whole table's Parquet copy (load()), or the copy of LIGHT_COLUMNS that the first call for
    this file state made by parsing samples.jsonl with every other field skipped (a
    million-sample file: seconds once, then a fraction of a second). Columns of _schema() plus
    ``stage``; a torn last line is left out."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    fields = {f.name: f for f in _schema()}
    fields["stage"] = pa.field("stage", pa.string())
    schema = pa.schema([fields[c] for c in columns])
    target = _cache_target(run)
    light = target.with_suffix(".light.parquet")
    for source in (target, light):
        if source.is_file():
            try:
                names = pq.read_schema(source).names
                if source == light and not set(columns) <= set(names):
                    continue
                present = [c for c in columns if c in names]
                strings = [c for c in present if pa.types.is_string(schema.field(c).type)]
                table = pq.read_table(source, columns=present, read_dictionary=strings)
                for c in columns:
                    if c not in table.column_names:
                        table = table.append_column(c, pa.nulls(table.num_rows, schema.field(c).type))
                return table.select(list(columns))
            except Exception:
                pass  # a damaged cache entry: read the file itself
    wanted = list(dict.fromkeys([*LIGHT_COLUMNS, *columns]))
    table = read_samples_table(run, pa.schema([fields[c] for c in wanted]), others="ignore")
    table = pa.table({c: table.column(c).dictionary_encode() if pa.types.is_string(table.column(c).type)
                      else table.column(c) for c in table.column_names})
    _write_cache(table, light, light.name.split("-", 1)[0] + "-*.light.parquet")
    return table.select(list(columns))


def done_from_cache(run: Path) -> set[tuple[str, int]] | None:
    """The (item_key, sample_index) pairs from the cached columns of this exact file state
    (size and mtime), None when there are none."""
    try:
        import pyarrow.parquet as pq

        target = _cache_target(run)
        for source in (target.with_suffix(".light.parquet"), target):
            if source.is_file():
                t = pq.read_table(source, columns=["item_key", "sample_index"], read_dictionary=["item_key"])
                keys = t.column("item_key").combine_chunks()
                names = keys.dictionary.to_pylist()
                return set(zip(map(names.__getitem__, keys.indices.to_pylist()), t.column("sample_index").to_pylist()))
    except Exception:  # no pyarrow, no cache, a damaged entry: the file itself is read
        return None
    return None


def _large_strings(table):
    """String columns as large_string, what pandas' string dtype holds: to_pandas then casts
    nothing (casting a million-row table's strings costs seconds). A no-op for a cache entry
    written so."""
    import pyarrow as pa

    if not any(pa.types.is_string(f.type) for f in table.schema):
        return table
    return table.cast(pa.schema([pa.field(f.name, pa.large_string()) if pa.types.is_string(f.type) else f
                                 for f in table.schema]))


def cached_samples_table(run: Path):
    """samples.jsonl as a pyarrow Table, through a Parquet copy in the cache keyed by the
    file's path, size and mtime: run directories are append-only, so any change to the file
    changes the key, and a later load reads columnar data instead of parsing JSON again."""
    import pyarrow.parquet as pq

    target = _cache_target(run)
    stem = target.name.split("-", 1)[0]
    if target.is_file():
        try:
            names = pq.read_schema(target).names
            return _large_strings(pq.read_table(target, read_dictionary=[c for c in CATEGORIES if c in names]))
        except Exception:  # a damaged cache entry is rebuilt, never trusted
            target.unlink(missing_ok=True)
    table = _large_strings(read_samples_table(run))
    _write_cache(table, target, f"{stem}-*.parquet")
    return _categories(table)


# Columns with few distinct values (or one per item): categoricals in load()'s frame. A million
# rows of them as strings are most of its memory, and on a fresh machine memory touched for the
# first time is what a load's time goes to (3.7-6 s vs 1.3-1.6 s at 1M, benchmarks/perf/scale.py).
CATEGORIES = ("item_key", "benchmark", "language", "task", "stage", "program_id", "prompt_id", "prompt_hash",
              "outcome", "ground_truth", "finish_reason", "variant")


def _categories(table):
    """CATEGORIES columns of `table` dictionary-encoded (what read_dictionary gives from Parquet)."""
    import pyarrow as pa

    for i, field in enumerate(table.schema):
        if field.name in CATEGORIES and (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
            table = table.set_column(i, field.name, table.column(i).cast(pa.string()).dictionary_encode())
    return table


def _constant(value: str | None, n: int):
    """`value` n times, as a one-entry dictionary (a categorical column): no copy per row."""
    import pyarrow as pa

    indices = pa.repeat(pa.scalar(0 if value is not None else None, pa.int32()), n)
    return pa.DictionaryArray.from_arrays(indices, pa.array([value if value is not None else ""], pa.string()))


def _write_cache(table, target: Path, stale: str) -> None:
    """Write a Parquet cache entry atomically, first removing the entries of the same file's
    older states (`stale`: a glob beside `target`)."""
    import pyarrow.parquet as pq

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        for old in target.parent.glob(stale):
            old.unlink(missing_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        pq.write_table(table, tmp, compression="lz4")
        os.replace(tmp, target)
    except OSError:
        pass  # a read-only cache only costs speed


def load(paths: str | Path | Sequence[str | Path], features: bool = True) -> "pd.DataFrame":
    """Samples of every run under ``paths`` as one DataFrame, joined with program features.
    Columns with few distinct values (CATEGORIES, run, model, model_label) are categoricals."""
    import pyarrow as pa

    runs = find_runs(paths)
    tables, manifests = [], []
    for run in runs:
        manifest = read_manifest(run)
        t = cached_samples_table(run)
        spec = (manifest.get("config") or {}).get("model")
        n = t.num_rows
        t = t.append_column("run", _constant(str(run), n))
        t = t.append_column("model", _constant(spec, n))
        t = t.append_column("model_label", _constant(run_label(manifest), n))
        tables.append(t)
        manifests.append(manifest)
    df = _question_columns(pa.concat_tables(tables, promote_options="permissive")).to_pandas()
    if "line" in df.columns:
        df["line"] = df["line"].astype("Int64")  # NaN-free: a question's line, <NA> elsewhere
    if not features or df.empty:
        return df
    return join_features(df, runs, manifests)


QUESTION_COLUMNS = ("question", "line", "variable")


def _question_columns(table):
    """Trace questions (task trace) say what they asked in ``measures``: its ``question`` (the
    kind: coverage, state, path, loops, output), ``line`` and ``variable`` become columns of
    their own (None elsewhere). Added only when some sample has them; read from the Arrow
    struct, so a run without trace questions costs nothing here."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if "measures" not in table.column_names:
        return table
    struct = table.schema.field("measures").type
    if not pa.types.is_struct(struct) or struct.get_field_index("question") < 0:
        return table
    measures = table.column("measures")
    if measures.null_count == len(measures) or pc.struct_field(measures, "question").null_count == len(measures):
        return table
    for name, kind in zip(QUESTION_COLUMNS, (pa.large_string(), pa.int64(), pa.large_string())):
        col = (pc.struct_field(measures, name) if struct.get_field_index(name) >= 0
               else pa.nulls(len(measures), kind))
        table = table.append_column(name, col.cast(kind))
    return table


def _left_join(df: "pd.DataFrame", right: "pd.DataFrame", on: list[str]) -> "pd.DataFrame":
    """df.merge(right, on=on, how="left") for a right side with unique keys, taking only
    right's columns (a merge moves every column of a million-row frame)."""
    import numpy as np
    import pandas as pd

    if df.empty or right.empty:
        return df.merge(right, on=on, how="left")
    both = pd.concat([right[on], df[on]], ignore_index=True)
    codes = None
    for col in on:
        c, uniq = pd.factorize(both[col], use_na_sentinel=False)
        codes = c if codes is None else pd.factorize(codes * max(len(uniq), 1) + c)[0]
    right_codes, left_codes = codes[: len(right)], codes[len(right):]
    where = np.full(int(codes.max()) + 1, -1, dtype=np.int64)
    where[right_codes] = np.arange(len(right))
    pos = where[left_codes]
    extra = [c for c in right.columns if c not in on]
    if (pos < 0).any():  # a key right does not have: an all-missing row, as merge gives
        right = pd.concat([right.reset_index(drop=True), right.iloc[:0].reindex([len(right)])])
        pos = np.where(pos < 0, len(right) - 1, pos)
    taken = right[extra].iloc[pos].reset_index(drop=True)
    taken.index = df.index
    return pd.concat([df, taken], axis=1)


def join_features(df: "pd.DataFrame", runs: Sequence[Path], manifests: Sequence[dict]) -> "pd.DataFrame":
    import pandas as pd

    from codemind.analysis.constructs import CONSTRUCTS
    from codemind.analysis.features import output_type, run_features

    keys = ["benchmark", "language", "program_id"]
    per_run = []
    for run, manifest in zip(runs, manifests):
        sub = df.loc[df["run"] == str(run), keys].drop_duplicates()
        per_run.append((manifest, list(sub.itertuples(index=False, name=None)), RunDir(run).recorded_programs()))
    feats = run_features(per_run)
    rows = []
    for (b, lang, pid), f in feats.items():
        present = set(f["constructs"] or [])
        row = {"benchmark": b, "language": lang, "program_id": pid,
               **{k: f.get(k) for k in FEATURE_COLUMNS}}
        row.update({f"has_{c}": (c in present) if f["constructs"] is not None else None for c in CONSTRUCTS})
        rows.append(row)
    fdf = pd.DataFrame(rows)
    out = _left_join(df, fdf, keys)
    # one output_type per distinct (expected, kind), joined back: no Python loop over samples
    kind = out["kind"].fillna("function")
    pairs = pd.DataFrame({"expected": out["expected"], "_kind": kind}).drop_duplicates()
    pairs["output_type"] = [output_type(e if isinstance(e, str) else None, k)
                            for e, k in zip(pairs["expected"].tolist(), pairs["_kind"].tolist())]
    out["_kind"] = kind
    out = _left_join(out, pairs, ["expected", "_kind"]).drop(columns="_kind")
    # NaN-free ints where known; a missing program stays <NA>
    for col in ("cyclomatic", "loc", "max_nesting"):
        out[col] = out[col].astype("Int64")
    return out
