"""Run the codemind CLI in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys


def codemind(*args, env=None, cwd=None, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "codemind.cli", *map(str, args)],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=cwd, timeout=timeout,
    )


def assert_one_line_error(proc, pattern: str):
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 or proc.stderr.lstrip().startswith("Usage"), proc.stderr
    assert pattern.lower() in proc.stderr.lower(), proc.stderr
