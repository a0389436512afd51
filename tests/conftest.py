"""Shared test setup: the data mirror and private caches.

Tests read benchmark data from CODEMIND_DATA (default: ../shared/data beside the repo, as in
CI) and never touch the user's ~/.cache/codemind, except its models/ folder
($CODEMIND_MODELS_DIR): embedded model files are large and checked against their sha256
before every use, so tests share them (and fetch one that is missing).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("CODEMIND_DATA", REPO.parent / "shared" / "data")).resolve()
os.environ["CODEMIND_DATA"] = str(DATA)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_configure(config):
    if "CODEMIND_CACHE_DIR" not in os.environ:
        import tempfile

        os.environ["CODEMIND_CACHE_DIR"] = tempfile.mkdtemp(prefix="codemind-test-cache-")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA / "cruxeval" / "cruxeval.jsonl").exists():
        if IN_CI:
            pytest.fail(f"benchmark data mirror missing at {DATA}")
        pytest.skip(f"benchmark data mirror missing at {DATA}")
    return DATA
