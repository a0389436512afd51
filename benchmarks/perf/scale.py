"""Run directories of 10k, 100k and 1M samples: the run store, resume, report, load, export.

    python benchmarks/perf/scale.py [--sizes 10000,100000,1000000] [--programs 100] [--real 10]

What is real and what is synthetic:
- real: one `codemind run --benchmark cruxeval --task ier --model replay:FILE --limit P
  --samples R --sandbox process` (FILE: a published CRUXEval generation file, replayed; every
  sample judged by the real cruxeval judge), P*R samples;
- synthetic: the run directory of each size N holds those P*R judged samples repeated with
  their sample index shifted by R each time (N/P samples per item), appended through
  RunDir.append in batches of the pipeline's FLUSH_EVERY (what a run does after judging), and
  the real run's manifest (configuration hash unchanged: --samples is operational).

Each phase runs in its own process (peak memory = that process's max RSS, from wait4):
  run     append the N samples as a run does (Sample models, batches of 32, the done set kept),
          then build the report as `codemind run` does when it ends
  resume  `codemind run` again, the same command: everything is on disk, nothing generated or
          executed (ground truth comes from the execution cache)
  report  `codemind report DIR --json`
  load    codemind.load(DIR) twice in one process: the first parses samples.jsonl (and writes
          the Parquet copy), the second is the warm figure
  export  `codemind export DIR --parquet OUT`
Targets at 1M: peak memory <= 1 GB for run and report, resume <= 5 s, report <= 10 s,
load <= 3 s (warm). "growth" is each time divided by the previous size's time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
REPLAY = "gpt-4-0613_temp0.2_output.json"


def run_args(out: Path, programs: int, samples: int, data_dir: Path) -> list[str]:
    return ["run", "--benchmark", "cruxeval", "--task", "ier", "--model", f"replay:{data_dir / 'cruxeval' / 'evaluation_results' / REPLAY}",
            "--limit", str(programs), "--samples", str(samples), "--sandbox", "process", "--out", str(out), "--json"]


CPU: list[float] = []  # CPU seconds of each phase, in order (wall time depends on other jobs)


def phase(code: str, env: dict) -> tuple[float, float, str]:
    """Run python code in a child process: (seconds, peak RSS in MB, stdout); its CPU seconds
    (user + system) are appended to CPU."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=REPO)
    out, err = proc.communicate()
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2))
    status = proc.returncode
    if status != 0:
        raise SystemExit(f"phase failed ({status}):\n{code}\n{err.decode()[-3000:]}")
    # the child prints its own peak RSS last (resource.getrusage(RUSAGE_SELF))
    lines = out.decode().strip().splitlines()
    return seconds, float(lines[-1]), "\n".join(lines[:-1])


PEAK = "\nimport resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"


def cli(args: list[str]) -> str:
    return f"import sys\nfrom codemind.cli import app\nsys.argv = ['codemind', *{args!r}]\n" \
           "try:\n    app(standalone_mode=False)\nexcept SystemExit as e:\n    assert not e.code, e.code\n"


APPEND = """
import json, time
from pathlib import Path
from codemind.pipeline import FLUSH_EVERY
from codemind.schema import Sample
from codemind.store.rundir import RunDir
base, out, n, real = Path({base!r}), Path({out!r}), {n}, {real}
lines = (base / "samples.jsonl").read_text().splitlines()
manifest = json.loads((base / "manifest.json").read_text())
manifest["config"]["samples"] = n // {programs}
manifest["config"]["out"] = str(out)
out.mkdir(parents=True)
(out / "manifest.json").write_text(json.dumps(manifest, indent=2))
(out / "programs.jsonl").write_bytes((base / "programs.jsonl").read_bytes())
store = RunDir(out)
from codemind.schema import RunManifest
done = store.open(RunManifest.model_validate(manifest))
protos = [Sample.model_validate_json(l) for l in lines]
t0 = time.perf_counter()
batch = []
for k in range(n // len(protos)):
    for p in protos:
        batch.append(p.model_copy(update={{"sample_index": p.sample_index + k * real}}))
        if len(batch) == FLUSH_EVERY:
            store.append(batch)
            done.update((s.item_key, s.sample_index) for s in batch)
            batch = []
if batch:
    store.append(batch)
    done.update((s.item_key, s.sample_index) for s in batch)
secs = time.perf_counter() - t0
assert len(done) == n, len(done)
from codemind.report.metrics import build_report
t0 = time.perf_counter()
build_report([out])  # as `codemind run` ends: its report (which caches the small columns)
final = time.perf_counter() - t0
print(json.dumps({{"append_seconds": round(secs, 2), "samples_per_s": round(n / secs),
                  "final_report_seconds": round(final, 2)}}))
"""

LOAD = """
import json, time, codemind
t0 = time.perf_counter(); df = codemind.load({out!r}); cold = time.perf_counter() - t0
t0 = time.perf_counter(); df = codemind.load({out!r}); warm = time.perf_counter() - t0
assert len(df) == {n}
print(json.dumps({{"cold": round(cold, 2), "warm": round(warm, 2)}}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--programs", type=int, default=100)
    ap.add_argument("--real", type=int, default=10, help="real samples per item (replayed, judged)")
    ap.add_argument("--data-dir", type=Path,
                    default=Path(os.environ.get("CODEMIND_DATA", REPO.parent / "shared" / "data")))
    ap.add_argument("--keep", type=Path, default=None, help="build the run directories here and keep them")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    unit = args.programs * args.real
    assert all(n % unit == 0 for n in sizes), f"sizes must be multiples of {unit}"
    tmp = tempfile.TemporaryDirectory() if args.keep is None else None
    root = Path(tmp.name) if tmp else args.keep
    root.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(REPO), CODEMIND_DATA=str(args.data_dir),
               CODEMIND_CACHE_DIR=os.environ.get("CODEMIND_CACHE_DIR", str(root / "cache")))
    base = root / "real"
    t0 = time.perf_counter()
    phase(cli(run_args(base, args.programs, args.real, args.data_dir)) + PEAK, env)
    real_seconds = time.perf_counter() - t0
    real = [json.loads(line) for line in (base / "samples.jsonl").read_text().splitlines()]
    outcomes: dict[str, int] = {}
    for s in real:
        outcomes[s["outcome"]] = outcomes.get(s["outcome"], 0) + 1
    print(json.dumps({"real_run": {"samples": len(real), "programs": args.programs, "samples_per_item": args.real,
                                   "seconds": round(real_seconds, 1), "outcomes": outcomes}}), flush=True)
    rows = []
    for n in sizes:
        out = root / f"run-{n}"
        row: dict = {"samples": n}
        secs, peak, text = phase(APPEND.format(base=str(base), out=str(out), n=n, real=args.real,
                                               programs=args.programs) + PEAK, env)
        row["run"] = {**json.loads(text), "cpu_s": CPU[-1], "peak_mb": round(peak)}
        row["jsonl_mb"] = round((out / "samples.jsonl").stat().st_size / 1e6)
        secs, peak, _ = phase(cli(run_args(out, args.programs, n // args.programs, args.data_dir)) + PEAK, env)
        row["resume"] = {"seconds": round(secs, 2), "cpu_s": CPU[-1], "peak_mb": round(peak)}
        secs, peak, _ = phase(cli(["report", str(out), "--json"]) + PEAK, env)
        row["report"] = {"seconds": round(secs, 2), "cpu_s": CPU[-1], "peak_mb": round(peak)}
        secs, peak, text = phase(LOAD.format(out=str(out), n=n) + PEAK, env)
        row["load"] = {**json.loads(text), "cpu_s_both": CPU[-1], "peak_mb": round(peak)}
        secs, peak, _ = phase(cli(["export", str(out), "--parquet", str(root / f"export-{n}.parquet")]) + PEAK, env)
        row["export_parquet"] = {"seconds": round(secs, 2), "cpu_s": CPU[-1], "peak_mb": round(peak)}
        if rows:
            prev = rows[-1]
            row["growth_vs_previous"] = {
                "append": round(row["run"]["append_seconds"] / prev["run"]["append_seconds"], 1),
                "resume": round(row["resume"]["seconds"] / prev["resume"]["seconds"], 1),
                "report": round(row["report"]["seconds"] / prev["report"]["seconds"], 1),
                "load_warm": round(row["load"]["warm"] / max(prev["load"]["warm"], 0.01), 1),
                "export": round(row["export_parquet"]["seconds"] / prev["export_parquet"]["seconds"], 1),
            }
        row["load_avg"] = round(os.getloadavg()[0], 1)
        rows.append(row)
        print(json.dumps(row), flush=True)
    last = rows[-1]
    if last["samples"] >= 1_000_000:
        print(json.dumps({"targets_at_1M": {
            "run_peak_mb<=1024": last["run"]["peak_mb"] <= 1024, "report_peak_mb<=1024": last["report"]["peak_mb"] <= 1024,
            "resume<=5s": last["resume"]["seconds"] <= 5, "report<=10s": last["report"]["seconds"] <= 10,
            "load_warm<=3s": last["load"]["warm"] <= 3}}))
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
