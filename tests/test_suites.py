"""Named evaluations (TOML data with include), suites, and `codemind run --suite` end to end.

The suite test runs the CodeMind paper's whole matrix (codemind-v1, --limit 10) in a
subprocess against a scripted OpenAI-compatible server on 127.0.0.1 and the Docker sandbox,
kills it with SIGKILL part-way, runs the same command again and checks that every
evaluation completed, that nothing on disk was lost or repeated and that the model was not
asked again for what it had answered; then `codemind report` and `codemind leaderboard` on
the suite directory.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from cli_helpers import assert_one_line_error, codemind
from docker_helpers import need_docker

from codemind.benchmarks.base import BENCHMARKS
from codemind.config import RunConfig
from codemind.errors import UserError
from codemind.evals.spec import eval_names, load_eval, load_suite, suite_names
from codemind.judges.base import JUDGES
from codemind.tasks.base import TASKS
from codemind.tasks.prompts import get_prompt


# ---------------------------------------------------------------- the specs themselves


def test_every_packaged_evaluation_resolves_to_a_valid_run():
    """Each evaluation names a registered benchmark (in a language it has), task, prompt of
    that task and judge, and its judge options are ones the judge accepts."""
    names = eval_names()
    assert {"cruxeval-o", "cruxeval-i", "codemind-ier-humaneval-paper", "codemind-ier-codenet-java-paper"} <= set(names)
    for name in names:
        spec = load_eval(name)
        assert spec.name == name
        config = RunConfig(**spec.run_fields(), model="openai:x")
        assert config.language in BENCHMARKS.get(config.benchmark).languages, name
        assert config.task in TASKS.names(), name
        if config.prompt:
            get_prompt(config.task, config.prompt)
        judge = config.judge or TASKS.get(config.task)().default_judge
        JUDGES.get(judge)(**config.judge_options)  # raises on an option the judge does not know


def test_one_evaluation_per_supported_task_benchmark_and_language():
    from test_tasks_full import SUPPORTED

    for task, pairs in SUPPORTED.items():
        for bench, lang in pairs:
            spec = load_eval(f"{task}-{bench}-{lang}")
            assert (spec.task, spec.benchmark, spec.language) == (task, bench, lang)


def test_include_merges_fields_and_judge_options():
    paper, ours = load_eval("codemind-ier-mbpp-paper"), load_eval("codemind-ier-mbpp")
    assert (paper.prompt, paper.judge, paper.inputs) == ("codemind", "codemind-exact", "codemind")
    assert (ours.prompt, ours.judge, ours.inputs) == ("codemind", "codemind-exact", "codemind")
    assert paper.judge_options == {"against": "label"} and ours.judge_options == {"against": "executed"}
    o = load_eval("cruxeval-o")
    assert (o.samples, o.temperature, o.top_p, o.judge, o.task) == (10, 0.2, 0.95, "cruxeval", "ier")


def test_suites_name_only_known_evaluations():
    assert "codemind-v1" in suite_names()
    suite = load_suite("codemind-v1")
    tasks = {load_eval(e).task for e in suite.evals}
    assert tasks == {"ier", "der", "sr", "input"}
    langs = {(load_eval(e).benchmark, load_eval(e).language) for e in suite.evals if load_eval(e).task == "ier"}
    assert langs == {("humaneval", "python"), ("mbpp", "python"), ("cruxeval", "python"), ("codenet", "python"),
                     ("codenet", "java"), ("avatar", "python"), ("avatar", "java")}


def test_a_users_own_evaluation_file_with_include(tmp_path):
    base = tmp_path / "base.toml"
    base.write_text('benchmark = "cruxeval"\ntask = "ier"\njudge = "cruxeval"\n[judge_options]\nrule = "2024-04"\n')
    mine = tmp_path / "mine.toml"
    mine.write_text('include = "base.toml"\nprompt = "cruxeval-cot"\n[judge_options]\ntimeout = 5\n')
    spec = load_eval(str(mine))
    assert (spec.name, spec.prompt, spec.judge_options) == ("mine", "cruxeval-cot", {"rule": "2024-04", "timeout": 5})
    cycle = tmp_path / "a.toml"
    cycle.write_text('include = "b.toml"\n')
    (tmp_path / "b.toml").write_text('include = "a.toml"\n')
    with pytest.raises(UserError, match="include cycle"):
        load_eval(str(cycle))
    bad = tmp_path / "bad.toml"
    bad.write_text('benchmark = "cruxeval"\ntemprature = 0.2\n')
    with pytest.raises(UserError, match="field 'temprature'"):
        load_eval(str(bad))


def test_judge_options_are_in_the_config_hash_and_old_hashes_stay():
    plain = RunConfig(benchmark="cruxeval", judge="cruxeval")
    assert "judge_options" not in plain.identity()  # runs recorded before judge options keep their hash
    other = RunConfig(benchmark="cruxeval", judge="cruxeval", judge_options={"rule": "2024-04"})
    assert other.hash() != plain.hash()
    assert RunConfig(benchmark="cruxeval", judge="cruxeval", eval="cruxeval-o").hash() == plain.hash()


@pytest.mark.parametrize("args,pattern", [
    (["--eval", "no-such-eval"], "unknown evaluation 'no-such-eval'"),
    (["--suite", "no-such-suite"], "unknown suite 'no-such-suite'"),
    (["--eval", "cruxeval-o", "--benchmark", "mbpp"], "--benchmark cannot be combined with --eval"),
    (["--suite", "codemind-v1", "--judge", "value"], "--judge cannot be combined"),
    (["--suite", "codemind-v1", "--eval", "cruxeval-o"], "cannot be combined"),
    (["--benchmark", "cruxeval", "--judge", "cruxeval", "--judge-arg", "rules=2024-04"], "unknown option(s) rules"),
    (["--benchmark", "cruxeval", "--judge", "cruxeval", "--judge-arg", "timeout=soon"], "option timeout must be"),
    (["--benchmark", "cruxeval", "--judge-arg", "against"], "--judge-arg expects KEY=VALUE"),
    (["--model", "openai:x"], "say what to run"),
])  # fmt: skip
def test_bad_evaluation_arguments_are_one_line(tmp_path, args, pattern):
    proc = codemind("run", *args, "--model", "openai:none", "--base-url", "http://127.0.0.1:9/v1",
                    "--out", tmp_path / "out", env={"OPENAI_API_KEY": "x"})
    assert_one_line_error(proc, pattern)
    assert not (tmp_path / "out").exists()


def test_list_prints_suites_and_evaluations():
    proc = codemind("list", "suites")
    assert proc.returncode == 0 and "codemind-v1" in proc.stdout
    proc = codemind("list", "evals", "--json")
    assert proc.returncode == 0
    assert [r["name"] for r in json.loads(proc.stdout)] == eval_names()
    assert_one_line_error(codemind("list", "models"), "unknown list 'models'")


# ---------------------------------------------------------------- a whole suite, killed and resumed

SUITE_LIMIT = 10


def _server_script():
    from servers.task_server import TaskScript

    script = TaskScript()
    for name in load_suite("codemind-v1").evals:
        spec = load_eval(name)
        script.add(BENCHMARKS.get(spec.benchmark)(language=spec.language, name=spec.benchmark).load()[:SUITE_LIMIT])
    return script


def test_paper_table_cells_are_each_tasks_own_summary_per_benchmark_and_over_all():
    from codemind.evals.spec import SuiteTable
    from codemind.report.suite import paper_table

    table = SuiteTable(title="t", columns=[{"name": "R_IER", "task": "ier"},
                                           {"name": "R_SR", "task": "sr", "metric": "r_sr.r_sr", "percent": False}])
    rows = [{"task": "ier", "benchmark": "a", "program_id": str(i), "correct": i < 3} for i in range(4)]
    rows += [{"task": "ier", "benchmark": "b", "program_id": "0", "correct": False}]
    rows += [{"task": "sr", "benchmark": "b", "program_id": p, "stage": stage, "correct": ok}
             for p, stage, ok in [("x", "no_test", False), ("x", "with_test", True),
                                  ("y", "no_test", True), ("y", "with_test", True)]]
    out = paper_table(table, rows)
    assert [r["benchmark"] for r in out["rows"]] == ["a", "b", "all"]
    a, b, every = out["rows"]
    assert (a["R_IER"], b["R_IER"], every["R_IER"]) == (0.75, 0.0, 0.6)
    assert a["R_SR"] is None and b["R_SR"] == every["R_SR"] == pytest.approx(0.5 * 2.718281828459045 ** 0.5)


@pytest.mark.docker
def test_codemind_latest_suite_end_to_end_with_its_paper_table(data_dir, tmp_path):
    """The latest paper's suite (IER with the HEAD prompts, SR, DSR on Avatar, ClassEval,
    CRUXEval, HumanEval) completes with --limit against the scripted server (which answers
    with labels, reference solutions and the unpadded originals), and the report prints its
    table: R_IER, R_SR and S_DSR per benchmark, each the task's own summary."""
    from servers.task_server import TaskScript, TaskServer

    need_docker()
    suite = load_suite("codemind-latest")
    script = TaskScript()
    for name in suite.evals:
        spec = load_eval(name)
        script.add(BENCHMARKS.get(spec.benchmark)(language=spec.language, name=spec.benchmark).load())
    out = tmp_path / "latest"
    with TaskServer(script) as url:
        proc = codemind("run", "--suite", "codemind-latest", "--model", "openai:scripted-latest", "--base-url", url,
                        "--limit", "3", "--out", out, "--json", env={"OPENAI_API_KEY": "x"}, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not script.unknown, script.unknown[:1]
    assert {"dsr", "synthesis", "output-function", "output-stdin"} <= set(script.kinds), script.kinds
    report = json.loads(proc.stdout)
    assert json.loads((out / "suite.json").read_text())["status"] == {e: "done" for e in suite.evals}
    (table,) = report["tables"]
    rows = {r["benchmark"]: r for r in table["rows"]}
    assert set(rows) == {"avatar-latest", "classeval", "cruxeval", "humaneval", "all"}
    for bench in ("classeval", "cruxeval", "humaneval"):  # the server answers these from executed-true labels
        assert rows[bench]["S_DSR"] == 1.0 and rows[bench]["R_IER"] > 0, rows[bench]
    assert rows["avatar-latest"]["S_DSR"] == 1.0
    assert rows["humaneval"]["R_SR"] == rows["classeval"]["R_SR"] == 1.0  # all pass without a test: e^0
    assert rows["cruxeval"]["R_SR"] is None and rows["avatar-latest"]["R_SR"] is None  # no spec: no SR
    text = codemind("report", out)
    assert text.returncode == 0 and "R_IER" in text.stdout and "S_DSR" in text.stdout and "R_SR" in text.stdout


def _lines(path):
    return path.read_bytes().splitlines(keepends=True) if path.exists() else []


@pytest.mark.docker
def test_suite_runs_every_evaluation_and_resumes_after_kill_9(data_dir, tmp_path):
    from servers.task_server import TaskServer

    need_docker()
    script = _server_script()
    suite = load_suite("codemind-v1")
    out = tmp_path / "suite"
    with TaskServer(script) as url:
        args = ["run", "--suite", "codemind-v1", "--model", "openai:scripted-suite", "--base-url", url,
                "--limit", str(SUITE_LIMIT), "--out", str(out)]
        victim = subprocess.Popen([sys.executable, "-m", "codemind.cli", *args], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True,
                                  env={**os.environ, "OPENAI_API_KEY": "x"})
        deadline = time.time() + 600
        record = out / "suite.json"
        while time.time() < deadline and victim.poll() is None:
            if record.exists() and sum(v == "done" for v in json.loads(record.read_text())["status"].values()) >= 3:
                break
            time.sleep(0.05)
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
        status = json.loads(record.read_text())["status"]
        done_before = [e for e, v in status.items() if v == "done"]
        assert 3 <= len(done_before) < len(suite.evals), "the kill must land part-way through the suite"
        before = {e: _lines(out / e / "samples.jsonl") for e in suite.evals}
        asked_before = sum(script.kinds.values())

        proc = codemind(*args, "--json", env={"OPENAI_API_KEY": "x"}, timeout=1200)
        asked_after = sum(script.kinds.values()) - asked_before
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert not script.unknown, script.unknown[:1]

    record = json.loads((out / "suite.json").read_text())
    assert record["status"] == {e: "done" for e in suite.evals}
    missing_before = 0
    for name in suite.evals:
        run = out / name
        manifest = json.loads((run / "manifest.json").read_text())
        assert manifest["config"]["eval"] == name and manifest["config"]["limit"] == SUITE_LIMIT
        lines = _lines(run / "samples.jsonl")
        old = [line for line in before[name] if line.endswith(b"\n")]
        assert lines[: len(old)] == old, f"{name}: samples written before the kill changed"
        rows = [json.loads(line) for line in lines]
        keys = Counter((r["item_key"], r["sample_index"]) for r in rows)
        assert rows and max(keys.values()) == 1, f"{name}: a sample was repeated"
        items = sum(rec["items"] for rec in manifest["usable_programs"].values())
        assert len(rows) == items, (name, len(rows), items)
        missing_before += len(rows) - len(old)
    # the rerun asked the model only for what was not on disk (answers given but not yet
    # judged at the kill come from the generation cache)
    assert 0 < asked_after <= missing_before, (asked_after, missing_before)

    report = json.loads(proc.stdout)
    assert report["suite"] == "codemind-v1"
    assert {m["group"]["eval"] for m in report["metrics"]} == set(suite.evals)
    summary = report["summary"][0]
    assert {"ier", "input", "der", "sr"} <= set(summary)
    assert summary["der"]["r_der"]["n"] > 0 and summary["sr"]["misleading_test"]["n"] > 0
    assert report["constructs"] and report["construct_effects"]

    text = codemind("report", out)
    assert text.returncode == 0, text.stderr
    for needle in ("Per evaluation", "R_DER", "SR misleading", "IER accuracy (%) on programs with each construct",
                   *suite.evals):
        assert needle in text.stdout, needle
    site = codemind("leaderboard", out, "--out", tmp_path / "site", "--json")
    assert site.returncode == 0, site.stderr
    assert json.loads(site.stdout)["runs"] == len(suite.evals)
