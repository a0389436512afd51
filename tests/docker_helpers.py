"""The Docker engine in tests: skip without it, except in CI (CI=true), where that is a failure."""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need_docker() -> None:
    from codemind.sandbox.docker import engine_ready

    if not engine_ready():
        msg = "Docker engine/sandbox image not ready (run .ci/setup-docker.sh)"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
