"""The execution cache with the real process sandbox. Executions are counted by a side
effect of the program itself (it appends a line to a file), so a cache hit is proven by the
file not growing, independent of timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from codemind.sandbox.cache import ExecCache, default_cache_path, run_cached
from codemind.sandbox.process import ProcessSandbox
from codemind.schema import ExecJob, Limits


@pytest.fixture(scope="module")
def sandbox():
    with ProcessSandbox(workers=2) as sb:
        yield sb


def counting_job(counter, value: int = 7) -> ExecJob:
    source = textwrap.dedent(
        f"""
        with open({str(counter)!r}, 'a') as fh:
            fh.write('ran\\n')
        def f(x):
            return x * {value}
        """
    )
    return ExecJob(source=source, call="f(6)")


def runs(counter) -> int:
    return len(counter.read_text().splitlines()) if counter.exists() else 0


def test_hits_are_not_executed_and_duplicates_run_once(sandbox, tmp_path):
    counter = tmp_path / "count"
    cache = ExecCache(tmp_path / "exec.sqlite")
    job = counting_job(counter)
    seen = []
    first = run_cached(sandbox, [job, job, job], cache=cache, progress=seen.append)
    assert [r.return_repr for r in first] == ["42", "42", "42"]
    assert runs(counter) == 1  # three identical jobs, one execution
    assert sum(seen) == 3
    again = run_cached(sandbox, [job], cache=cache)
    assert runs(counter) == 1  # served from the cache
    assert again[0] == first[0]
    fresh = run_cached(sandbox, [job], cache=cache, use_cache=False)
    assert runs(counter) == 2 and fresh[0].return_repr == "42"
    cache.close()


def test_mixed_hits_and_misses_keep_order(sandbox, tmp_path):
    cache = ExecCache(tmp_path / "exec.sqlite")
    a, b = counting_job(tmp_path / "a", 2), counting_job(tmp_path / "b", 3)
    run_cached(sandbox, [a], cache=cache)
    out = run_cached(sandbox, [b, a, b], cache=cache)
    assert [r.return_repr for r in out] == ["18", "12", "18"]
    assert runs(tmp_path / "a") == 1 and runs(tmp_path / "b") == 1


def test_failures_are_cached_but_sandbox_errors_are_not(sandbox, tmp_path):
    cache = ExecCache(tmp_path / "exec.sqlite")
    boom = ExecJob(source="def f():\n    return 1 / 0\n", call="f()")
    loop = ExecJob(source="while True:\n    pass\n", limits=Limits(wall_seconds=0.5))
    java = ExecJob(language="java", source="class Main {}")
    out = run_cached(sandbox, [boom, loop, java], cache=cache)
    assert [r.status for r in out] == ["exception", "timeout", "sandbox_error"]
    rt = sandbox.runtime
    assert cache.get(boom.key(rt)).exc_type == "ZeroDivisionError"
    assert cache.get(loop.key(rt)).status == "timeout"
    assert cache.get(java.key(rt)) is None
    assert len(cache) == 2


def test_cache_survives_a_new_process(sandbox, tmp_path):
    counter = tmp_path / "count"
    job = counting_job(counter)
    env = {**os.environ, "CODEMIND_CACHE_DIR": str(tmp_path / "cachedir")}
    script = textwrap.dedent(
        f"""
        import json, sys
        from codemind.sandbox.cache import run_cached
        from codemind.sandbox.process import ProcessSandbox
        from codemind.schema import ExecJob
        job = ExecJob.model_validate_json(sys.stdin.read())
        with ProcessSandbox(workers=1) as sb:
            (r,) = run_cached(sb, [job])
        print(json.dumps(r.model_dump()))
        """
    )

    def child() -> dict:
        out = subprocess.run([sys.executable, "-c", script], input=job.model_dump_json(), env=env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    first = child()
    second = child()
    assert first == second and first["return_repr"] == "42"
    assert runs(counter) == 1
    assert (tmp_path / "cachedir" / "exec.sqlite").exists()


def test_default_path_honours_env(monkeypatch, tmp_path):
    monkeypatch.setenv("CODEMIND_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_path() == tmp_path / "c" / "exec.sqlite"


def test_runtime_is_part_of_the_key():
    job = ExecJob(source="print(1)")
    assert job.key("process-a") != job.key("process-b")


def test_concurrent_writers_share_one_file(tmp_path):
    """Two processes filling the same cache at once (WAL + busy timeout): nothing is lost."""
    script = textwrap.dedent(
        """
        import sys
        from codemind.sandbox.cache import ExecCache
        from codemind.schema import Execution
        cache = ExecCache(sys.argv[1])
        for batch in range(20):
            cache.put_many((f"{sys.argv[2]}-{batch}-{i}", Execution(status="ok", stdout=str(i)))
                           for i in range(50))
        cache.close()
        """
    )
    path = tmp_path / "shared.sqlite"
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path), tag]) for tag in ("a", "b")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    with ExecCache(path) as cache:
        assert len(cache) == 2 * 20 * 50
        assert cache.get("b-19-49").stdout == "49"
