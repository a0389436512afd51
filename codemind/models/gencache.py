"""Generation cache: every successful sample is stored once and never asked for again.

Keyed by (backend identity, model, params without n, system, prompt, stop, sample index),
so raising n from 5 to 10 only asks for samples 5..9, a repeated or resumed run asks
for nothing, and changing anything that can change the text misses. Failures
(api_error) are not stored: the next run retries them. SQLite in WAL mode, one row per
sample, committed as it arrives, so a killed run keeps what it paid for.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterable, Iterator

from codemind.models.base import Backend, Capabilities
from codemind.schema import GenRequest, Generation, content_hash

CACHE_VERSION = "gen/v1"
_STORED = ("text", "finish_reason", "prompt_tokens", "completion_tokens", "latency")


def default_cache_path() -> Path:
    """$CODEMIND_CACHE_DIR/generations.sqlite, else ~/.cache/codemind/generations.sqlite."""
    base = os.environ.get("CODEMIND_CACHE_DIR")
    root = Path(base).expanduser() if base else Path.home() / ".cache" / "codemind"
    return root / "generations.sqlite"


def generation_key(backend: Backend, req: GenRequest) -> str:
    """Everything that can change a sample's text, and nothing else (not n, not item key)."""
    params = backend.params.model_dump(mode="json", exclude={"n"})
    return content_hash(
        CACHE_VERSION,
        backend.identity(),
        backend.model,
        params,
        req.system,
        req.prompt,
        list(req.stop),
        req.sample_index,
    )


class GenCache:
    """A key -> stored generation table in one SQLite file."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS generations (key TEXT PRIMARY KEY, value TEXT NOT NULL,"
            " created REAL NOT NULL DEFAULT (julianday('now')))"
        )
        self._db.commit()

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM generations WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def get_many(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for key, value in self._db.execute(
                    f"SELECT key, value FROM generations WHERE key IN ({marks})", chunk
                ):
                    found[key] = json.loads(value)
        return found

    def put(self, key: str, gen: Generation) -> bool:
        """Store a successful generation; failures are refused (returns False)."""
        if gen.error_kind is not None or gen.text is None:
            return False
        value = json.dumps({f: getattr(gen, f) for f in _STORED}, ensure_ascii=False)
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO generations (key, value) VALUES (?, ?)", (key, value))
            self._db.commit()
        return True

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM generations").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


class CachedBackend(Backend):
    """Wraps any backend: hits are yielded first (cached=True), only misses reach it.

    ``hits`` and ``misses`` count the last generate() call (for progress display)."""

    def __init__(self, backend: Backend, cache: GenCache):
        self.inner = backend
        self.cache = cache
        self.name = backend.name
        self.chat = backend.chat
        self.model = backend.model
        self.params = backend.params
        self.options = backend.options
        self.hits = 0
        self.misses = 0

    @property
    def capabilities(self) -> Capabilities:
        return self.inner.capabilities  # the cache changes where answers come from, not what they are

    def identity(self) -> dict:
        return self.inner.identity()

    def generate(self, requests: Iterable[GenRequest]) -> Iterator[Generation]:
        todo = list(requests)
        keyed = [(generation_key(self.inner, req), req) for req in todo]
        found = self.cache.get_many([k for k, _ in keyed])
        misses: list[GenRequest] = []
        pending: dict[tuple[str, int], list[str]] = {}
        self.hits = self.misses = 0
        for key, req in keyed:
            stored = found.get(key)
            if stored is None:
                misses.append(req)
                pending.setdefault((req.item_key, req.sample_index), []).append(key)
                continue
            self.hits += 1
            yield Generation(item_key=req.item_key, sample_index=req.sample_index, cached=True, **stored)
        self.misses = len(misses)
        if not misses:
            return
        for gen in self.inner.generate(misses):
            keys = pending.get((gen.item_key, gen.sample_index))
            if keys:
                self.cache.put(keys.pop(0), gen)
            yield gen

    def close(self) -> None:
        self.inner.close()
