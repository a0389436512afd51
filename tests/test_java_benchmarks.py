"""Java benchmarks executed in the Docker sandbox (the only sandbox that runs Java):
compile errors, runtime exceptions, class-name handling on Avatar, HumanEval-X in Python
and Java, and replaying CodeMind's recorded Java outputs with codemind-exact.

Skips when no Docker engine/sandbox image is ready, except in CI (CI=true), where it fails.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from docker_helpers import need_docker

from codemind.benchmarks.base import BENCHMARKS
from codemind.benchmarks.stdin_common import stdin_program
from codemind.groundtruth import execute_ground_truth



@pytest.fixture(scope="module")
def sb():
    from codemind.sandbox.docker import DockerSandbox

    need_docker()
    with DockerSandbox(workers=2) as s:
        yield s


def load(name, language, data_dir, **options):
    return BENCHMARKS.get(name)(data_dir=data_dir, language=language, **options).load()


def java(pid: str, source: str, stdin: str, label: str | None):
    return stdin_program(id=pid, benchmark="t", language="java", source=source, tests=[(stdin, label)], meta={})


MAIN = "import java.util.*;\npublic class {cls} {{\n  public static void main(String[] a) {{\n    {body}\n  }}\n}}\n"


def test_java_compile_error_runtime_exception_mismatch_and_ok(sb):
    progs = [
        java("broken", MAIN.format(cls="Main", body="int x = ;"), "", None),
        java("boom", MAIN.format(cls="Main", body="int[] v = new int[2]; System.out.println(v[new Scanner(System.in).nextInt()]);"),
             "5\n", "0\n"),
        java("double", MAIN.format(cls="Main", body="System.out.println(1 / 2.0);"), "", "0.500000\n"),
        java("named", MAIN.format(cls="Punctuation", body="System.out.println(new Scanner(System.in).next() + \"!\");"),
             "hi\n", "hi!\n"),
    ]  # fmt: skip
    truths = {t.program_id: t for t in execute_ground_truth(progs, sb, use_cache=False)}
    assert truths["broken"].status == "does_not_run" and truths["broken"].reason.startswith("compile_error")
    assert truths["boom"].status == "does_not_run" and "ArrayIndexOutOfBoundsException" in truths["boom"].reason
    assert truths["double"].status == "label_mismatch" and truths["double"].expected == "0.5\n"
    assert truths["named"].status == "ok" and truths["named"].expected == "hi!\n"  # public class not named Main


def test_paper_avatar_java_with_other_public_class_names_runs(sb, data_dir):
    ps = {p.id: p for p in load("avatar", "java", data_dir)}
    chosen = [ps[i] for i in ("codeforces_147_A", "codeforces_190_A", "codeforces_30_A", "codeforces_32_B")]
    assert all("public class Main" not in p.source for p in chosen)
    truths = execute_ground_truth(chosen, sb)
    assert [t.status for t in truths] == ["ok"] * 4


def test_humaneval_x_same_task_in_python_and_java(sb, data_dir):
    from codemind.sandbox import open_sandbox

    jv = {p.id: p for p in load("humaneval-x", "java", data_dir)}
    py = {p.id: p for p in load("humaneval-x", "python", data_dir)}
    pairs = [("Java/2", "Python/2"), ("Java/0", "Python/0"), ("Java/12", "Python/12")]
    jt = {t.program_id: t for t in execute_ground_truth([jv[j] for j, _ in pairs], sb)}
    with open_sandbox("process") as proc:
        pt = {t.program_id: t for t in execute_ground_truth([py[p] for _, p in pairs], proc)}
    # Java prints what println gives, Python returns a value: the same answers, each in its language
    assert jt["Java/2"].expected == "0.5\n" and pt["Python/2"].expected == "0.5"
    assert jt["Java/0"].expected == "true\n" and pt["Python/0"].expected == "True"
    assert jt["Java/12"].expected == "Optional.empty\n" and pt["Python/12"].expected == "None"
    assert all(t.status == "ok" for t in [*jt.values(), *pt.values()])


def test_humaneval_x_java_all_checks_agree_with_stated_labels(sb, data_dir):
    ps = [p for p in load("humaneval-x", "java", data_dir, inputs="all") if p.inputs][:20]
    truths = execute_ground_truth(ps, sb)
    statuses = {t.status for t in truths}
    assert statuses == {"ok"}, [t for t in truths if t.status != "ok"][:3]
    labelled = [i for p in ps for i in p.inputs if i.label is not None]
    assert len(labelled) > 30


def _authors(data_dir: Path, model: str, bench: str) -> dict[str, bool]:
    path = data_dir / "codemind" / "generations" / f"{model}__{bench}.jsonl.gz"
    with gzip.open(path, "rt") as f:
        return {r["item_id"]: r["judged_correct_by_authors"] for r in map(json.loads, f)}


@pytest.mark.parametrize("bench,model,limit,least", [("avatar", "magicoder", None, 70), ("codenet", "gpt-4", 60, 50)])
def test_replay_codemind_exact_reproduces_authors_java(sb, data_dir, tmp_path, bench, model, limit, least):
    """`codemind run --benchmark B --language java --model replay:...` end to end, judged by
    codemind-exact against output.txt: every judged item has the authors' verdict."""
    replay = data_dir / "codemind" / "generations" / f"{model}__{bench}-java.jsonl.gz"
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "codemind.cli", "run", "--benchmark", bench, "--language", "java", "--task", "ier",
           "--model", f"replay:{replay}", "--judge", "codemind-exact", "--sandbox", "docker", "--out", str(out)]
    if limit:
        cmd += ["--limit", str(limit)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env={**os.environ})
    assert proc.returncode == 0, proc.stderr[-2000:]
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(samples) >= least
    authors = _authors(data_dir, model, f"{bench}-java")
    wrong = [s["program_id"] for s in samples if s["correct"] != authors[s["program_id"]]]
    assert wrong == []
    assert {s["language"] for s in samples} == {"java"}


def test_humaneval_x_java_run_end_to_end_with_a_replay_file(sb, data_dir, tmp_path):
    """`codemind run --benchmark humaneval-x --language java --model replay:FILE` (generic JSONL)."""
    answers = {"Java/0": "true", "Java/2": "0.5", "Java/3": "true"}  # Java/3 prints false
    replay = tmp_path / "replay.jsonl"
    replay.write_text("".join(json.dumps({"item_id": k, "text": f"<<<Analysis>>>\n...\n<<<Output>>>\n{v}\n"
                                                                  "[END-OF-RESPONSE]"}) + "\n"
                              for k, v in answers.items()))  # fmt: skip
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "codemind.cli", "run", "--benchmark", "humaneval-x", "--language", "java",
           "--task", "ier", "--model", f"replay:{replay}", "--limit", "4", "--sandbox", "docker",
           "--extraction", "lenient", "--out", str(out)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env={**os.environ})
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = {s["program_id"]: s["outcome"] for s in map(json.loads, (out / "samples.jsonl").read_text().splitlines())}
    assert got == {"Java/0": "correct", "Java/1": "no_generation", "Java/2": "correct", "Java/3": "wrong_value"}
