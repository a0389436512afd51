"""With a Docker engine and the sandbox image ready, Docker is the default sandbox: ground
truth of every benchmark and the judges' executions run there unless --sandbox says otherwise."""

from __future__ import annotations

import json

import pytest
from cli_helpers import codemind
from conftest import IN_CI

from codemind.sandbox import docker_available


@pytest.fixture(scope="module", autouse=True)
def _docker_ready():
    if not docker_available():
        if IN_CI:
            pytest.fail("CI=true but no Docker engine/sandbox image (run .ci/setup-docker.sh)")
        pytest.skip("no Docker engine/sandbox image")


def test_data_verify_cruxeval_runs_all_800_in_docker():
    proc = codemind("data", "verify", "cruxeval", "--no-cache", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["items"] == result["ok"] == 800
    assert result["sandbox"] == "docker"
    assert "weaker" not in proc.stderr


def test_run_defaults_to_docker(data_dir, tmp_path):
    out = tmp_path / "run"
    path = data_dir / "cruxeval" / "evaluation_results" / "gpt-4-0613_temp0.2_output.json"
    proc = codemind("run", "--benchmark", "cruxeval", "--limit", "20", "--judge", "cruxeval", "--samples", "10",
                    "--model", f"replay:{path}", "--out", out, "--json")
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["sandbox"] == "docker"
    assert manifest["sandbox"]["kind"] == "docker" and manifest["sandbox"].get("image")
