"""Re-score all 134 published CRUXEval result files with `codemind rescore` at its defaults.

For every file of ``$CODEMIND_DATA/cruxeval/evaluation_results`` this runs the command line a
user would (``codemind rescore FILE --json``: CRUXEval's 3 s wall-clock limit per check, the
default sandbox, probe seeds 1-7), with the two arguments a file's provenance fixes: the
scoring rule it was scored with (``--rule 2024-04`` for the three July-2024 files, see
``derived_file_index.csv``) and, for the two GPT-4-0613 input files, ``--hash-seed 5`` (the
seed under which sample_664's set-order-dependent check passes, as stored). It prints one line
per file and a summary: pass@1 and pass@5 against the stored values, generations judged not
values (``invalid_answers``), seed-sensitive checks.

Usage: python benchmarks/cruxeval_rescore.py [--only SUBSTRING] [--json OUT] [-- extra rescore args]
Executions are cached (sandbox/cache.py), so files share checks and a rerun is fast.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

RULE = {"pre-0a800bd": "2024-01", "HEAD": "2024-04", "both": "2024-01"}
SEEDS = {"gpt-4-0613_temp0.2_input.json": 5, "gpt-4-0613_temp0.8_input.json": 5}


def data_dir() -> Path:
    env = os.environ.get("CODEMIND_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def published(root: Path) -> list[tuple[Path, str]]:
    with (root / "cruxeval" / "derived_file_index.csv").open() as fh:
        return [(root / "cruxeval" / r["file"], RULE[r["stored_scores_follow_rule"]]) for r in csv.DictReader(fh)]


def rescore(path: Path, rule: str, extra: list[str]) -> dict:
    cmd = [sys.executable, "-m", "codemind.cli", "rescore", str(path), "--json", "--rule", rule, *extra]
    if path.name in SEEDS:
        cmd += ["--hash-seed", str(SEEDS[path.name])]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{path.name}: codemind rescore failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return json.loads(proc.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=None, help="only files whose name contains this")
    ap.add_argument("--json", type=Path, default=None, help="write the per-file results here")
    ap.add_argument("extra", nargs="*", help="more arguments for codemind rescore (after --)")
    args = ap.parse_args()
    rows = [(p, r) for p, r in published(data_dir()) if args.only is None or args.only in p.name]
    t0 = time.monotonic()
    out, wrong = [], 0
    for path, rule in rows:
        stored = json.loads(path.read_text())
        got = rescore(path, rule, args.extra)
        ok = abs(got["pass_at_1"] - stored["pass_at_1"]) < 1e-9 and abs(got["pass_at_5"] - stored["pass_at_5"]) < 1e-9
        wrong += not ok
        seeds = sorted({s["sample_id"] for s in got["seed_sensitive"]})
        out.append({"file": path.name, "rule": rule, "stored": [stored["pass_at_1"], stored["pass_at_5"]],
                    "rescored": [got["pass_at_1"], got["pass_at_5"]], "match": ok,
                    "invalid_answers": got["invalid_answers"], "seed_sensitive": seeds, "seconds": got["seconds"]})
        print(f"{'ok  ' if ok else 'DIFF'} {path.name:52} pass@1 {got['pass_at_1']:8.4f} (stored {stored['pass_at_1']:8.4f})"
              f"  pass@5 {got['pass_at_5']:8.4f} ({stored['pass_at_5']:8.4f})  invalid {got['invalid_answers']:4}"
              f"  {got['seconds']:6.1f}s" + (f"  seed-sensitive {','.join(seeds)}" if seeds else ""), flush=True)
    print(f"{len(rows) - wrong}/{len(rows)} files reproduce pass@1 and pass@5 exactly; "
          f"{sum(r['invalid_answers'] for r in out)} executed generations were not values; "
          f"{time.monotonic() - t0:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
