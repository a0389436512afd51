"""--variant end to end: `codemind run` against scripted servers on 127.0.0.1, in the default
sandbox (Docker where it is ready, as in CI).

- a server that answers by executing the program it is shown (tests/servers/exec_server.py)
  scores 100% on the originals, on every kept variant and on every kept mutant, and the report
  says so item by item;
- a server that answers a variant with its ORIGINAL program's output (memory) scores 100% on
  the behaviour-keeping variants and 0% on the mutants, and the report counts every mutant
  answer as the original's output;
- input prediction, DER (variants of the model's own code) and SR (a variant's spec where the
  spec is the head of the program) ask the variants too;
- the manifest counts, per kind, the programs tried, kept and dropped, and every kept
  variant was executed (its items' expected outputs are its own executed outputs).
"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
from cli_helpers import assert_one_line_error, codemind
from docker_helpers import need_docker
from servers.exec_server import ExecScript
from servers.task_server import TaskScript, TaskServer, _key

from codemind.sandbox import open_sandbox
from codemind.store.rundir import RunDir
from codemind.variants.base import VARIANTS


@pytest.fixture(scope="module")
def docker_ready():
    need_docker()


def kinds_for(language: str) -> list[str]:
    return [k for k in VARIANTS.names() if language in VARIANTS.get(k).transforms]


def behaviour(kind: str) -> str:
    return VARIANTS.get(kind).behaviour


def _run(url, out, bench, lang, task, kinds, limit, *extra):
    proc = codemind("run", "--benchmark", bench, "--language", lang, "--task", task, "--model", "openai:scripted",
                    "--base-url", url, "--out", out, "--limit", limit, "--variant", ",".join(kinds), "--json",
                    *extra, env={"OPENAI_API_KEY": "x"}, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    return json.loads(proc.stdout), json.loads((out / "manifest.json").read_text()), samples


def _check_manifest(manifest: dict, samples: list[dict], kinds: list[str]) -> None:
    assert list(manifest["variants"]) == kinds
    asked = defaultdict(set)
    for s in samples:
        if s["variant"]:
            assert s["program_id"].endswith("~" + s["variant"]), s["program_id"]
            asked[s["variant"]].add(s["program_id"])
    for kind, rec in manifest["variants"].items():
        assert rec["behaviour"] == behaviour(kind)
        assert rec["kept"] + rec["dropped"] == rec["tried"], rec
        assert rec["dropped"] == len(rec["dropped_programs"]) == sum(rec["reasons"].values()), rec
        assert len(asked[kind]) <= rec["kept"], kind  # a kept variant is asked unless its prompt cannot show it


@pytest.mark.docker
@pytest.mark.parametrize("bench,lang,limit", [
    ("cruxeval", "python", 60), ("humaneval", "python", 20), ("mbpp", "python", 20), ("avatar", "python", 7),
    ("classeval", "python", 12), ("avatar", "java", 5), ("humaneval-x", "java", 5),
])  # fmt: skip
def test_reasoning_scores_everything_memory_fails_only_mutants(data_dir, docker_ready, tmp_path, bench, lang,
                                                               limit):
    kinds = kinds_for(lang)
    with open_sandbox("docker") as sb:
        script = ExecScript(sandbox=sb)
        with TaskServer(script) as url:
            report, manifest, samples = _run(url, tmp_path / "reason", bench, lang, "ier", kinds, limit)
        _check_manifest(manifest, samples, kinds)
        kept = {k for k, r in manifest["variants"].items() if r["kept"]}
        assert {s["variant"] for s in samples if s["variant"]} == kept
        assert any(behaviour(k) == "changed" for k in kept) and any(behaviour(k) == "same" for k in kept)
        wrong = [(s["program_id"], s["outcome"], s["extracted"], s["expected"]) for s in samples if not s["correct"]]
        assert not wrong, wrong[:5]
        rows = report["variants"]["comparisons"]
        assert {r["variant"] for r in rows} == kept
        for r in rows:
            assert r["acc_original"] == r["acc_variant"] == 1.0 and r["unpaired"] == 0, r
            if r["behaviour"] == "changed":
                assert r["memory"]["original_output"] == 0, r
        assert all(r["robust_accuracy"] == 1.0 for r in report["variants"]["robust"])

        # the same questions answered from memory: each variant gets its original's output
        programs = {p.id: p for p in RunDir(tmp_path / "reason").recorded_programs()}
        original = {(s["program_id"], s["input_index"]): s["expected"] for s in samples if not s["variant"]}
        memory = {}
        for s in samples:
            if s["variant"]:
                p = programs[s["program_id"]]
                inp = next(i for i in p.inputs if i.index == s["input_index"])
                question = inp.call if inp.call is not None else inp.stdin
                memory[(_key(p.source), question)] = original[(p.meta["variant"]["of"], s["input_index"])]
        script.memory = memory  # (the originals are answered by executing them again: read back)
        with TaskServer(script) as url:
            report, _, again = _run(url, tmp_path / "memory", bench, lang, "ier", kinds, limit)
    assert len(again) == len(samples)
    for s in again:
        assert s["correct"] == (behaviour(s["variant"]) == "same" if s["variant"] else True), s
    for r in report["variants"]["comparisons"]:
        if r["behaviour"] == "changed":
            assert r["acc_variant"] == 0.0 and r["memory"]["share"] == 1.0, r
            assert r["mcnemar"]["only_a"] == r["pairs"], r
        else:
            assert r["acc_variant"] == 1.0 and "memory" not in r, r


@pytest.mark.docker
def test_input_prediction_on_variants_and_mutants(data_dir, docker_ready, tmp_path):
    """Input prediction shows each variant with its own output; the program's own first call
    is right for the originals, the variants and the mutants alike."""
    kinds = kinds_for("python")
    with open_sandbox("docker") as sb:
        script = ExecScript(sandbox=sb)
        first = tmp_path / "first"
        with TaskServer(script) as url:  # a first run records the variants it asked (programs.jsonl)
            _run(url, first, "cruxeval", "python", "input", kinds, 30)
        for p in RunDir(first).recorded_programs():
            script.calls.setdefault(_key(p.source), p.inputs[0].call)
        with TaskServer(script) as url:
            report, manifest, samples = _run(url, tmp_path / "again", "cruxeval", "python", "input", kinds, 30)
    _check_manifest(manifest, samples, kinds)
    assert {s["variant"] for s in samples if s["variant"]} == {k for k, r in manifest["variants"].items() if r["kept"]}
    assert all(s["correct"] for s in samples), [s for s in samples if not s["correct"]][:3]
    assert script.kinds["input-fallback"] == 0 or script.kinds["input"] > 0


@pytest.mark.docker
def test_der_asks_variants_of_the_models_own_code(data_dir, docker_ready, tmp_path):
    kinds = ["rename", "loop", "mutant-constant"]
    with open_sandbox("docker") as sb:
        script = ExecScript(sandbox=sb)
        script.add(_programs("humaneval", "python")[:12])  # synthesis answers: the reference solutions
        with TaskServer(script) as url:
            report, manifest, samples = _run(url, tmp_path / "der", "humaneval", "python", "der", kinds, 12)
    own = manifest["variants_own_code"]
    assert set(own) == set(kinds) and own["rename"]["kept"] > 0
    by_stage = defaultdict(set)
    for s in samples:
        by_stage[s["stage"]].add(s["variant"])
    assert by_stage["synthesis"] == {None}  # a spec is asked once, not per variant
    assert {"rename", "mutant-constant"} <= by_stage["prediction"] and {"rename"} <= by_stage["reference"]
    assert all(s["correct"] for s in samples), [s for s in samples if not s["correct"]][:3]
    stages = {(r["stage"], r["variant"]) for r in report["variants"]["comparisons"]}
    assert ("prediction", "rename") in stages and ("reference", "rename") in stages


@pytest.mark.docker
def test_sr_shows_a_variants_spec_where_the_spec_is_code(data_dir, docker_ready, tmp_path):
    kinds = ["rename", "loop", "mutant-operator"]
    progs = _programs("humaneval", "python")[:10]
    with open_sandbox("docker") as sb:
        script = ExecScript(sandbox=sb).add(progs)
        with TaskServer(script) as url:
            report, manifest, samples = _run(url, tmp_path / "sr", "humaneval", "python", "sr", kinds, 10)
    usage = manifest["usable_programs"]["with_test"]["unusable_programs"]
    asked = {s["program_id"] for s in samples if s["variant"]}
    assert asked and all(pid.endswith("~rename") for pid in asked)  # renamed parameters change the spec shown
    for pid, why in usage.items():
        if pid.endswith("~mutant-operator"):
            assert why.startswith("a mutant"), why
        if pid.endswith("~loop"):
            assert why.startswith("variant changes nothing the spec shows"), why
    shown = [json.loads(line) for line in (tmp_path / "sr" / "samples.jsonl").read_text().splitlines()]
    assert {s["stage"] for s in shown if s["variant"]} == {"with_test", "no_test", "misleading_test"}
    assert report["variants"]["comparisons"]


def test_unknown_variant_or_language_without_transform_is_one_line(tmp_path, data_dir):
    out = tmp_path / "x"
    proc = codemind("run", "--benchmark", "cruxeval", "--variant", "renam", "--model", "openai:none",
                    "--base-url", "http://127.0.0.1:9/v1", "--out", out, env={"OPENAI_API_KEY": "x"})
    assert_one_line_error(proc, "unknown variant 'renam'")
    assert not out.exists()


def _programs(bench: str, lang: str):
    from codemind.benchmarks.base import BENCHMARKS

    return BENCHMARKS.get(bench)(data_dir=None, language=lang, inputs="first", name=bench).load()


@pytest.mark.docker
def test_data_variants_counts_every_kind_on_cruxeval(data_dir, docker_ready):
    """`codemind data variants cruxeval --json`, the whole benchmark: the broad behaviour-keeping
    kinds keep at least 95% of the programs (docs/variants.md says which kinds apply to fewer
    programs and why)."""
    proc = codemind("data", "variants", "cruxeval", "--json", timeout=1200)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["programs"] == 800
    kinds = result["kinds"]
    assert list(kinds) == kinds_for("python")
    for name in ("rename", "rename-misleading", "dead-code", "comments", "padding"):
        assert kinds[name]["kept_share"] >= 0.95, (name, kinds[name]["reasons"])
    for name, rec in kinds.items():
        assert rec["tried"] == 800 and rec["kept"] + rec["dropped"] == 800, (name, rec)
        # a behaviour-keeping transform that applies is almost always right: drops are "not applicable"
        if rec["behaviour"] == "same":
            wrong = sum(n for why, n in rec["reasons"].items() if why != "not applicable")
            assert wrong <= 0.05 * rec["kept"], (name, rec["reasons"])
