"""Persistent execution cache: ground truth is executed once per (program, input, call,
limits, sandbox runtime) and then read back, across runs and processes.

Storage: SQLite at ``$CODEMIND_CACHE_DIR/exec.sqlite`` (default ``~/.cache/codemind``), WAL
mode with a busy timeout, so several codemind processes can share it.

What is stored: every status except ``sandbox_error`` (an infrastructure failure, not a
property of the program). Timeouts ARE cached: they are overwhelmingly infinite loops, and
re-running each one costs a full wall-clock limit; the key includes the limits, so raising
``wall_seconds`` re-executes. Pass ``use_cache=False`` (or delete the file) to re-run
everything, e.g. after measuring on an overloaded machine.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Iterable, Sequence

from codemind.sandbox.base import Progress, Sandbox
from codemind.schema import ExecJob, Execution

UNCACHED_STATUSES = frozenset({"sandbox_error"})
_CHUNK = 500  # keys per SELECT (SQLite's variable limit is 999 on old builds)
STORE_EVERY = 512  # executions run and stored per round


def default_cache_path() -> Path:
    root = os.environ.get("CODEMIND_CACHE_DIR")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "codemind"
    return base / "exec.sqlite"


def cacheable(execution: Execution) -> bool:
    return execution.status not in UNCACHED_STATUSES


def _retry_locked(step, seconds: float = 60.0):
    """Run an open-time step, retrying while another process holds the database. SQLite skips
    the busy handler for some lock upgrades (two processes switching a new file to WAL at
    once), so "database is locked" can come back at once despite the connection's timeout."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return step()
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class ExecCache:
    """Key -> Execution, in SQLite. Thread-safe; open one per process."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False, isolation_level=None)
        _retry_locked(lambda: self._db.execute("PRAGMA journal_mode=WAL"))
        self._db.execute("PRAGMA synchronous=NORMAL")
        _retry_locked(lambda: self._db.execute(
            "CREATE TABLE IF NOT EXISTS executions ("
            " key TEXT PRIMARY KEY, status TEXT NOT NULL, execution TEXT NOT NULL, created REAL NOT NULL)"
        ))

    def get_many(self, keys: Iterable[str]) -> dict[str, Execution]:
        wanted = list(dict.fromkeys(keys))
        found: dict[str, Execution] = {}
        with self._lock:
            for i in range(0, len(wanted), _CHUNK):
                chunk = wanted[i : i + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"SELECT key, execution FROM executions WHERE key IN ({marks})", chunk)
                for key, blob in rows:
                    found[key] = Execution.model_validate_json(blob)
        return found

    def get(self, key: str) -> Execution | None:
        return self.get_many([key]).get(key)

    def put_many(self, items: Iterable[tuple[str, Execution]]) -> int:
        """Store cacheable executions; returns how many were written."""
        now = time.time()
        rows = [(k, e.status, e.model_dump_json(), now) for k, e in items if cacheable(e)]
        if not rows:
            return 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO executions (key, status, execution, created) VALUES (?, ?, ?, ?)", rows
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return len(rows)

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM executions").fetchone()[0]

    def clear(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM executions")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "ExecCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def run_cached(
    sandbox: Sandbox,
    jobs: Sequence[ExecJob],
    cache: ExecCache | None = None,
    progress: Progress | None = None,
    use_cache: bool = True,
) -> list[Execution]:
    """Executions for ``jobs`` in order: cache hits are read back, the misses are executed
    once each (identical jobs share one execution) and stored. ``use_cache=False`` executes
    everything and neither reads nor writes the cache."""
    if not use_cache:
        return sandbox.run(jobs, progress)
    own = cache is None
    cache = ExecCache() if own else cache
    try:
        runtime = sandbox.runtime
        keys = [job.key(runtime) for job in jobs]
        hits = cache.get_many(keys)
        misses: dict[str, ExecJob] = {}
        for key, job in zip(keys, jobs):
            if key not in hits and key not in misses:
                misses[key] = job
        if progress is not None:
            n_hit = sum(1 for k in keys if k in hits)
            if n_hit:
                progress(n_hit)
        fresh: dict[str, Execution] = {}
        if misses:
            miss_keys = list(misses)
            # stored chunk by chunk: a run killed during a long batch keeps what it executed
            for i in range(0, len(miss_keys), STORE_EVERY):
                chunk = miss_keys[i:i + STORE_EVERY]
                done = dict(zip(chunk, sandbox.run([misses[k] for k in chunk], progress)))
                cache.put_many(done.items())
                fresh.update(done)
            if progress is not None:
                n_dup = sum(1 for k in keys if k not in hits) - len(miss_keys)
                if n_dup:
                    progress(n_dup)
        return [hits[k] if k in hits else fresh[k] for k in keys]
    finally:
        if own:
            cache.close()
