"""The Ray executor against the local one, side by side in one run, on a real local cluster
(tests/ray_cluster.py: a head and 1, then 2, worker nodes, each `ray start` with --num-cpus 1).

    python benchmarks/perf/ray.py [--jobs 800] [--gen 6] [--sandbox process]

- sandbox throughput (best of 2): CRUXEval's programs (`f(input)`, repr'd), no cache: the local sandbox
  with 1 and 2 workers, the Ray sandbox facade (codemind.executors.ray.RaySandbox) with 1 and
  2 worker nodes of 1 sandbox worker each;
- scheduling overhead per job: an empty chunk's round trip to a node's actor, and the Ray
  sandbox's time less the local one's at the same worker count, per job;
- generation throughput, the embedded model (qwen2.5-coder-0.5b, CRUXEval IER prompts): the
  local backend (n_threads 2) and an actor pool (ray_generate.ActorPoolBackend) of 1 and 2
  model actors (n_threads 1 each: one core per node); outputs must be identical.

Every node is a process on this machine, so 2 worker nodes share its cores with the driver:
the ratios say what Ray costs and whether the work spreads, not what 2 machines would give.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
# this file is named ray.py: its folder must not shadow the ray package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path[:0] = [str(REPO), str(REPO / "tests")]
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

from codemind.schema import ExecJob

DATA = Path(os.environ.get("CODEMIND_DATA", REPO.parent / "shared" / "data"))


def _embedded():
    spec = importlib.util.spec_from_file_location("perf_embedded", HERE / "embedded.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def cruxeval_jobs(n: int) -> list[ExecJob]:
    rows = [json.loads(line) for line in (DATA / "cruxeval" / "cruxeval.jsonl").read_text().splitlines() if line.strip()]
    return [ExecJob(source=r["code"], call=f"f({r['input']})") for r in rows[:n]]


def timed_run(sandbox, jobs, repeat: int = 2) -> tuple[float, list]:
    """Best of `repeat` runs (2 cores shared with the cluster's own processes: the best run is
    the one least disturbed), after a warm-up batch."""
    sandbox.run(jobs[:16])  # warm: workers started, first fork paid
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = sandbox.run(jobs)
        best = min(best, time.perf_counter() - t0)
    return best, [(e.status, e.return_repr, e.stdout) for e in out]


def round_trip_ms(pool, calls: int = 200) -> float:
    import ray

    actor = pool.active[0]
    ray.get(actor.run.remote([]))
    t0 = time.perf_counter()
    for _ in range(calls):
        ray.get(actor.run.remote([]))
    return (time.perf_counter() - t0) / calls * 1000


def timed_generate(backend, reqs) -> tuple[float, dict]:
    t0 = time.perf_counter()
    out = {g.item_key: g.text for g in backend.generate(reqs)}
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=800)
    ap.add_argument("--gen", type=int, default=6, help="CRUXEval IER prompts for the embedded model (0: skip)")
    ap.add_argument("--sandbox", default="process")
    args = ap.parse_args()

    from ray_cluster import LocalRayCluster

    from codemind.executors.ray import RayExecutor, RaySandbox
    from codemind.executors.ray_generate import ActorPoolBackend
    from codemind.models.llamacpp import LlamaCppBackend
    from codemind.sandbox import open_sandbox

    load0 = os.getloadavg()
    jobs = cruxeval_jobs(args.jobs)
    rows: list[tuple[str, float, str]] = []  # (what, per second, note)
    sb_rate: dict[str, float] = {}
    sb_secs: dict[str, float] = {}
    reference = None
    for workers in (1, 2):
        with open_sandbox(args.sandbox, workers=workers) as sb:
            secs, out = timed_run(sb, jobs)
        reference = reference or out
        sb_secs[f"local{workers}"] = secs
        sb_rate[f"local{workers}"] = len(jobs) / secs

    gen_rate: dict[str, float] = {}
    gen_same: list[bool] = []
    reqs = params = None
    if args.gen:
        reqs, params = _embedded().cruxeval_requests(args.gen)
        local = LlamaCppBackend("", params, n_threads=2)
        local.load()
        secs, gen_ref = timed_generate(local, reqs)
        local.close()
        gen_rate["local"] = len(reqs) / secs

    overhead: dict[int, float] = {}
    same: dict[int, int] = {}  # executions equal to the local sandbox's (status, value, stdout)
    t_start = time.perf_counter()
    with LocalRayCluster(worker_resources={"codemind_sandbox": 1, "codemind_model": 1}) as cluster:
        cluster.start_head()
        cluster_up = time.perf_counter() - t_start
        for nodes in (1, 2):
            cluster.add_worker()
            cluster.wait_resources("codemind_sandbox", nodes)
            executor = RayExecutor(cluster.address)
            try:
                t0 = time.perf_counter()
                sb = RaySandbox(executor, args.sandbox, 1)
                start = time.perf_counter() - t0
                try:
                    secs, out = timed_run(sb, jobs)
                    same[nodes] = sum(a == b for a, b in zip(out, reference))
                    sb_secs[f"ray{nodes}"] = secs
                    sb_rate[f"ray{nodes}"] = len(jobs) / secs
                    overhead[nodes] = round_trip_ms(sb.pool)
                finally:
                    sb.close()
                rows.append((f"sandbox facade start, {nodes} node(s)", start, "s (actors + their warm pools)"))
                if args.gen:
                    backend = ActorPoolBackend(executor, LlamaCppBackend, "", params, {"n_threads": 1})
                    backend.pool()  # models loaded on every node before timing
                    try:
                        secs, out = timed_generate(backend, reqs)
                    finally:
                        backend.close()
                    gen_rate[f"ray{nodes}"] = len(reqs) / secs
                    gen_same.append(out == gen_ref)
            finally:
                executor.close()

    print(f"Ray executor vs local, {os.cpu_count()} cores on one machine; worker nodes are local processes "
          f"with --num-cpus 1; {args.sandbox} sandbox; cluster head up in {cluster_up:.1f} s; load average at start "
          f"{load0[0]:.1f}, at end {os.getloadavg()[0]:.1f} (other jobs share the cores: compare within one run)")
    print(f"\nsandbox throughput, {len(jobs)} CRUXEval programs, no cache; executions equal to local: "
          + ", ".join(f"{same[n]}/{len(jobs)} ({n} node(s))" for n in (1, 2)))
    print(f"  local, 1 worker              {sb_rate['local1']:8.1f} programs/s")
    print(f"  local, 2 workers             {sb_rate['local2']:8.1f} programs/s   {sb_rate['local2'] / sb_rate['local1']:.2f}x local-1")
    for n in (1, 2):
        print(f"  ray, {n} worker node(s) x 1   {sb_rate[f'ray{n}']:8.1f} programs/s   "
              f"{sb_rate[f'ray{n}'] / sb_rate['local1']:.2f}x local-1, {sb_rate[f'ray{n}'] / sb_rate['local2']:.2f}x local-2")
    print("\nscheduling overhead per job:")
    for n in (1, 2):
        print(f"  empty chunk round trip to a node's actor ({n} node(s))   {overhead[n]:.2f} ms "
              f"(a chunk carries up to 256 jobs: {overhead[n] / 256 * 1000:.1f} us/job at full chunks)")
    per_job = (sb_secs["ray1"] - sb_secs["local1"]) / len(jobs) * 1000
    print(f"  ray 1 node minus local 1 worker, same worker count        {per_job:+.3f} ms/job")
    for what, value, unit in rows:
        print(f"  {what:<55s}  {value:.1f} {unit}")
    if args.gen:
        print(f"\ngeneration throughput, embedded model qwen2.5-coder-0.5b, {len(reqs)} CRUXEval IER prompts:")
        print(f"  local backend, n_threads 2   {gen_rate['local']:.3f} items/s")
        for n in (1, 2):
            print(f"  ray actor pool, {n} model(s) x n_threads 1   {gen_rate[f'ray{n}']:.3f} items/s   "
                  f"{gen_rate[f'ray{n}'] / gen_rate['local']:.2f}x local")
        print(f"  outputs identical to the local backend's: {'yes' if all(gen_same) else 'NO'} "
              f"({sum(gen_same)}/{len(gen_same)} pools)")


if __name__ == "__main__":
    main()
