"""Real models end to end: the embedded default (Qwen2.5-Coder 0.5B Instruct) and Gemma 3
270M in-process, and Gemma behind `python -m llama_cpp.server`, reached through the openai
backend over HTTP.

The models are weak, so these tests assert that every sample is generated and judged (no
api_error, nothing lost), not that the answers are right; and that none of llama.cpp's own
log lines reaches the terminal (the process's fd 2).
"""

from __future__ import annotations

import json

import pytest
from cli_helpers import codemind
from servers.llama_server import llama_server, missing_reason, skip_or_fail  # noqa: F401 (fixture)


@pytest.fixture(scope="module", autouse=True)
def _needs_llama_cpp():
    reason = missing_reason()
    if reason:
        skip_or_fail(reason)


def _samples(out):
    return [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]


def test_ier_through_llama_cpp_server(llama_server, tmp_path):  # noqa: F811
    out = tmp_path / "run"
    proc = codemind("run", "--benchmark", "cruxeval", "--task", "ier", "--limit", "3", "--sandbox", "process",
                    "--model", "openai:gemma3-270m", "--base-url", llama_server, "--endpoint", "completions",
                    "--out", out, "--json", env={"OPENAI_API_KEY": "local"})
    assert proc.returncode == 0, proc.stderr
    samples = _samples(out)
    assert len(samples) == 3
    assert all(s["raw"] is not None and s["outcome"] != "api_error" for s in samples), samples
    report = json.loads(proc.stdout)
    assert report["metrics"][0]["n"] == 3


def llama_log_lines(stderr: str) -> list[str]:
    """Lines on stderr that llama.cpp/ggml wrote (they start with llama_, ggml_, load: ...)."""
    marks = ("llama", "ggml", "load:", "print_info:", "load_tensors:", "graph_", "sched_", "gguf", "init_")
    return [line for line in stderr.splitlines() if line.strip().lower().startswith(marks)]


def test_default_model_is_the_embedded_one(tmp_path):
    out = tmp_path / "run"
    args = ("run", "--benchmark", "cruxeval", "--limit", "2", "--max-tokens", "32", "--sandbox", "process",
            "--out", out, "--json")
    proc = codemind(*args)
    assert proc.returncode == 0, proc.stderr
    assert llama_log_lines(proc.stderr) == [] and proc.stderr.strip() == "", proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["model"] == "llamacpp:qwen2.5-coder-0.5b"
    assert manifest["model_label"] == "llamacpp:qwen2.5-coder-0.5b"
    assert manifest["backend"]["backend"] == "llamacpp" and manifest["backend"]["chat"] is True
    assert manifest["capabilities"]["extraction"] == "lenient"
    samples = _samples(out)
    assert [s["raw"] is not None and s["outcome"] != "api_error" for s in samples] == [True, True], samples
    again = codemind(*args)
    assert again.returncode == 0 and len(_samples(out)) == 2  # resumed: nothing repeated


def test_engine_logs_stay_off_the_terminal(tmp_path):
    """Gemma's load warns (`llama_kv_cache_iswa: using full-size SWA cache`, `load:
    control-looking token`) at a level llama-cpp-python's own logger prints even with
    verbose=False; the progress display (not --json) runs too."""
    out = tmp_path / "run"
    proc = codemind("run", "--benchmark", "cruxeval", "--limit", "1", "--sandbox", "process", "--out", out,
                    "--model", "llamacpp:gemma3-270m", "--max-tokens", "8")
    assert proc.returncode == 0, proc.stderr
    assert llama_log_lines(proc.stderr) == [], proc.stderr
    assert "llama_kv_cache" not in proc.stderr and "control-looking token" not in proc.stderr
    verbose = codemind("run", "--benchmark", "cruxeval", "--limit", "1", "--sandbox", "process", "--out",
                       tmp_path / "verbose", "--model", "llamacpp:gemma3-270m", "--max-tokens", "8", "--no-cache",
                       "--model-arg", "verbose=true", "--json")
    assert verbose.returncode == 0 and llama_log_lines(verbose.stderr)  # asked for: shown


@pytest.mark.parametrize("task,bench,stages", [
    ("der", "humaneval", {"synthesis", "reference"}),
    ("sr", "mbpp", {"with_test", "no_test", "misleading_test"}),
    ("input", "cruxeval", {None}),
])
def test_tasks_with_the_embedded_model(tmp_path, task, bench, stages):
    """Every task's stages with a real model; the fastest (Gemma: the plumbing is under test)."""
    out = tmp_path / "run"
    proc = codemind("run", "--benchmark", bench, "--task", task, "--limit", "1", "--max-tokens", "48",
                    "--model", "llamacpp:gemma3-270m", "--sandbox", "process", "--out", out, "--json")
    assert proc.returncode == 0, proc.stderr
    samples = _samples(out)
    assert stages <= {s.get("stage") for s in samples}
    assert all(s["outcome"] not in ("api_error", "sandbox_error") for s in samples), samples
