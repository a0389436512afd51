"""Re-score CodeMind's recorded IER outputs for CodeNet and Avatar, item by item.

For each of the 3 models x 4 files (codenet/avatar x python/java) this runs
``codemind run --task ier --model replay:<file>`` twice, with ``--judge codemind-exact``
(CodeMind's rule against the dataset's ``output.txt``) and with ``--judge stdout`` (against
the executed ground truth), and tabulates next to the authors' success lists
(``judged_correct_by_authors`` in the file):

    authors        k/N over the authors' items (their denominator)
    run            items we judge (ground truth ok or label_mismatch; the rest is listed as
                   not run / excluded and is not in our denominators)
    exact          codemind-exact correct / run
    agree          items where codemind-exact's verdict equals the authors' verdict / run
    stdout         stdout judge on executed ground truth, correct / run (same exact parse)

Usage: python benchmarks/codemind_replay.py [--sandbox docker|process] [--json OUT] [--only codenet-java]
Needs CODEMIND_DATA (the mirror). Executions and runs are cached, so a rerun is fast.
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
FILES = (("codenet", "python"), ("codenet", "java"), ("avatar", "python"), ("avatar", "java"))


def generations_file(data: Path, model: str, benchmark: str, language: str) -> Path:
    return data / "codemind" / "generations" / f"{model}__{benchmark}-{language}.jsonl.gz"


def authors_verdicts(path: Path) -> dict[str, bool]:
    """item id -> judged_correct_by_authors (every item of the file)."""
    out: dict[str, bool] = {}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            out[r["item_id"]] = bool(r["judged_correct_by_authors"])
    return out


def run_samples(benchmark: str, language: str, replay: Path, judge: str, sandbox: str | None, out: Path,
                extraction: str = "auto", limit: int | None = None) -> list[dict]:
    from codemind.config import RunConfig
    from codemind.pipeline import run

    config = RunConfig(benchmark=benchmark, language=language, task="ier", model=f"replay:{replay}", judge=judge,
                       sandbox=sandbox, out=out, extraction=extraction, limit=limit)  # fmt: skip
    run(config)
    with (out / "samples.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def compare(benchmark: str, language: str, model: str, data: Path, sandbox: str | None, work: Path,
            limit: int | None = None) -> dict:
    replay = generations_file(data, model, benchmark, language)
    authors = authors_verdicts(replay)
    tag = f"{model}-{benchmark}-{language}"
    exact = run_samples(benchmark, language, replay, "codemind-exact", sandbox, work / f"{tag}-exact", limit=limit)
    if limit:  # the authors' numbers over the same first programs
        kept = {s["program_id"] for s in exact} | set(sorted(authors)[:limit])
        authors = {i: v for i, v in authors.items() if i in kept}
    stdout = run_samples(benchmark, language, replay, "stdout", sandbox, work / f"{tag}-stdout", limit=limit)
    ours = {s["program_id"]: s["correct"] for s in exact}
    run_ids = [i for i in ours if i in authors]
    disagree = sorted(i for i in run_ids if ours[i] != authors[i])
    return {
        "model": model,
        "file": replay.name,
        "authors_correct": sum(authors.values()),
        "authors_items": len(authors),
        "run": len(run_ids),
        "not_in_run": len(authors) - len(run_ids),
        "authors_correct_on_run": sum(authors[i] for i in run_ids),
        "exact_correct": sum(ours[i] for i in run_ids),
        "agree": len(run_ids) - len(disagree),
        "disagree_ids": disagree,
        "stdout_correct": sum(s["correct"] for s in stdout),
        "stdout_items": len(stdout),
        "outcomes_exact": _count(s["outcome"] for s in exact),
    }


def _count(xs) -> dict[str, int]:
    out: dict[str, int] = {}
    for x in xs:
        out[x] = out.get(x, 0) + 1
    return out


def _pct(k: int, n: int) -> str:
    return f"{k}/{n} ({100 * k / n:.2f}%)" if n else "-"


def markdown(rows: list[dict]) -> str:
    head = ("| model | file | authors (their N) | authors on our run | ours codemind-exact | agree with authors "
            "| ours stdout (executed) |\n|---|---|---|---|---|---|---|\n")
    body = "".join(
        f"| {r['model']} | {r['file']} | {_pct(r['authors_correct'], r['authors_items'])} "
        f"| {_pct(r['authors_correct_on_run'], r['run'])} | {_pct(r['exact_correct'], r['run'])} "
        f"| {r['agree']}/{r['run']} | {_pct(r['stdout_correct'], r['stdout_items'])} |\n"
        for r in rows
    )
    return head + body


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sandbox", choices=("docker", "process"), default=None)
    ap.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    ap.add_argument("--only", action="append", default=[], help="benchmark-language, e.g. avatar-java")
    ap.add_argument("--work", type=Path, default=None, help="run directories (default: a temp dir)")
    ap.add_argument("--limit", type=int, default=None, help="only the first N programs of each benchmark")
    args = ap.parse_args(argv)
    data = Path(os.environ.get("CODEMIND_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    os.environ["CODEMIND_DATA"] = str(data)
    work = args.work or Path(tempfile.mkdtemp(prefix="codemind-replay-"))
    rows = []
    for benchmark, language in FILES:
        if args.only and f"{benchmark}-{language}" not in args.only:
            continue
        for model in MODELS:
            rows.append(compare(benchmark, language, model, data, args.sandbox, work, args.limit))
            print(f"{model} {benchmark}-{language}: agree {rows[-1]['agree']}/{rows[-1]['run']}", file=sys.stderr)
    print(markdown(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
