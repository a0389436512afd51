"""Program features for reports and notebooks, cached with the program by content hash.

``program_features(language, source)`` runs the construct analysis once per distinct source
(key: sha256 of language + source + analysis version) and stores the result in a SQLite file,
``$CODEMIND_CACHE_DIR/features.sqlite`` (default ``~/.cache/codemind``). A second table maps
(benchmark, language, program id, data-file hashes) to that key, so loading a run whose
programs were analysed before needs neither the benchmark files nor the parser.

A run directory records its programs with their analysis (programs.jsonl, written by the
pipeline with ``recorded_analysis``), and ``run_features`` takes them from there: the benchmark
is never loaded again. Only directories written before programs.jsonl existed fall back to the
benchmark named in their manifest (its recorded data dir, CODEMIND_DATA or the download cache;
programs it cannot supply get ``empty_features()``, i.e. construct ``unknown``).

Output types are not program features: they describe a sample's ``expected`` answer
(``output_type``), so they are computed per distinct expected text.
"""

from __future__ import annotations

import ast
import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from codemind.analysis.constructs import CONSTRUCTS
from codemind.schema import Program, RunProgram, content_hash

VERSION = "features/v1"
COMPLEXITY_BINS: tuple[tuple[int, int, str], ...] = ((0, 1, "1"), (2, 3, "2-3"), (4, 5, "4-5"), (6, 10, "6-10"),
                                                   (11, 1 << 30, "11+"))
OUTPUT_TYPES = ("int", "float", "bool", "str", "list", "tuple", "dict", "set", "None", "stdout",
                "multi-line stdout", "other", "unknown")


def cache_dir() -> Path:
    return Path(os.environ.get("CODEMIND_CACHE_DIR") or Path.home() / ".cache" / "codemind")


def complexity_bin(cyclomatic: int | None) -> str:
    """Cyclomatic complexity in the bins reports use: 1, 2-3, 4-5, 6-10, 11+."""
    if cyclomatic is None:
        return "unknown"
    for lo, hi, label in COMPLEXITY_BINS:
        if lo <= cyclomatic <= hi:
            return label
    return "unknown"


def analyze(language: str, source: str) -> dict:
    """Uncached analysis of one program: constructs, counts, cyclomatic, loc, max_nesting."""
    if language == "java":
        from codemind.analysis.java_constructs import analyze_java

        result = analyze_java(source)
    else:
        from codemind.analysis.constructs import analyze_python

        result = analyze_python(source)
    d = result.as_dict()
    d["complexity"] = complexity_bin(d["cyclomatic"])
    return d


def output_type(expected: str | None, kind: str = "function") -> str:
    """Type of a ground-truth answer: a Python literal's type for function programs; "stdout"
    or "multi-line stdout" for stdin programs (whose answer is printed text)."""
    if expected is None:
        return "unknown"
    if kind == "stdin":
        return "multi-line stdout" if len(expected.strip("\n").splitlines()) > 1 else "stdout"
    try:
        value = ast.literal_eval(expected)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return "other"
    if value is None:
        return "None"
    name = type(value).__name__
    return name if name in OUTPUT_TYPES else "other"


class FeatureCache:
    """SQLite store: analysis by source key, and program identity -> source key."""

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else cache_dir() / "features.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute("CREATE TABLE IF NOT EXISTS features (key TEXT PRIMARY KEY, json TEXT NOT NULL)")
            db.execute(
                "CREATE TABLE IF NOT EXISTS programs (benchmark TEXT, language TEXT, program_id TEXT, data_key TEXT,"
                " key TEXT NOT NULL, kind TEXT, PRIMARY KEY (benchmark, language, program_id, data_key))"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def get_many(self, keys: Iterable[str]) -> dict[str, dict]:
        keys = list(set(keys))
        out: dict[str, dict] = {}
        with closing(self._connect()) as db:
            for i in range(0, len(keys), 500):
                chunk = keys[i: i + 500]
                q = f"SELECT key, json FROM features WHERE key IN ({','.join('?' * len(chunk))})"
                out.update({k: json.loads(v) for k, v in db.execute(q, chunk)})
        return out

    def put_many(self, rows: Mapping[str, dict]) -> None:
        with closing(self._connect()) as db, db:
            db.executemany("INSERT OR REPLACE INTO features VALUES (?, ?)",
                           [(k, json.dumps(v, sort_keys=True)) for k, v in rows.items()])

    def program_keys(self, benchmark: str, language: str, data_key: str) -> dict[str, tuple[str, str]]:
        """program id -> (feature key, program kind) for one benchmark build."""
        with closing(self._connect()) as db:
            rows = db.execute("SELECT program_id, key, kind FROM programs WHERE benchmark=? AND language=? AND data_key=?",
                              (benchmark, language, data_key))
            return {pid: (key, kind) for pid, key, kind in rows}

    def put_programs(self, benchmark: str, language: str, data_key: str, rows: Mapping[str, tuple[str, str]]) -> None:
        with closing(self._connect()) as db, db:
            db.executemany("INSERT OR REPLACE INTO programs VALUES (?, ?, ?, ?, ?, ?)",
                           [(benchmark, language, pid, data_key, key, kind) for pid, (key, kind) in rows.items()])


def feature_key(language: str, source: str) -> str:
    return content_hash(VERSION, language, source)


def program_features(programs: Iterable[Program], cache: FeatureCache | None = None) -> dict[str, dict]:
    """Features of each program (by id), from the cache or analysed now and stored."""
    cache = cache or FeatureCache()
    programs = list(programs)
    keys = {p.id: feature_key(p.language, p.source) for p in programs}
    have = cache.get_many(keys.values())
    new = {}
    for p in programs:
        k = keys[p.id]
        if k not in have and k not in new:
            new[k] = analyze(p.language, p.source)
    if new:
        cache.put_many(new)
        have.update(new)
    return {p.id: {**have[keys[p.id]], "kind": p.kind} for p in programs}


def recorded_analysis(programs: Sequence[Program], cache: FeatureCache | None = None) -> list[dict | None]:
    """The analysis of each program as programs.jsonl records it (with ``version``), from the
    cache or made now; None for a language this installation cannot analyse (Java without
    tree-sitter: reports then analyse the recorded source themselves) or for code nested too
    deep to analyse."""
    cache = cache or FeatureCache()
    keys = [feature_key(p.language, p.source) for p in programs]
    have = cache.get_many(keys)
    new: dict[str, dict] = {}
    cannot: set[str] = set()
    for p, k in zip(programs, keys):
        if k in have or k in new or p.language in cannot:
            continue
        try:
            new[k] = analyze(p.language, p.source)
        except ImportError:
            cannot.add(p.language)
        except (RecursionError, MemoryError):  # model-written code nested too deep to analyse
            pass
    if new:
        cache.put_many(new)
        have.update(new)
    return [{"version": VERSION, **have[k]} if k in have else None for k in keys]


def _from_record(programs: Sequence[RunProgram], triples: Iterable[tuple[str, str, str]],
                 cache: FeatureCache) -> dict[tuple[str, str, str], dict]:
    """Features of a run's programs from its programs.jsonl: the recorded analysis when it is
    of this analysis version, else the recorded source analysed now (cached)."""
    by_key = {(p.benchmark, p.language, p.id): p for p in programs}
    found = {t: by_key[t] for t in triples if t in by_key}
    stale = [p for p in found.values() if not (p.features and p.features.get("version") == VERSION)]
    fresh = dict(zip(((p.benchmark, p.language, p.id) for p in stale), recorded_analysis(stale, cache)))
    out = {}
    for t in triples:
        p = found.get(t)
        f = None if p is None else (fresh[t] if t in fresh else p.features)
        out[t] = empty_features() if f is None else {**{k: v for k, v in f.items() if k != "version"}, "kind": p.kind}
    return out


def data_key(benchmark: str, language: str, data_files: Mapping[str, str] | None) -> str:
    """Identity of a benchmark build: its data files' sha256s (from the run manifest)."""
    return content_hash("programs/v1", benchmark, language, dict(data_files or {}))[:32]


def benchmark_features(
    benchmark: str,
    language: str,
    program_ids: Iterable[str],
    data_files: Mapping[str, str] | None = None,
    data_dir: Path | None = None,
    cache: FeatureCache | None = None,
) -> dict[str, dict]:
    """Features of the given programs of a benchmark, loading the benchmark only on a cache
    miss. Programs the benchmark cannot supply (unknown benchmark, missing data) are absent."""
    cache = cache or FeatureCache()
    wanted = set(program_ids)
    dk = data_key(benchmark, language, data_files) if data_files else None
    if dk is not None:
        index = cache.program_keys(benchmark, language, dk)
        if wanted <= set(index):
            feats = cache.get_many(index[p][0] for p in wanted)
            if all(index[p][0] in feats for p in wanted):
                return {p: {**feats[index[p][0]], "kind": index[p][1]} for p in wanted}
    programs = _load_programs(benchmark, language, data_dir)
    if programs is None:
        return {}
    out = program_features([p for p in programs if p.id in wanted], cache)
    if dk is not None:
        cache.put_programs(benchmark, language, dk,
                           {p.id: (feature_key(p.language, p.source), p.kind) for p in programs if p.id in wanted})
    return out


def _load_programs(benchmark: str, language: str, data_dir: Path | None) -> list[Program] | None:
    from codemind.benchmarks.base import BENCHMARKS
    from codemind.errors import UserError

    try:
        cls = BENCHMARKS.get(benchmark)
    except KeyError:
        return None
    if data_dir is not None and not Path(data_dir).exists():
        data_dir = None
    try:
        return cls(data_dir=data_dir, language=language, inputs="first", name=benchmark).load()
    except (UserError, OSError):
        return None


def empty_features() -> dict:
    return {"constructs": None, "counts": {c: None for c in CONSTRUCTS}, "recursion": None, "cyclomatic": None,
            "loc": None, "max_nesting": None, "functions": None, "parse_error": None, "complexity": "unknown",
            "kind": None}


def run_features(
    runs: Iterable[tuple],
    cache: FeatureCache | None = None,
) -> dict[tuple[str, str, str], dict]:
    """Features for the programs of several runs: ``runs`` is (manifest dict or None,
    (benchmark, language, program id) triples, the run's recorded programs or None) per run
    (the third item may be left out: None). Returns triple -> features; a program whose source
    cannot be recovered gets ``empty_features()``.

    A run with recorded programs (programs.jsonl) is self-contained: its features come from
    there and nothing else, so the run reports the same anywhere. Without them (a directory
    from before programs.jsonl) the programs are looked up in the benchmark the manifest names."""
    cache = cache or FeatureCache()
    wanted: dict[tuple[str, str, str | None, str], set[str]] = {}
    out: dict[tuple[str, str, str], dict] = {}
    for manifest, triples, *recorded in runs:
        if recorded and recorded[0] is not None:
            out.update(_from_record(recorded[0], list(triples), cache))
            continue
        config = (manifest or {}).get("config") or {}
        data = (manifest or {}).get("data") or {}
        data_dir = config.get("data_dir")
        for b, lang, pid in triples:
            key = (b, lang, data_dir, json.dumps(data, sort_keys=True))
            wanted.setdefault(key, set()).add(pid)
    for (b, lang, data_dir, data), pids in wanted.items():
        feats = benchmark_features(b, lang, pids, json.loads(data), Path(data_dir) if data_dir else None, cache)
        for pid in pids:  # a program a self-contained run recorded keeps its recorded features
            out.setdefault((b, lang, pid), feats.get(pid) or empty_features())
    return out
