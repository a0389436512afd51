"""Start llama.cpp's OpenAI-compatible server (`python -m llama_cpp.server`) for tests.

`llama_server` is a session-scoped pytest fixture yielding the base URL (".../v1").
Import it into a test module (``from servers.llama_server import llama_server``).
Without llama-cpp-python[server] it skips with the reason, except under CI=true
where a missing server is a failure: CI must exercise the real thing.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def missing_reason() -> str | None:
    """Why the llama.cpp server cannot run here, or None."""
    for mod in ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context"):
        if importlib.util.find_spec(mod) is None:
            return f"{mod} is not installed (run .ci/setup-llamacpp.sh)"
    return None


def skip_or_fail(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@contextlib.contextmanager
def start_llama_server(
    model_path: str | Path, n_ctx: int = 4096, chat_format: str = "gemma", startup_timeout: float = 180.0
) -> Iterator[str]:
    """Run the server on a free 127.0.0.1 port until the block ends; yields the base URL."""
    port = free_port()
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model_path),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(n_ctx),
        "--n_threads", str(os.cpu_count() or 1),
        "--model_alias", "gemma3-270m",
        "--chat_format", chat_format,
    ]
    log = open(os.devnull, "wb")
    env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with code {proc.returncode}: {' '.join(cmd)}")
            try:
                with urllib.request.urlopen(base + "/models", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"llama_cpp.server did not answer within {startup_timeout:.0f}s")
            time.sleep(0.25)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()


@pytest.fixture(scope="session")
def llama_server() -> Iterator[str]:
    reason = missing_reason()
    if reason:
        skip_or_fail(reason)
    from codemind.errors import UserError
    from codemind.models.llamacpp import resolve_model_path

    try:
        path = resolve_model_path("gemma3-270m")  # fetched and verified on first use
    except UserError as e:
        skip_or_fail(f"the gemma3-270m model is unavailable: {e}")
    with start_llama_server(path) as base:
        yield base
