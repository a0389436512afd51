"""The run directory: manifest.json + append-only samples.jsonl, resumable after kill -9, and
programs.jsonl, the programs the run used (source, kind, entry point, inputs, analysis), so a
run directory is self-contained: reports never load the benchmark again. Directories written
before programs.jsonl existed still report: see codemind.analysis.features.run_features.

Every sample line is written whole and fsynced in batches, so a crash can only leave a torn
*last* line; opening the directory again cuts that line off. A rerun skips every
(item, sample index) already on disk, so no sample is repeated or lost. A rerun with a
different configuration is refused: mixing two configurations in one file would make its
numbers meaningless.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Iterable, Iterator

from codemind.errors import UserError
from codemind.schema import RunManifest, RunProgram, Sample

MANIFEST = "manifest.json"
SAMPLES = "samples.jsonl"
PROGRAMS = "programs.jsonl"


def repair_torn_tail(path: Path) -> int:
    """Cut a partial last line (no trailing newline, or not valid JSON). Returns bytes cut."""
    if not path.exists():
        return 0
    size = path.stat().st_size
    if size == 0:
        return 0
    with open(path, "rb+") as f:
        f.seek(max(0, size - 1))
        if f.read(1) == b"\n":
            # the last line is complete unless it is not valid JSON (a torn write that happened
            # to end in a newline cannot occur: we write whole lines)
            return 0
        # scan back to the last newline
        pos = size
        chunk = 1 << 16
        while pos > 0:
            start = max(0, pos - chunk)
            f.seek(start)
            buf = f.read(pos - start)
            nl = buf.rfind(b"\n")
            if nl >= 0:
                keep = start + nl + 1
                break
            pos = start
        else:
            keep = 0
        f.truncate(keep)
        return size - keep


def read_samples(path: Path) -> Iterator[dict]:
    """Complete lines only: a torn last line (a run being written or killed) is skipped."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.endswith("\n") and line.strip():
                yield json.loads(line)


# from this size on, done() first looks for the report's cached columns of the file (pyarrow)
CACHED_DONE_BYTES = 32 << 20
_KEY_HEAD = b'{"item_key":"'
_INDEX_FIELD = b',"sample_index":'


def done_keys(path: Path) -> set[tuple[str, int]]:
    """The (item_key, sample_index) of every complete line of a samples file, without parsing
    the lines: Sample.model_dump_json writes item_key first and sample_index before any free
    text, and inside a JSON string a quote is escaped, so ',"sample_index":' can only be the
    field itself (a million-sample run in about a second, in the memory of the set alone;
    item keys are shared strings). A line in another shape is parsed as JSON."""
    done: set[tuple[str, int]] = set()
    keys: dict[bytes, str] = {}
    start = len(_KEY_HEAD)
    with open(path, "rb") as f:
        for line in f:
            if not line.endswith(b"\n"):
                break  # a torn last line
            if line.startswith(_KEY_HEAD):
                q = line.find(b'"', start)
                i = line.find(_INDEX_FIELD, q)
                if q > 0 and i > 0:
                    raw = line[start:q]
                    j = i + len(_INDEX_FIELD)
                    e = line.find(b",", j)
                    digits = line[j:e if e > 0 else line.find(b"}", j)]
                    if b"\\" not in raw and digits.isdigit():
                        key = keys.get(raw)
                        if key is None:
                            key = keys[raw] = raw.decode("utf-8")
                        done.add((key, int(digits)))
                        continue
            if line.strip():
                s = json.loads(line)
                done.add((s["item_key"], s["sample_index"]))
    return done


class RunDir:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.manifest_path = self.path / MANIFEST
        self.samples_path = self.path / SAMPLES
        self.programs_path = self.path / PROGRAMS

    # ------------------------------------------------------------------ opening

    def read_manifest(self) -> RunManifest | None:
        if not self.manifest_path.exists():
            return None
        try:
            return RunManifest.model_validate_json(self.manifest_path.read_text())
        except ValueError:
            raise UserError(f"{self.manifest_path} is not a CodeMind run manifest") from None

    def check(self, config_hash: str, config: dict) -> RunManifest | None:
        """Refuse a directory that holds a run with another configuration."""
        old = self.read_manifest()
        if old is not None and old.config_hash != config_hash:
            from codemind.config import OPERATIONAL

            diff = sorted(
                k for k in set(old.config) | set(config)
                if k not in OPERATIONAL and old.config.get(k) != config.get(k)
            )
            raise UserError(
                f"{self.path} holds a run with a different configuration (differs in: {', '.join(diff)}); "
                "use another --out or the same options"
            )
        return old

    def open(self, manifest: RunManifest) -> set[tuple[str, int]]:
        """Create or reopen the directory for this configuration; returns the
        (item key, sample index) pairs already done."""
        old = self.check(manifest.config_hash, manifest.config)
        was, now = (dict(getattr(m, "backend", None) or {}).get("decode") for m in (old, manifest))
        if old is not None and was != now:
            # the same options decode differently since the run began (llamacpp's batched
            # greedy decoding became the default): its samples would mix two decodings
            was = was or "one request at a time (--model-arg batch=1)"
            raise UserError(f"{self.path} holds a run decoded {was}; resume it the same way or use another --out")
        self.path.mkdir(parents=True, exist_ok=True)
        if old is None:
            self._write_manifest(manifest)
        repair_torn_tail(self.samples_path)
        return self.done()

    def update_manifest(self, **fields) -> None:
        m = self.read_manifest()
        if m is not None:
            self._write_manifest(m.model_copy(update=fields))

    def _write_manifest(self, manifest: RunManifest) -> None:
        tmp = self.manifest_path.with_suffix(".json.tmp")
        tmp.write_text(manifest.model_dump_json(indent=2))
        os.replace(tmp, self.manifest_path)

    def done(self) -> set[tuple[str, int]]:
        if not self.samples_path.exists():
            return set()
        if self.samples_path.stat().st_size >= CACHED_DONE_BYTES:
            from codemind.store.load import done_from_cache

            cached = done_from_cache(self.path)  # the report's cached columns of this exact file
            if cached is not None:
                return cached
        return done_keys(self.samples_path)

    # ------------------------------------------------------------------ writing

    def append(self, samples: Iterable[Sample]) -> int:
        lines = [s.model_dump_json() + "\n" for s in samples]
        if not lines:
            return 0
        with open(self.samples_path, "a", encoding="utf-8") as f:
            f.write("".join(lines))
            f.flush()
            os.fsync(f.fileno())
        return len(lines)

    def record_programs(self, programs: Iterable[RunProgram]) -> int:
        """Append the programs not recorded yet (by benchmark, language, id; the first record of
        a program stays: the samples on disk were made with it). Returns how many were added."""
        have = {(p.benchmark, p.language, p.id) for p in self.recorded_programs() or []}
        lines = []
        for p in programs:
            key = (p.benchmark, p.language, p.id)
            if key not in have:
                have.add(key)
                lines.append(p.model_dump_json() + "\n")
        if lines:
            repair_torn_tail(self.programs_path)
            with open(self.programs_path, "a", encoding="utf-8") as f:
                f.write("".join(lines))
                f.flush()
                os.fsync(f.fileno())
        return len(lines)

    def recorded_programs(self) -> list[RunProgram] | None:
        """The programs of programs.jsonl; None for a directory written before it existed."""
        if not self.programs_path.exists():
            return None
        try:
            return [RunProgram.model_validate(p) for p in read_samples(self.programs_path)]
        except ValueError as e:
            raise UserError(f"{self.programs_path} is not valid programs JSONL: {str(e).splitlines()[0]}") from None

    def samples(self) -> list[dict]:
        if not self.samples_path.exists():
            raise UserError(f"{self.path} has no {SAMPLES}: not a CodeMind run directory")
        return list(read_samples(self.samples_path))

    def sample_models(self) -> list[Sample]:
        """The samples as Sample models (what a task's plan reads between stages)."""
        return [Sample.model_validate(s) for s in self.samples()]
