#!/usr/bin/env python3
"""Rescore speed of one CRUXEval result file vs a one-subprocess-per-check baseline.

    python benchmarks/perf/rescore.py [--file NAME ...] [--baseline-sample 300] [--fork-sample 1000]

Prints, in one run:
  * baseline: ``python3 -c <check program>`` per check (timeout 3 s), on a random sample of the
    file's checks, as checks/s and extrapolated to the whole file;
  * fork server only: the same checks, one process-sandbox job (a forked child) per check, each
    executing upstream's program whole (``code + assert``: as fast as forking gets, but the
    answer runs in the process that decides);
  * codemind: ``rescore_file`` on the whole file (cold cache; sandbox start included), which
    decides checks by parsing, in the host for literal answers, or with the answer's leaves
    evaluated in the sandbox (one job per check) and the assertion in the host;
and the speed-ups. Needs the CRUXEval mirror ($CODEMIND_DATA or ../shared/data).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time

from codemind.judges.cruxeval import is_skipped
from codemind.sandbox import open_sandbox
from codemind.schema import ExecJob, Limits
from codemind.scoring.checks import check_program
from codemind.scoring.rescore import default_data_dir, load_dataset, load_generations, mode_from_path, rescore_file


def all_checks(path, data) -> list[tuple[str, str, str]]:
    """Every executed check of the file, duplicates included (what upstream runs)."""
    mode = mode_from_path(path)
    out = []
    for sid, gens in load_generations(path).items():
        row = data[sid]
        out += [(row["code"], row["output"], g) for g in gens if not is_skipped(mode, g, row["input"])]
    return out


def baseline(checks) -> float:
    """Seconds for one fresh ``python3 -c`` per check."""
    t0 = time.perf_counter()
    for c in checks:
        try:
            subprocess.run([sys.executable, "-c", check_program(*c)], capture_output=True, timeout=3, check=False)
        except subprocess.TimeoutExpired:
            pass
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", action="append", default=None,
                    help="result file name (repeatable; default: codellama-7b_temp0.2 output and input)")
    ap.add_argument("--baseline-sample", type=int, default=300)
    ap.add_argument("--fork-sample", type=int, default=1000)
    ap.add_argument("--sandbox", default="process")
    args = ap.parse_args()

    root = default_data_dir()
    data = load_dataset(root)
    for name in args.file or ["codellama-7b_temp0.2_output.json", "codellama-7b_temp0.2_input.json"]:
        bench_file(root / "cruxeval" / "evaluation_results" / name, data, args)


def bench_file(path, data, args) -> None:
    checks = all_checks(path, data)
    rng = random.Random(0)
    n = len(checks)
    print(f"file: {path.name}  checks: {n} ({len(set(checks))} distinct)")

    sample = rng.sample(checks, min(args.baseline_sample, n))
    t_base = baseline(sample)
    rate_base = len(sample) / t_base
    print(f"  baseline, python3 -c per check   : {len(sample)} checks in {t_base:.1f}s = {rate_base:.1f} checks/s"
          f" -> {n / rate_base:.0f}s for the file (extrapolated)")

    fork_sample = rng.sample(checks, min(args.fork_sample, n))
    limits = Limits(wall_seconds=3.0, cpu_seconds=4.0, memory_mb=4096)
    fork_jobs = [ExecJob(source=check_program(*c), limits=limits) for c in fork_sample]
    with open_sandbox(args.sandbox) as sb:
        sb.run(fork_jobs[:8])  # warm the workers
        t0 = time.perf_counter()
        sb.run(fork_jobs)
        t_fork = time.perf_counter() - t0
    rate_fork = len(fork_sample) / t_fork
    print(f"  fork server, one job per check   : {len(fork_sample)} checks in {t_fork:.1f}s = {rate_fork:.1f} checks/s"
          f" -> {n / rate_fork:.0f}s for the file (extrapolated)")

    t0 = time.perf_counter()
    with open_sandbox(args.sandbox) as sb:
        res = rescore_file(path, sandbox=sb, dataset=data)
    t_full = time.perf_counter() - t0
    rate_full = n / t_full
    print(f"  codemind rescore_file, whole file: {n} checks in {t_full:.1f}s = {rate_full:.1f} checks/s"
          f" (pass@1 {res['pass_at_1']:.4f}, pass@5 {res['pass_at_5']:.4f}, routes {res['routes']},"
          f" seed-sensitive {len(res['seed_sensitive'])})")
    print(f"  speed-up vs python3 -c per check : {rate_full / rate_base:.1f}x"
          f" (fork server alone: {rate_fork / rate_base:.1f}x)")


if __name__ == "__main__":
    main()
