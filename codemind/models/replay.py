"""`replay:FILE`: recorded generations, so published results can be re-scored exactly.

Three formats, detected from the content:
- CRUXEval result files ({"raw_generations": {id: [answers]}, ...}) and CRUXEval
  generations.json ({id: [answers]}). Their strings are already-extracted answers, so the
  Generations carry pre_extracted=True and the pipeline does not extract again.
- CodeMind's recorded IER outputs (JSONL, optionally .gz, with item_id/raw/kind/scored_run):
  the scored raw run of each item is replayed; items whose only line is the authors'
  FILE_NOT_FOUND placeholder have no generation (counted wrong, as the authors did). The file
  lists every item of the authors' run, so it is the backend's scope (Capabilities.programs):
  a benchmark program with no line at all (Avatar-Java ``codeforces_334_A`` in the GPT files)
  was not part of that run and is left out, not counted wrong, matching the authors'
  denominator.
- Generic JSONL: {"item_id": ..., "sample_index": 0, "text": ...} with optional
  "input_index" (default 0) and "benchmark".

A request that has no recorded generation yields error_kind="no_generation": nothing is
dropped, the sample is kept and counted (CRUXEval and generic files declare no scope).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Iterable, Iterator

from codemind.errors import UserError
from codemind.models.base import Backend, Capabilities
from codemind.schema import GenerationParams, GenRequest, Generation

# CodeMind item folder names -> our program ids, per benchmark
_CODEMIND_BENCHMARKS = {
    "CRUXEval": "cruxeval",
    "HumanEval": "humaneval",
    "MBPP": "mbpp",
    "CodeNet-Python": "codenet",
    "CodeNet-Java": "codenet",
    "Avatar-Python": "avatar",
    "Avatar-Java": "avatar",
}


def codemind_program_id(benchmark: str, item_id: str) -> str:
    """CodeMind names HumanEval items 'HumanEval_12'; the benchmark calls them 'HumanEval/12'."""
    if benchmark == "HumanEval" and item_id.startswith("HumanEval_"):
        return "HumanEval/" + item_id.removeprefix("HumanEval_")
    return item_id


Key = tuple[str, int, int]  # (program id, input index, sample index)


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UserError(f"cannot read replay file {path}: {e.strerror}") from None
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"replay file {path} is not UTF-8 text") from None


def load_recorded(path: Path) -> tuple[str, dict[Key, str], set[str], frozenset[str] | None]:
    """(format, {(program id, input index, sample index): text}, benchmarks named in the file,
    the program ids the file covers, answered or not: None when it does not say)."""
    text = _read_text(path)
    stripped = text.lstrip()
    if stripped.startswith("{") and not _looks_like_jsonl(stripped):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise UserError(f"replay file {path} is not valid JSON: {e.msg} at line {e.lineno}") from None
        gens = doc.get("raw_generations", doc) if isinstance(doc, dict) else None
        if not isinstance(gens, dict) or not all(isinstance(v, list) for v in gens.values()):
            raise UserError(f"replay file {path}: expected a CRUXEval result or generations file (id -> list of strings)")
        out = {(pid, 0, i): g for pid, lst in gens.items() for i, g in enumerate(lst) if isinstance(g, str)}
        return "cruxeval", out, {"cruxeval"}, None
    records = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            raise UserError(f"replay file {path}: line {n} is not valid JSON") from None
    if records and "raw" in records[0] and "kind" in records[0]:
        return "codemind", *_codemind(records)
    return "jsonl", *_generic(records, path), None


def _looks_like_jsonl(text: str) -> bool:
    first = text.split("\n", 1)[0]
    try:
        json.loads(first)
    except json.JSONDecodeError:
        return False
    return "\n" in text.strip()


def _codemind(records: list[dict]) -> tuple[dict[Key, str], set[str], frozenset[str]]:
    out: dict[Key, str] = {}
    benches = set()
    items = set()  # every item of the authors' run, FILE_NOT_FOUND ones included
    for r in records:
        pid = codemind_program_id(r["benchmark"], r["item_id"])
        items.add(pid)
        if r.get("kind") != "raw" or not r.get("scored_run"):
            continue
        bench = _CODEMIND_BENCHMARKS.get(r["benchmark"], r["benchmark"].lower())
        benches.add(bench)
        out[(pid, 0, 0)] = r["raw"]
    return out, benches, frozenset(items)


def _generic(records: list[dict], path: Path) -> tuple[dict[Key, str], set[str]]:
    out: dict[Key, str] = {}
    benches = set()
    for n, r in enumerate(records, 1):
        pid = r.get("item_id", r.get("program_id"))
        if pid is None or "text" not in r:
            raise UserError(f"replay file {path}: line {n} needs 'item_id' and 'text'")
        if r.get("benchmark"):
            benches.add(r["benchmark"])
        out[(str(pid), int(r.get("input_index", 0)), int(r.get("sample_index", 0)))] = r["text"]
    return out, benches


class Replay(Backend):
    name = "replay"
    chat = True
    allowed_options = frozenset({"max_concurrency"})  # passed to every backend; nothing to tune

    def __init__(self, model: str, params: GenerationParams, **options):
        super().__init__(model, params, **options)
        if not model:
            raise UserError("replay needs a file: --model replay:PATH")
        self.path = Path(model)
        if not self.path.is_file():
            raise UserError(f"replay file not found: {self.path}")
        self.format, self.records, self.benchmarks, self.programs = load_recorded(self.path)

    @property
    def capabilities(self) -> Capabilities:
        """Recorded answers: scored with the prompt's exact published parse (as their authors
        did), never stored in the generation cache, and only for the benchmarks (and, where the
        file lists its run's items, the programs) in the file."""
        return Capabilities(chat=True, extraction="exact", cacheable=False,
                            benchmarks=frozenset(self.benchmarks) or None, programs=self.programs,
                            label=self.label_for(str(self.path)))

    @classmethod
    def label_for(cls, model: str) -> str:
        """The recording's file name without .gz/.jsonl/.json."""
        name = Path(model).name
        for suffix in (".gz", ".jsonl", ".json"):
            name = name.removesuffix(suffix)
        return name

    def identity(self) -> dict:
        import hashlib

        return {
            "backend": self.name,
            "model": str(self.path),
            "format": self.format,
            "sha256": hashlib.sha256(self.path.read_bytes()).hexdigest(),
        }

    def generate(self, requests: Iterable[GenRequest]) -> Iterator[Generation]:
        for req in requests:
            text = self.records.get((req.program_id, req.input_index, req.sample_index))
            if text is None:
                yield Generation(
                    item_key=req.item_key,
                    sample_index=req.sample_index,
                    text=None,
                    error_kind="no_generation",
                    error=f"no recorded generation in {self.path.name}",
                )
            else:
                yield Generation(
                    item_key=req.item_key,
                    sample_index=req.sample_index,
                    text=text,
                    finish_reason="stop",
                    pre_extracted=self.format == "cruxeval",
                )
