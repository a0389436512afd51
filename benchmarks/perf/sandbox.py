"""Sandbox throughput: the Docker sandbox against the obvious alternatives, in one run.

    python benchmarks/perf/sandbox.py [--workers N] [--docker-sample 20] [--java 300] [--java-sample 20]

Python, on CRUXEval's 800 programs (each `f(input)`, return value repr'd):
  (a) DockerSandbox (warm containers, a forked child per program)
  (b) a bare `python3 -I -S -c` subprocess per program (no isolation at all)
  (c) one `docker run` per program (on a sample)
Java, on CodeNet Java programs (stdin -> stdout):
  (d) DockerSandbox (batched javac, fast-start JVM per program)
  (e) `javac` + `java` per program on the host (on a sample; no container at all)
Every baseline runs with the same number of parallel workers as the sandbox. Targets on 2
cores: (a) >= 500 programs/s and >= 3.5x (b); (d) >= 10x (e).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from codemind.schema import ExecJob, Limits

DATA = Path(os.environ.get("CODEMIND_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))


def cruxeval() -> list[tuple[str, str]]:
    rows = [json.loads(l) for l in (DATA / "cruxeval" / "cruxeval.jsonl").read_text().splitlines() if l.strip()]
    return [(r["code"], f"f({r['input']})") for r in rows]


def codenet_java(n: int) -> list[tuple[str, str, str]]:
    root = DATA / "codemind" / "paper_v1_2024-02" / "CodeNet-Java"
    dirs = sorted(p for p in root.iterdir() if (p / "Main.java").exists())[:n]
    return [((d / "Main.java").read_text(), (d / "input.txt").read_text(), (d / "output.txt").read_text()) for d in dirs]


def container_cpu(ids: list[str]) -> float:
    """CPU seconds used so far by these containers (cgroup v1 cpuacct or v2 cpu.stat)."""
    total = 0.0
    for cid in ids:
        v1 = Path(f"/sys/fs/cgroup/cpuacct/docker/{cid}/cpuacct.usage")
        v2 = Path(f"/sys/fs/cgroup/system.slice/docker-{cid}.scope/cpu.stat")
        try:
            if v1.exists():
                total += int(v1.read_text()) / 1e9
            elif v2.exists():
                total += int(v2.read_text().split()[1]) / 1e6
        except (OSError, ValueError, IndexError):
            pass
    return total


class Cpu:
    """CPU seconds of this process, its children and the given containers, between two points:
    on a shared, loaded machine wall-clock rates understate; CPU per program does not."""

    def __init__(self, ids: list[str] | None = None):
        self.ids = ids or []
        self.t0 = self._now()

    def _now(self) -> float:
        s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime + container_cpu(self.ids)

    def per_program_ms(self, n: int) -> float:
        return (self._now() - self.t0) / n * 1000


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def par(fn, items, workers: int) -> float:
    t = time.perf_counter()
    with ThreadPoolExecutor(workers) as ex:
        list(ex.map(fn, items))
    return time.perf_counter() - t


def bare_python(item: tuple[str, str]) -> None:
    code, call = item
    subprocess.run([sys.executable, "-I", "-S", "-c", f"{code}\nprint(repr({call}))"], capture_output=True,
                   timeout=30)


def javac_java(item: tuple[str, str, str]) -> bool:
    src, stdin, expected = item
    from codemind.sandbox.java import prepare

    u = prepare(src, 0)
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / u.path
        p.parent.mkdir(parents=True)
        p.write_text(u.text)
        if subprocess.run(["javac", "-d", d, str(p)], capture_output=True).returncode != 0:
            return False
        r = subprocess.run(["java", "-cp", d, u.main], input=stdin, capture_output=True, text=True, timeout=60)
        return r.stdout.split() == expected.split()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--docker-sample", type=int, default=20)
    ap.add_argument("--java", type=int, default=300, help="CodeNet Java programs for the sandbox")
    ap.add_argument("--java-sample", type=int, default=20, help="programs for javac+java per program")
    ap.add_argument("--skip-java", action="store_true")
    args = ap.parse_args()
    from codemind.sandbox.docker import DockerSandbox

    w = args.workers
    progs = cruxeval()
    print(f"cores={os.cpu_count()} workers={w} python programs={len(progs)}")

    t = time.perf_counter()
    sb = DockerSandbox(workers=w)
    start = time.perf_counter() - t
    print(f"sandbox image {sb.image}; {w} warm containers started in {start:.2f} s")
    try:
        jobs = [ExecJob(source=c, call=call) for c, call in progs]
        sb.run(jobs[:50])  # warm-up
        cpu = Cpu(list(sb._ids))
        t = time.perf_counter()
        res = sb.run(jobs)
        a = rate(len(jobs), time.perf_counter() - t)
        a_cpu = cpu.per_program_ms(len(jobs))
        ok = sum(r.status == "ok" for r in res)
        print(f"(a) DockerSandbox:                {a:8.1f} programs/s  ({ok}/{len(jobs)} ok; "
              f"{a_cpu:.2f} CPU-ms/program -> {w * 1000 / a_cpu:.0f}/s on {w} idle cores)")

        cpu = Cpu()
        b = rate(len(progs), par(bare_python, progs, w))
        b_cpu = cpu.per_program_ms(len(progs))
        print(f"(b) python3 -I -S -c per program: {b:8.1f} programs/s  ({b_cpu:.2f} CPU-ms/program -> "
              f"{w * 1000 / b_cpu:.0f}/s on {w} idle cores)")

        sample = progs[: args.docker_sample]

        def docker_run(item):
            code, call = item
            sb.client.containers.run(sb.image, ["python3", "-I", "-S", "-c", f"{code}\nprint(repr({call}))"],
                                     network_mode="none", remove=True, user="10001:10001")

        c = rate(len(sample), par(docker_run, sample, w))
        print(f"(c) docker run per program:       {c:8.1f} programs/s  (sample of {len(sample)})")
        print(f"    ratios: a/b = {a / b:.1f}x wall (target >= 3.5x), {b_cpu / a_cpu:.1f}x CPU; a/c = {a / c:.0f}x; "
              f"a >= 500/s: {'yes' if a >= 500 else 'NO'} (wall), {'yes' if w * 1000 / a_cpu >= 500 else 'NO'} (CPU)")

        if args.skip_java:
            return
        jprogs = codenet_java(args.java)
        limits = Limits(wall_seconds=30, cpu_seconds=20)
        jjobs = [ExecJob(language="java", source=s, stdin=i, limits=limits) for s, i, _ in jprogs]
        cpu = Cpu(list(sb._ids))
        t = time.perf_counter()
        jres = sb.run(jjobs)
        d = rate(len(jjobs), time.perf_counter() - t)
        d_cpu = cpu.per_program_ms(len(jjobs))
        jok = sum(r.stdout.split() == e.split() for r, (_, _, e) in zip(jres, jprogs))
        statuses: dict[str, int] = {}
        for r in jres:
            statuses[r.status] = statuses.get(r.status, 0) + 1
        print(f"java programs={len(jjobs)}")
        print(f"(d) DockerSandbox (batched javac): {d:8.2f} programs/s  ({jok}/{len(jjobs)} match expected; "
              f"{statuses}; {d_cpu:.0f} CPU-ms/program)")
        jsample = jprogs[: args.java_sample]
        cpu = Cpu()
        e = rate(len(jsample), par(javac_java, jsample, w))
        e_cpu = cpu.per_program_ms(len(jsample))
        print(f"(e) javac + java per program:      {e:8.2f} programs/s  (sample of {len(jsample)}, host, no container; "
              f"{e_cpu:.0f} CPU-ms/program)")
        print(f"    ratio: d/e = {d / e:.1f}x wall, {e_cpu / d_cpu:.1f}x CPU (target >= 10x)")
    finally:
        sb.close()


if __name__ == "__main__":
    main()
