"""Bad input of any kind: one line on stderr, exit code 2, no traceback."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cli_helpers import assert_one_line_error, codemind


@pytest.mark.parametrize(
    "args,pattern",
    [
        (["run", "--benchmark", "nope", "--model", "replay:x"], "unknown benchmark 'nope'"),
        (["run", "--benchmark", "cruxeval", "--task", "bogus", "--model", "replay:x"], "invalid --task"),
        (["run", "--benchmark", "cruxeval", "--samples", "0", "--model", "replay:x"], "invalid --samples"),
        (["run", "--benchmark", "cruxeval", "--prompt", "nope", "--model", "replay:x", "--sandbox", "process"],
         "unknown prompt 'nope'"),
        (["run", "--benchmark", "cruxeval", "--model", "bogus:thing", "--limit", "2", "--sandbox", "process"],
         "unknown model backend 'bogus'"),
        (["run", "--benchmark", "cruxeval", "--model", "replay:/nonexistent.json", "--limit", "2",
          "--sandbox", "process"], "replay file not found"),
        (["run", "--benchmark", "cruxeval", "--judge", "nope", "--model", "replay:x", "--limit", "2",
          "--sandbox", "process"], "unknown judge 'nope'"),
        (["run", "--benchmark", "cruxeval", "--language", "java", "--model", "replay:x"], "java"),
        (["report", "/nonexistent/run"], "run directory not found"),
        (["report", ".", "--format", "pdf"], "unknown --format"),
        (["rescore", "/nonexistent.json", "--format", "cruxeval"], "file not found"),
        (["rescore", "x.json", "--format", "other"], "unknown --format"),
        (["rescore", "x.json", "--rule", "1999"], "unknown --rule"),
        (["data", "verify", "nope"], "unknown benchmark 'nope'"),
        (["run"], "say what to run: --benchmark, --eval or --suite"),
    ],
)
def test_bad_input(args, pattern, tmp_path):
    assert_one_line_error(codemind(*args, cwd=tmp_path), pattern)


def test_replay_file_for_another_benchmark(data_dir, tmp_path):
    proc = codemind("run", "--benchmark", "cruxeval", "--limit", "3", "--sandbox", "process", "--out", tmp_path / "r",
                    "--model", f"replay:{data_dir}/codemind/generations/gpt-4__mbpp.jsonl.gz")
    assert_one_line_error(proc, "holds generations for mbpp, not cruxeval")


def test_checksum_mismatch_names_the_file(data_dir, tmp_path):
    mirror = tmp_path / "mirror"
    (mirror / "cruxeval").mkdir(parents=True)
    text = (data_dir / "cruxeval" / "cruxeval.jsonl").read_text()
    (mirror / "cruxeval" / "cruxeval.jsonl").write_text(text.replace("sample_0", "sample_X", 1))
    proc = codemind("data", "verify", "cruxeval", "--data-dir", mirror, "--sandbox", "process")
    assert_one_line_error(proc, "checksum mismatch")
    assert str(mirror / "cruxeval" / "cruxeval.jsonl") in proc.stderr


def test_missing_data_file_names_the_file(tmp_path):
    (tmp_path / "empty").mkdir()
    proc = codemind("run", "--benchmark", "cruxeval", "--model", "replay:x", "--data-dir", tmp_path / "empty",
                    "--sandbox", "process")
    assert_one_line_error(proc, "cruxeval.jsonl")


def test_rerun_with_other_config_is_refused(data_dir, tmp_path):
    out = tmp_path / "run"
    base = ["run", "--benchmark", "cruxeval", "--limit", "2", "--sandbox", "process", "--out", out,
            "--model", f"replay:{data_dir}/cruxeval/evaluation_results/gpt-4o_temp0.2_output.json"]
    first = codemind(*base, "--judge", "cruxeval", "--json")
    assert first.returncode == 0, first.stderr
    assert_one_line_error(codemind(*base, "--judge", "value", "--json"), "different configuration (differs in: judge)")


def test_codemind_entry_point_is_installed():
    exe = shutil.which("codemind")
    assert exe, "the console script is installed with the package"
    proc = subprocess.run([exe, "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "rescore" in proc.stdout


NO_RAY = str(Path(__file__).resolve().parent / "shims" / "no_ray")


@pytest.mark.parametrize("executor,env,pattern", [
    ("bogus", {}, "unknown executor 'bogus' (known: local, ray, ray:ADDRESS)"),
    ("ray:127.0.0.1:1", {"PYTHONPATH": NO_RAY},
     "--executor ray needs Ray, which is not installed: pip install 'codemind[ray]'"),
    ("ray", {"PYTHONPATH": NO_RAY}, "pip install 'codemind[ray]'"),
    ("ray:127.0.0.1:1", {}, "cannot reach the Ray cluster at 127.0.0.1:1"),
    ("ray:nowhere", {}, "expects HOST:PORT"),
])
def test_bad_executor_is_one_line_and_nothing_written(data_dir, tmp_path, executor, env, pattern):
    """Ray missing, an address that does not answer, an unknown executor: one line, exit 2, no run directory
    (the unreachable cases only when ray is importable; else they say it is missing, also one line)."""
    if not env and executor.startswith("ray"):
        pytest.importorskip("ray")
    out = tmp_path / "run"
    proc = codemind("run", "--benchmark", "cruxeval", "--limit", "2", "--sandbox", "process", "--model", "openai:none",
                    "--base-url", "http://127.0.0.1:9/v1", "--executor", executor, "--out", out,
                    env={"OPENAI_API_KEY": "x", **env})
    assert_one_line_error(proc, pattern)
    assert not out.exists()
    # a suite says it once, before any of its evaluations (or its suite.json) is written
    suite = codemind("run", "--suite", "cruxeval", "--limit", "2", "--sandbox", "process", "--model", "openai:none",
                     "--base-url", "http://127.0.0.1:9/v1", "--executor", executor, "--out", out,
                     env={"OPENAI_API_KEY": "x", **env})
    assert_one_line_error(suite, pattern)
    assert not out.exists()
