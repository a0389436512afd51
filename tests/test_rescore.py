"""Re-scoring CRUXEval files: pass@k, both scoring rules, skip rules, edge cases, hash seeds,
six published files in every CI run, all 134 in the slow job (``-m slow``)."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from codemind.errors import UserError
from codemind.sandbox import open_sandbox
from codemind.scoring.checks import may_depend_on_hash_seed, plan_check, run_checks
from codemind.scoring.passk import file_pass_at_k, pass_at_k
from codemind.scoring.rescore import apply_rule, mode_from_path, rescore_file

DATA = Path(os.environ.get("CODEMIND_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
CRUX = DATA / "cruxeval"
needs_data = pytest.mark.skipif(not (CRUX / "cruxeval.jsonl").is_file(), reason=f"no CRUXEval data under {DATA}")

S0_IN = "[1, 1, 3, 1, 3, 1]"
S0_OUT = "[(4, 1), (4, 1), (4, 1), (4, 1), (2, 3), (2, 3)]"
S664_GPT4 = 'f({"3", "4"})'

# The hash seed under which each published file's seed-sensitive checks give the stored
# verdicts (upstream ran every check of a file under one random seed). Files not listed: 0.
# Over all 134 files and seeds 0-7 the only seed-sensitive checks are sample_664's
# f({"3", "4"}) / f({'3', '4'}) (pass under seeds 5 and 6 only): stored True in both GPT-4-0613
# input files, stored False in both Magicoder input files.
PUBLISHED_SEEDS: dict[str, int] = {
    "gpt-4-0613_temp0.2_input.json": 5,
    "gpt-4-0613_temp0.8_input.json": 5,
}
# Per-check user-CPU limit for the all-files test. Upstream allowed 3 s; ~660 distinct published
# checks never terminate, so the limit is most of this test's cost. Every published check that
# terminates needs well under 1 s of user CPU here, so 1.5 s gives the same verdicts as 3 s at
# half the cost. (sample_714's f(['x'*1000000000]), stored True, takes 0.03 s user but 0.5-1.1 s
# system time: under a user+system limit it once timed out in CI.)
ALL_FILES_TIMEOUT = 1.5


@pytest.fixture(scope="module")
def sandbox():
    with open_sandbox("process", workers=2) as sb:
        yield sb


def write(tmp_path: Path, name: str, gens: dict) -> Path:
    p = tmp_path / name
    p.write_text(json.dumps({"raw_generations": gens, "raw_scored_generations": {}, "pass_at_1": 0, "pass_at_5": 0}))
    return p


# ---------------------------------------------------------------- pass@k


def test_pass_at_k_matches_upstream_formula():
    assert pass_at_k(10, 0, 1) == 0.0
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(10, 3, 5) == pytest.approx(1 - (7 * 6 * 5 * 4 * 3) / (10 * 9 * 8 * 7 * 6))
    assert pass_at_k(3, 1, 5) == 1.0  # n - c < k
    assert pass_at_k(0, 0, 1) == 1.0  # no generations: upstream's first branch
    assert file_pass_at_k({"a": [True, False], "b": [False, False]}, 1) == pytest.approx(25.0)


def test_rules_differ_only_when_skipped_and_something_passes():
    assert apply_rule("2024-01", [False, True, False], [True, False, False]) == [True, False, False]
    assert apply_rule("2024-04", [False, True, False], [True, False, False]) == [True, False]
    assert apply_rule("2024-04", [True, True], [False, False]) == [False, False]
    assert apply_rule("2024-04", [], []) == []


# ---------------------------------------------------------------- small files (tmp_path)


@needs_data
def test_mode_from_path_like_upstream(tmp_path):
    assert mode_from_path("x/model_temp0.2_input.json") == "input"
    assert mode_from_path("inputs/model_output.json") == "input"  # "input" anywhere, as upstream
    assert mode_from_path("x/model_output.json") == "output"


@needs_data
def test_two_rules_and_input_skip(tmp_path, sandbox):
    gens = {"sample_0": [f"f({S0_IN})", "garbage", "f([1])"]}
    path = write(tmp_path, "m_input.json", gens)
    old = rescore_file(path, rule="2024-01", sandbox=sandbox, probe_seeds=())
    new = rescore_file(path, rule="2024-04", sandbox=sandbox, probe_seeds=())
    assert old["mode"] == new["mode"] == "input"
    assert old["per_problem"]["sample_0"] == {"n": 3, "c": 1, "results": [True, False, False]}
    assert new["per_problem"]["sample_0"] == {"n": 2, "c": 1, "results": [True, False]}
    assert old["pass_at_1"] == pytest.approx(100 / 3) and new["pass_at_1"] == pytest.approx(50.0)
    assert old["skipped"] == 1 and old["rule"] == "2024-01" and new["rule"] == "2024-04"


@needs_data
def test_output_edge_cases(tmp_path, sandbox):
    gens = [
        S0_OUT, S0_OUT.replace(" ", ""), S0_OUT.replace("(", "[").replace(")", "]"), "[(4, 1), (4, 1)", "",
        "1/0", "undefined_name", '__import__("sys").exit(0)', S0_OUT + " # done", S0_OUT + "\nraise ValueError",
        "0 or True", f"f({S0_IN})", "f([1,1,3,1,3,1])",
    ]
    path = write(tmp_path, "m_output.json", {"sample_0": gens})
    r = rescore_file(path, rule="2024-01", sandbox=sandbox, probe_seeds=())
    assert r["per_problem"]["sample_0"]["results"] == [
        True, True, False, False, False, False, False, False, True, False, True, False, True]
    assert r["skipped"] == 1


@needs_data
def test_all_skipped_is_all_false_and_empty_list_is_pass(tmp_path, sandbox):
    path = write(tmp_path, "m_output.json", {"sample_0": [f"f({S0_IN})", f"f({S0_IN})"], "sample_1": []})
    for rule in ("2024-01", "2024-04"):
        r = rescore_file(path, rule=rule, sandbox=sandbox, probe_seeds=())
        assert r["per_problem"]["sample_0"] == {"n": 2, "c": 0, "results": [False, False]}
        assert r["per_problem"]["sample_1"] == {"n": 0, "c": 0, "results": []}
        assert r["pass_at_1"] == pytest.approx(50.0)  # pass_at_k(0, 0, 1) == 1.0


@needs_data
def test_infinite_loop_fails_after_the_timeout(tmp_path, sandbox):
    path = write(tmp_path, "m_output.json", {"sample_0": ["[x for x in iter(int, 1)]", S0_OUT]})
    r = rescore_file(path, sandbox=sandbox, probe_seeds=(), timeout=1.0)
    assert r["per_problem"]["sample_0"]["results"] == [False, True]
    assert 1.0 <= r["seconds"] < 20


@needs_data
def test_generations_json_and_dedupe(tmp_path, sandbox):
    p = tmp_path / "sample_x_input" / "generations.json"
    p.parent.mkdir()
    p.write_text(json.dumps({"sample_0": [f"f({S0_IN})"] * 5}))
    r = rescore_file(p, sandbox=sandbox, probe_seeds=())
    assert r["mode"] == "input" and r["checks"] == 5 and r["checks_unique"] == 1
    assert r["per_problem"]["sample_0"]["c"] == 5


@needs_data
def test_bad_inputs(tmp_path):
    with pytest.raises(UserError):
        rescore_file(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UserError):
        rescore_file(bad)
    bad.write_text(json.dumps({"sample_0": "f(1)"}))
    with pytest.raises(UserError):
        rescore_file(bad)
    unknown = write(tmp_path, "u_output.json", {"sample_9999": ["1"]})
    with pytest.raises(UserError):
        rescore_file(unknown)
    ok = write(tmp_path, "ok_output.json", {"sample_0": [S0_OUT]})
    with pytest.raises(UserError):
        rescore_file(ok, rule="2025")
    with pytest.raises(UserError):
        rescore_file(ok, mode="both")
    with pytest.raises(UserError):
        rescore_file(ok, data_dir=tmp_path)


# ---------------------------------------------------------------- hash seeds


@needs_data
def test_seed_sensitive_check_is_reported_and_reproducible(tmp_path, sandbox):
    path = write(tmp_path, "g_input.json", {"sample_664": [S664_GPT4, S664_GPT4.replace('"3", "4"', '"3"')]})
    r0 = rescore_file(path, sandbox=sandbox, probe_seeds=(5, 6))
    assert r0["hash_seed"] == 0 and r0["probe_seeds"] == [5, 6]
    assert r0["per_problem"]["sample_664"]["results"][0] is False
    assert [(s["sample_id"], s["generation_index"], s["passed_by_seed"]) for s in r0["seed_sensitive"]] == [
        ("sample_664", 0, {"0": False, "5": True, "6": True})]
    r5 = rescore_file(path, sandbox=sandbox, hash_seed=5, probe_seeds=())
    assert r5["per_problem"]["sample_664"]["results"][0] is True


def test_static_seed_filter():
    code = "def f(tags):\n    resp = ''\n    for key in tags:\n        resp += key + ' '\n    return resp"
    assert may_depend_on_hash_seed(code, "'3 4 '", S664_GPT4)
    assert not may_depend_on_hash_seed(code, "'3 4 '", "f(['3', '4'])")
    assert not may_depend_on_hash_seed(code, "{'a', 'b'}", "{'b', 'a'}")  # literal: order-free
    assert may_depend_on_hash_seed("def f(d):\n    return list(d.keys() - {'a'})", "[]", "f({})")


def test_routes():
    code = "def f(x): return x"
    assert plan_check(code, "1", "1").route == "literal"
    assert plan_check(code, "1", "(").route == "parse"
    assert plan_check(code, "1", "f(1)").route == "execute"
    assert plan_check(code, "1", "f(1)").leaves == ("f(1)",)
    assert plan_check(code, "1", "f('x' * 10**9)").route == "execute"
    assert plan_check(code, "1", "0 or True").route == "literal"  # as written: decided in the host
    plan = plan_check(code, "1", "f(2) or f(1)")
    assert plan.route == "execute" and plan.leaves == ("f(2)", "f(1)")
    assert plan_check(code, "1", "__import__('os')._exit(0)").route == "invalid"
    assert plan_check(code, "1", "f((globals().update(f=len), 1)[1])").route == "invalid"
    # strict (the run judge): one value, no call of the program in output mode
    assert plan_check(code, "1", "0 or True", "output", strict=True).route == "invalid"
    assert plan_check(code, "1", "f(1)", "output", strict=True).route == "invalid"
    assert plan_check(code, "1", "f(1)", "input", strict=True).route == "execute"
    assert plan_check(code, "1", "1\nassert f(1)", "output", strict=True).route == "invalid"
    # a program that rebinds set(): literal_eval's set() is the program's, so it runs
    assert plan_check("set = list\ndef f(x): return x", "[]", "set()").route == "execute"


def test_checks_do_not_leak_state(sandbox):
    # f mutates its default argument: every check must see a fresh f, as in separate processes
    code = "def f(x, acc=[]):\n    acc.append(x)\n    return len(acc)"
    results, routes = run_checks([(code, "1", f"f({i})") for i in range(5)], sandbox)
    assert [r.verdict for r in results] == ["passed"] * 5 and routes["execute"] == 5


def test_answers_cannot_forge_a_pass(sandbox):
    """What passes upstream by running in the deciding process does not pass here."""
    code = "def f(x):\n    return x + 1"
    hacks = [
        "type('E', (), {'__eq__': lambda s, o: True})()",
        "__import__('os')._exit(0)",
        "f((__import__('builtins').__setattr__('int', str), 1)[1])",
        "f(1) if exit() else 3",
        "[x for x in [1]].__class__",
    ]
    results, routes = run_checks([(code, "3", h) for h in hacks], sandbox, mode="input")
    assert [r.verdict for r in results] == ["failed"] * len(hacks)
    assert all(r.invalid for r in results), results


# ---------------------------------------------------------------- the 134 published files


def _published():
    index = CRUX / "derived_file_index.csv"
    if not index.is_file():
        return []
    with index.open() as fh:
        return [(r["file"], r["stored_scores_follow_rule"]) for r in csv.DictReader(fh)]


# Files for every CI run: both modes, CoT and direct, n = 1, 3 and 10, both scoring rules, the
# file the two rules tell apart, and the seed-sensitive GPT-4 input file. All 134: slow job.
CI_FILES = (
    "claude-3-opus-20240229_temp0.2_output.json", "gpt-4o+cot_temp0.2_input.json", "gpt-4o+cot_temp0.2_output.json",
    "gpt-4-0613_temp0.2_input.json", "gpt-3.5-turbo-0613+cot_temp0.2_input.json",
    "codellama-34b+cot_temp0.2_output.json",
)


def _reproduce(sandbox, names: set[str] | None) -> dict[str, list[str]]:
    """Rescore the published files (all, or those named) and check pass@1 and pass@5; returns
    the seed-sensitive sample ids per file."""
    rows = [r for r in _published() if names is None or Path(r[0]).name in names]
    assert len(rows) == (134 if names is None else len(names))
    rule_of = {"pre-0a800bd": "2024-01", "HEAD": "2024-04", "both": "2024-01"}
    cache: dict = {}
    wrong, sensitive = [], {}
    for rel, follows in rows:
        path = CRUX / rel
        stored = json.loads(path.read_text())
        seed = PUBLISHED_SEEDS.get(path.name, 0)
        r = rescore_file(path, rule=rule_of[follows], sandbox=sandbox, hash_seed=seed, cache=cache,
                         timeout=ALL_FILES_TIMEOUT, cpu_time=True)
        if abs(r["pass_at_1"] - stored["pass_at_1"]) >= 1e-9 or abs(r["pass_at_5"] - stored["pass_at_5"]) >= 1e-9:
            wrong.append((path.name, r["pass_at_1"], stored["pass_at_1"], r["pass_at_5"], stored["pass_at_5"]))
        if follows == "both":  # either rule reproduces these files
            other = rescore_file(path, rule="2024-04", sandbox=sandbox, hash_seed=seed, cache=cache, probe_seeds=(),
                                 timeout=ALL_FILES_TIMEOUT, cpu_time=True)
            assert abs(other["pass_at_1"] - stored["pass_at_1"]) < 1e-9, path.name
        if r["seed_sensitive"]:
            sensitive[path.name] = sorted({s["sample_id"] for s in r["seed_sensitive"]})
    assert wrong == []
    return sensitive


@pytest.mark.timeout(1800)
@needs_data
def test_published_files_reproduce(sandbox):
    sensitive = _reproduce(sandbox, set(CI_FILES))
    assert "sample_664" in sensitive.get("gpt-4-0613_temp0.2_input.json", [])


@pytest.mark.slow
@pytest.mark.timeout(3600)
@needs_data
def test_all_published_files_reproduce(sandbox):
    sensitive = _reproduce(sandbox, None)
    # the known seed-sensitive problem is reported wherever its seed-dependent answer occurs
    assert {name for name, ids in sensitive.items() if "sample_664" in ids} >= {
        "gpt-4-0613_temp0.2_input.json", "gpt-4-0613_temp0.8_input.json",
        "magicoder-ds-7b_temp0.2_input.json", "magicoder-ds-7b_temp0.8_input.json"}


@pytest.mark.slow
@pytest.mark.timeout(14400)
@needs_data
def test_all_published_files_reproduce_at_cli_defaults():
    """`codemind rescore FILE` as a user runs it (3 s wall clock, default sandbox, probe seeds),
    each file with only the rule it was scored with and the GPT-4 input files' seed:
    benchmarks/cruxeval_rescore.py, which exits 1 on any difference. Hours on 2 cores (CRUXEval's
    own limit lets every non-terminating check run 3 s): the scheduled slow job runs it."""
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "cruxeval_rescore.py"
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
    assert "134/134 files reproduce" in proc.stdout, proc.stdout[-2000:]
