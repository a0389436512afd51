"""`--executor ray` on a real Ray cluster of processes on this machine (tests/ray_cluster.py: a
head and two worker nodes, each `ray start` in its own session on its own loopback address,
the workers advertising `codemind_sandbox` and `codemind_model`).

- A CRUXEval IER run and a HumanEval DER run against a scripted OpenAI-compatible server give
  exactly the samples of the same runs on the local executor (per item, stage and sample index:
  outcome, correct, extracted, expected), none lost, none repeated; the IER run loses a worker
  node (every process of it SIGKILLed) as soon as its first samples are on disk, and its
  sandbox work goes on on the other node. Each run has its own empty cache directory, so every
  execution goes through the cluster.
- A run started on the local executor resumes on Ray (the executor is not in the
  configuration hash) and ends with the local run's samples.
- The embedded model on an actor pool (one model per actor) gives the local backend's texts.

Nodes use the Docker sandbox. Skipped without ray or Docker; in CI (CI=true) that is a failure (scripts/setup.sh installs the extra).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import IN_CI
from docker_helpers import need_docker
from servers.task_server import TaskScript, TaskServer

from codemind.benchmarks.base import BENCHMARKS

pytestmark = pytest.mark.ray

SANDBOX = "docker"  # each node opens its own Docker sandbox (here: one engine for all three)


def _need_ray() -> None:
    try:
        import ray  # noqa: F401
    except ImportError:
        msg = "ray is not installed (pip install 'codemind[ray]')"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.fixture(scope="module")
def cluster():
    _need_ray()
    need_docker()
    from ray_cluster import LocalRayCluster

    c = LocalRayCluster(worker_resources={"codemind_sandbox": 1, "codemind_model": 1})
    try:
        c.start_head()
        c.add_worker()
        c.add_worker()
        c.wait_resources("codemind_sandbox", 2)
        yield c
    finally:
        c.stop()


def _samples(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines() if line.strip()]


def _by_key(samples: list[dict]) -> dict[tuple, tuple]:
    """(item, stage, sample index) -> what was judged; a repeated key fails here."""
    out: dict[tuple, tuple] = {}
    for s in samples:
        key = (s["item_key"], s["stage"], s["sample_index"])
        assert key not in out, f"sample repeated: {key}"
        out[key] = (s["outcome"], s["correct"], s["extracted"], s["expected"])
    return out


def _run(tmp_path: Path, name: str, args: list, executor: str, on_first_samples=None,
         kill_driver: bool = False) -> tuple[Path, str]:
    """`codemind run ARGS --executor EXECUTOR` with its own empty caches; `on_first_samples` is
    called (once) when samples.jsonl first has a line; `kill_driver`: the run itself is then
    SIGKILLed (its exit status is not checked)."""
    out = tmp_path / name
    env = {**os.environ, "OPENAI_API_KEY": "x", "CODEMIND_CACHE_DIR": str(tmp_path / f"cache-{name}"),
           "RAY_USAGE_STATS_ENABLED": "0"}
    cmd = [sys.executable, "-m", "codemind.cli", "run", *map(str, args), "--sandbox", SANDBOX, "--workers", "1",
           "--executor", executor, "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    fired = threading.Event()
    if on_first_samples is not None:
        def watch():
            f = out / "samples.jsonl"
            while proc.poll() is None:
                if f.is_file() and f.stat().st_size > 0:
                    on_first_samples(proc)
                    fired.set()
                    return
                time.sleep(0.05)
        threading.Thread(target=watch, daemon=True).start()
    _, stderr = proc.communicate(timeout=900)
    if kill_driver:
        return out, stderr
    assert proc.returncode == 0, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    if on_first_samples is not None:
        assert fired.is_set(), "the run ended before its first samples were seen"
    return out, stderr


def test_ier_and_der_on_ray_equal_local_with_a_node_lost(cluster, data_dir, tmp_path):
    script = TaskScript().add(BENCHMARKS.get("cruxeval")(language="python", name="cruxeval").load())
    script.add(BENCHMARKS.get("humaneval")(language="python", name="humaneval").load())
    ray_exec = f"ray:{cluster.address}"
    with TaskServer(script) as url:
        model = ["--model", "openai:scripted", "--base-url", url]
        der = ["--benchmark", "humaneval", "--task", "der", "--samples", 2, "--limit", 12, *model]
        der_local, _ = _run(tmp_path, "der-local", der, "local")
        der_ray, _ = _run(tmp_path, "der-ray", der, ray_exec)

        ier = ["--benchmark", "cruxeval", "--task", "ier", "--judge", "cruxeval", "--limit", 400, *model]
        ier_local, _ = _run(tmp_path, "ier-local", ier, "local")
        killed = []
        ier_ray, stderr = _run(tmp_path, "ier-ray", ier, ray_exec,
                               on_first_samples=lambda _: killed.append(cluster.kill_node(cluster.nodes[1])))
    assert killed and killed[0] > 0, "no process of the worker node was killed"
    assert "actor(s) lost with their nodes" in stderr, stderr[-2000:]

    for local, ray in ((der_local, der_ray), (ier_local, ier_ray)):
        a, b = _by_key(_samples(local)), _by_key(_samples(ray))
        assert set(a) == set(b), (len(a), len(b), sorted(set(a) ^ set(b))[:5])
        diff = [(k, a[k], b[k]) for k in a if a[k] != b[k]]
        assert not diff, diff[:5]
        assert len(a) > 0
        ml, mr = (json.loads((d / "manifest.json").read_text()) for d in (local, ray))
        assert ml["config_hash"] == mr["config_hash"]
        assert ml["sandbox"] == mr["sandbox"], "the nodes' sandbox is the local one: same execution-cache keys"
    stages = {s["stage"] for s in _samples(der_ray)}
    assert stages == {"synthesis", "prediction", "reference"}, stages

    # the lost node's place is taken by a new one (the cluster, not the run, is what recovers)
    cluster.add_worker()
    cluster.wait_resources("codemind_sandbox", 2)


def test_a_local_run_resumes_on_ray(cluster, data_dir, tmp_path):
    script = TaskScript().add(BENCHMARKS.get("cruxeval")(language="python", name="cruxeval").load())
    with TaskServer(script) as url:
        args = ["--benchmark", "cruxeval", "--task", "ier", "--model", "openai:scripted", "--base-url", url]
        whole, _ = _run(tmp_path, "whole", [*args, "--limit", 30], "local")
        _run(tmp_path, "part", [*args, "--limit", 12], "local")
        resumed, stderr = _run(tmp_path, "part", [*args, "--limit", 30], f"ray:{cluster.address}")
    assert "12 already done" in stderr, stderr[-1500:]
    assert _by_key(_samples(resumed)) == _by_key(_samples(whole))


def test_a_ray_run_whose_driver_is_killed_resumes_with_the_local_samples(cluster, data_dir, tmp_path):
    """kill -9 of the driver mid-run: the same command again finishes the run, and the samples
    are a local run's, none lost, none repeated (the driver is the only writer)."""
    script = TaskScript().add(BENCHMARKS.get("cruxeval")(language="python", name="cruxeval").load())
    with TaskServer(script) as url:
        args = ["--benchmark", "cruxeval", "--task", "ier", "--judge", "cruxeval", "--limit", 300,
                "--model", "openai:scripted", "--base-url", url]
        local, _ = _run(tmp_path, "local", args, "local")
        ray_exec = f"ray:{cluster.address}"
        out, _ = _run(tmp_path, "ray", args, ray_exec, on_first_samples=lambda proc: proc.kill(), kill_driver=True)
        done = (out / "samples.jsonl").read_text().count("\n")  # whole lines (a torn last one is not done)
        assert 0 < done < 300, done  # killed in the middle
        resumed, stderr = _run(tmp_path, "ray", args, ray_exec)
    assert f"{done} already done" in stderr, stderr[-1500:]
    assert _by_key(_samples(resumed)) == _by_key(_samples(local))


def test_embedded_model_on_an_actor_pool_gives_the_local_texts(cluster, data_dir, tmp_path):
    from test_backend_llamacpp import (
        _backend,  # skips without the embedded model (fails in CI)
    )

    _backend("").close()
    args = ["--benchmark", "cruxeval", "--task", "ier", "--limit", 3, "--model-arg", "n_threads=1"]
    local, _ = _run(tmp_path, "llm-local", args, "local")
    ray, _ = _run(tmp_path, "llm-ray", args, f"ray:{cluster.address}")
    a = {(s["item_key"], s["sample_index"]): s["raw"] for s in _samples(local)}
    b = {(s["item_key"], s["sample_index"]): s["raw"] for s in _samples(ray)}
    assert a == b and len(a) == 3
