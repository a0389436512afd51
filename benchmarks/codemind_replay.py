"""Re-score CodeMind's 21 recorded IER outputs (3 models x 7 datasets) item by item.

For every file ``$CODEMIND_DATA/codemind/generations/<model>__<dataset>.jsonl.gz`` this runs
two named evaluations with ``--model replay:<file>``:

- ``codemind-ier-<dataset>-paper``: the paper's prompt and judge (``codemind-exact`` against the
  dataset's ``output.txt``). The judge compares with labels, so the items whose program does
  not run here (Python 2, compile errors, timeouts, calls that raise) and the AVATAR inputs
  over the prompt byte cap are asked too, judged on the label only, as the authors did; items
  with no recorded answer (FILE_NOT_FOUND) count as wrong; programs the file has no line for
  were not in the authors' run and are left out. The result must be the authors' own rate:
  the count of ``judged_correct_by_authors`` over the items of the file, on the same items with
  the same verdict each.
- ``codemind-ier-<dataset>``: the same question judged against the executed output (items
  whose ground truth did not run are left out, so its denominator is smaller).

Columns:

    authors        judged_correct_by_authors / items in the file (the authors' denominator)
    ours (paper)   correct / samples of the paper evaluation
    exact          yes when numerator, denominator, item set and every item's verdict are the authors'
    label only     items of the paper evaluation judged on the label alone (ground truth did not run / excluded)
    ours (executed) correct / samples of the executed-ground-truth evaluation

Usage: python benchmarks/codemind_replay.py [--sandbox docker|process] [--json OUT] [--only codenet-java]
       [--model gpt-4] [--limit N] [--no-executed]
Needs CODEMIND_DATA (the mirror); Java needs the Docker sandbox. Executions are cached, so a
rerun is fast. Exit status 1 when a file does not reproduce the authors' numbers exactly.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
from pathlib import Path

MODELS = ("gpt-4", "gpt-3.5", "magicoder")
DATASETS = ("cruxeval", "humaneval", "mbpp", "avatar-python", "avatar-java", "codenet-python", "codenet-java")


def generations_file(data: Path, model: str, dataset: str) -> Path:
    return data / "codemind" / "generations" / f"{model}__{dataset}.jsonl.gz"


def authors_verdicts(path: Path) -> dict[str, bool]:
    """program id -> judged_correct_by_authors, for every item of the file (its denominator)."""
    from codemind.models.replay import codemind_program_id

    out: dict[str, bool] = {}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            out[codemind_program_id(r["benchmark"], r["item_id"])] = bool(r["judged_correct_by_authors"])
    return out


def run_eval(name: str, replay: Path, sandbox: str | None, out: Path, limit: int | None = None) -> list[dict]:
    """`codemind run --eval NAME --model replay:FILE`; its samples."""
    from codemind.evals.spec import load_eval
    from codemind.evals.suite_run import eval_config
    from codemind.pipeline import run

    overrides = {"model": f"replay:{replay}", "sandbox": sandbox, "limit": limit}
    run(eval_config(load_eval(name), {k: v for k, v in overrides.items() if v is not None}, out))
    with (out / "samples.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def compare(dataset: str, model: str, data: Path, sandbox: str | None, work: Path, limit: int | None = None,
            executed: bool = True) -> dict:
    replay = generations_file(data, model, dataset)
    authors = authors_verdicts(replay)
    tag = f"{model}-{dataset}"
    paper = run_eval(f"codemind-ier-{dataset}-paper", replay, sandbox, work / f"{tag}-paper", limit)
    ours = {s["program_id"]: s["correct"] for s in paper}
    if limit:  # the authors' numbers over the programs the limited run loaded and the file covers
        from codemind.evals.spec import load_eval
        from codemind.evals.suite_run import eval_config
        from codemind.pipeline import load_programs

        config = eval_config(load_eval(f"codemind-ier-{dataset}-paper"), {"model": f"replay:{replay}", "limit": limit},
                             None)  # fmt: skip
        loaded = {p.id for p in load_programs(config)[0]}
        authors = {i: v for i, v in authors.items() if i in loaded}
    disagree = sorted(i for i in set(ours) | set(authors) if ours.get(i) != authors.get(i))
    row = {
        "model": model,
        "dataset": dataset,
        "file": replay.name,
        "authors_correct": sum(authors.values()),
        "authors_items": len(authors),
        "ours_correct": sum(ours.values()),
        "ours_items": len(paper),
        "exact": len(paper) == len(ours) == len(authors) and not disagree,
        "disagree_ids": disagree,
        "label_only": sum(s["ground_truth"] in ("does_not_run", "excluded") for s in paper),
        "outcomes": _count(s["outcome"] for s in paper),
    }
    if executed:
        ran = run_eval(f"codemind-ier-{dataset}", replay, sandbox, work / f"{tag}-executed", limit)
        row.update(executed_correct=sum(s["correct"] for s in ran), executed_items=len(ran))
    return row


def _count(xs) -> dict[str, int]:
    out: dict[str, int] = {}
    for x in xs:
        out[x] = out.get(x, 0) + 1
    return out


def _pct(k: int, n: int) -> str:
    return f"{k}/{n} ({100 * k / n:.2f}%)" if n else "-"


def markdown(rows: list[dict]) -> str:
    head = ("| file | authors (their N) | ours, paper eval | exact | label only | ours, executed ground truth |\n"
            "|---|---|---|---|---|---|\n")
    body = "".join(
        f"| {r['file'].removesuffix('.jsonl.gz')} | {_pct(r['authors_correct'], r['authors_items'])} "
        f"| {_pct(r['ours_correct'], r['ours_items'])} | {'yes' if r['exact'] else 'NO'} | {r['label_only']} "
        f"| {_pct(r['executed_correct'], r['executed_items']) if 'executed_items' in r else '-'} |\n"
        for r in rows
    )
    return head + body


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sandbox", choices=("docker", "process"), default=None)
    ap.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    ap.add_argument("--only", action="append", default=[], help=f"a dataset ({', '.join(DATASETS)}); repeatable")
    ap.add_argument("--model", action="append", default=[], help=f"{', '.join(MODELS)}; repeatable")
    ap.add_argument("--work", type=Path, default=None, help="run directories (default: a temp dir)")
    ap.add_argument("--limit", type=int, default=None, help="only the first N programs of each dataset")
    ap.add_argument("--no-executed", action="store_true", help="skip the executed-ground-truth evaluation")
    args = ap.parse_args(argv)
    data = Path(os.environ.get("CODEMIND_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    os.environ["CODEMIND_DATA"] = str(data)
    work = args.work or Path(tempfile.mkdtemp(prefix="codemind-replay-"))
    rows = []
    for dataset in DATASETS:
        if args.only and dataset not in args.only:
            continue
        for model in MODELS:
            if args.model and model not in args.model:
                continue
            r = compare(dataset, model, data, args.sandbox, work, args.limit, executed=not args.no_executed)
            rows.append(r)
            print(f"{r['file']}: ours {r['ours_correct']}/{r['ours_items']}, authors "
                  f"{r['authors_correct']}/{r['authors_items']}, exact: {r['exact']}", file=sys.stderr)
    print(markdown(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0 if all(r["exact"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
