"""Re-score a CRUXEval generations file with CRUXEval's own scorer: pass@1, pass@5, per problem.

Input: a CRUXEval result file (``{"raw_generations": {id: [str]}, ...}``) or a generations.json
(``{id: [str]}``); the strings are already-extracted answers. Mode is taken from the path as
upstream does (``"input"`` anywhere in it means CRUXEval-I) unless given. References come from
``cruxeval.jsonl`` (``data_dir``, else ``$CODEMIND_DATA/cruxeval``, else ../shared/data).

Rules (judges/cruxeval.py): ``"2024-01"`` (default; skipped generations count as False) or
``"2024-04"`` (HEAD: skipped generations dropped unless nothing passes). The Jan-2024
leaderboard files were scored with 2024-01; the three July-2024 files
``gpt-4-turbo-2024-04-09+cot_temp0.2_input``, ``gpt-4o+cot_temp0.2_input`` and
``gpt-4o+cot_temp0.2_output`` with 2024-04 (for every other file both rules agree).

Execution: every distinct check (same sample + same generation string) is decided once
(scoring/checks.py: by parsing, in the host for literal answers, or with the answer's leaves
evaluated in the sandbox, one fresh process per check), in one ``sandbox.run`` batch, under
CRUXEval's own limit, 3 s of wall clock per check (``cpu_time``: 3 s of user CPU instead, which
does not depend on the machine's load). Generations are read as written (scoring/checks.py),
so the files' stored verdicts come back, CRUXEval's injection hole (``'x' or True``) included;
an executed generation that is not a value (impure, or not a plain value) fails and is counted
in ``invalid_answers``. ``cache`` (a dict the caller owns) shares verdicts across files.

Hash seed policy. Upstream forked all checks of one run from one parent with a random hash
seed, so a check that iterates a set of strings could pass or fail by chance (sample_664,
GPT-4's ``f({"3", "4"})`` passes under PYTHONHASHSEED 5 or 6 only). Here:
* checks whose verdict cannot depend on the seed (static filter ``may_depend_on_hash_seed``:
  no set/frozenset/hash/id/dict-view set operations anywhere) run once, seed-free;
* the others run under ``hash_seed`` (default 0, pinned and recorded in the output) and under
  every ``probe_seeds`` seed (default 1-7); those whose verdict changes are listed in
  ``seed_sensitive`` with the verdict per seed, so a reader sees which problems are luck;
* ``hash_seed=s`` reproduces a run made under seed s; the seed that reproduces each published
  file is in tests/test_rescore.py (``PUBLISHED_SEEDS``).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, MutableMapping, Sequence

from codemind.errors import UserError
from codemind.judges.cruxeval import MODES, RULES, is_skipped
from codemind.sandbox.base import Sandbox
from codemind.scoring.checks import DEFAULT_HASH_SEED, TIMEOUT, CheckResult, may_depend_on_hash_seed, run_checks
from codemind.scoring.passk import file_pass_at_k

DEFAULT_PROBE_SEEDS: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7)

Check = tuple[str, str, str]  # (code, expected, generation)
Verdicts = MutableMapping[tuple[Check, "int | None", tuple[float, bool]], CheckResult]  # (check, seed, limit)


def default_data_dir() -> Path:
    """$CODEMIND_DATA, else ../shared/data next to the repository."""
    env = os.environ.get("CODEMIND_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "data"


def load_dataset(data_dir: str | Path | None = None) -> dict[str, dict[str, str]]:
    """sample id -> {"code", "input", "output"} from cruxeval.jsonl."""
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    path = root / "cruxeval" / "cruxeval.jsonl"
    if not path.is_file() and (root / "cruxeval.jsonl").is_file():
        path = root / "cruxeval.jsonl"
    if not path.is_file():
        raise UserError(f"CRUXEval data not found: {path} (set CODEMIND_DATA or --data-dir)")
    out: dict[str, dict[str, str]] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                out[row["id"]] = row
    return out


def load_generations(path: str | Path) -> dict[str, list[str]]:
    """sample id -> extracted generations, from a result file or a generations.json."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"no such file: {p}")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{p}: not a JSON file ({e.__class__.__name__})") from None
    if isinstance(data, dict) and "raw_generations" in data:
        data = data["raw_generations"]
    if not isinstance(data, dict) or not all(
        isinstance(v, list) and all(isinstance(g, str) for g in v) for v in data.values()
    ):
        raise UserError(f"{p}: expected a CRUXEval result file or a generations.json ({{id: [str, ...]}})")
    return data


def mode_from_path(path: str | Path) -> str:
    """Upstream's rule: 'input' anywhere in the path means input prediction."""
    return "input" if "input" in str(path) else "output"


def apply_rule(rule: str, skipped: Sequence[bool], passed: Sequence[bool]) -> list[bool]:
    """Per-generation results of one sample under a scoring rule (skipped[i] -> passed[i] unused)."""
    if rule == "2024-01":
        results = [False if s else p for s, p in zip(skipped, passed)]
    else:
        results = [p for s, p in zip(skipped, passed) if not s]
    if True not in results:
        results = [False] * len(skipped)
    return results


def _run_missing(
    checks: Sequence[Check], seed: int | None, timeout: float, cpu_time: bool, mode: str, sandbox: Sandbox | None,
    cache: Verdicts, counts: dict[str, int], use_cache: bool = True,
) -> None:
    """Run the checks not yet in cache under seed (None: the sandbox's own seed, for checks
    whose verdict cannot depend on it) and store their results under (check, seed, limit)."""
    limit = (timeout, cpu_time)
    todo = [c for c in dict.fromkeys(checks) if (c, seed, limit) not in cache]
    if not todo:
        return
    results, routes = run_checks(todo, sandbox, timeout, seed, mode=mode, cpu_time=cpu_time, use_cache=use_cache)
    for c, r in zip(todo, results):
        cache[(c, seed, limit)] = r
    for k, n in routes.items():
        counts[k] = counts.get(k, 0) + n


def rescore_file(
    path: str | Path,
    rule: str | None = None,
    sandbox: Sandbox | None = None,
    mode: str | None = None,
    data_dir: str | Path | None = None,
    hash_seed: int | None = None,
    probe_seeds: Sequence[int] | None = DEFAULT_PROBE_SEEDS,
    timeout: float = TIMEOUT,
    cache: Verdicts | None = None,
    dataset: dict[str, dict[str, str]] | None = None,
    cpu_time: bool = False,
    use_cache: bool = True,
) -> dict[str, Any]:
    """Score one file. Keys: pass_at_1, pass_at_5, n_problems, per_problem {id: {n, c, results}},
    rule, mode, hash_seed, probe_seeds, seed_sensitive, skipped, invalid_answers, checks_executed,
    seconds. timeout: seconds of wall clock per check (upstream's 3), or of user CPU time with
    ``cpu_time``."""
    t0 = time.perf_counter()
    hash_seed = DEFAULT_HASH_SEED if hash_seed is None else int(hash_seed)
    rule = rule or "2024-01"
    if rule not in RULES:
        raise UserError(f"unknown rule '{rule}' (known: {', '.join(RULES)})")
    mode = mode or mode_from_path(path)
    if mode not in MODES:
        raise UserError(f"unknown mode '{mode}' (known: {', '.join(MODES)})")
    generations = load_generations(path)
    data = dataset if dataset is not None else load_dataset(data_dir)
    unknown = [k for k in generations if k not in data]
    if unknown:
        raise UserError(f"{path}: {len(unknown)} ids not in CRUXEval (first: {unknown[0]})")
    cache = cache if cache is not None else {}

    plan: dict[str, tuple[list[bool], list[Check | None]]] = {}
    for sid, gens in generations.items():
        row = data[sid]
        skipped = [is_skipped(mode, g, row["input"]) for g in gens]
        checks = [None if s else (row["code"], row["output"], g) for s, g in zip(skipped, gens)]
        plan[sid] = (skipped, checks)
    unique = list(dict.fromkeys(c for _, cs in plan.values() for c in cs if c is not None))
    n_checks = sum(1 for _, cs in plan.values() for c in cs if c is not None)
    probe = [s for s in (probe_seeds or ()) if s != hash_seed]
    # checks that cannot depend on the hash seed run once, under the sandbox's own seed, and
    # are cached seed-free; the others run under hash_seed and under every probe seed
    candidates = [c for c in unique if may_depend_on_hash_seed(*c, mode=mode)]
    cand_set = set(candidates)
    invariant = [c for c in unique if c not in cand_set]

    counts: dict[str, int] = {}
    own = sandbox is None
    try:
        if own and unique:
            from codemind.sandbox import open_sandbox

            sandbox = open_sandbox(None)
        _run_missing(invariant, None, timeout, cpu_time, mode, sandbox, cache, counts, use_cache)
        for seed in [hash_seed] + probe:
            _run_missing(candidates, seed, timeout, cpu_time, mode, sandbox, cache, counts, use_cache)
    finally:
        if own and sandbox is not None:
            sandbox.close()

    def result(c: Check, seed: int) -> CheckResult:
        return cache[(c, seed if c in cand_set else None, (timeout, cpu_time))]

    def passed(c: Check, seed: int) -> bool:
        return result(c, seed).verdict == "passed"

    seeds = [hash_seed] + probe
    sensitive = {c for c in candidates if len({passed(c, s) for s in seeds}) > 1}
    per_problem: dict[str, dict[str, Any]] = {}
    seed_sensitive: list[dict[str, Any]] = []
    n_skipped = 0
    for sid, (skipped, checks) in plan.items():
        ok = [False if c is None else passed(c, hash_seed) for c in checks]
        n_skipped += sum(skipped)
        results = apply_rule(rule, skipped, ok)
        per_problem[sid] = {"n": len(results), "c": sum(results), "results": results}
        for i, c in enumerate(checks):
            if c in sensitive:
                seed_sensitive.append({
                    "sample_id": sid,
                    "generation_index": i,
                    "generation": c[2],
                    "passed_by_seed": {str(s): passed(c, s) for s in seeds},
                })
    return {
        "pass_at_1": file_pass_at_k({k: v["results"] for k, v in per_problem.items()}, 1),
        "pass_at_5": file_pass_at_k({k: v["results"] for k, v in per_problem.items()}, 5),
        "n_problems": len(per_problem),
        "per_problem": per_problem,
        "rule": rule,
        "mode": mode,
        "hash_seed": hash_seed,
        "probe_seeds": probe,
        "seed_sensitive": seed_sensitive,
        "skipped": n_skipped,
        # executed generations that are not values (impure, not plain, ending the program)
        "invalid_answers": sum(1 for _, cs in plan.values() for c in cs
                               if c is not None and result(c, hash_seed).invalid is not None),
        "time_limit": {"seconds": timeout, "clock": "user cpu" if cpu_time else "wall"},
        "checks": n_checks,
        "checks_unique": len(unique),
        "checks_seed_candidates": len(candidates),
        "checks_executed": counts.get("execute", 0),
        "routes": counts,
        "seconds": round(time.perf_counter() - t0, 3),
    }
