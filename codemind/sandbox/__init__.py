"""Sandboxes that run benchmark programs and model-written code. See base.Sandbox."""

from __future__ import annotations

import sys

from codemind.errors import UserError
from codemind.sandbox.base import SANDBOXES, Sandbox


def docker_available() -> bool:
    """True when a Docker engine answers and the sandbox image exists."""
    try:
        from codemind.sandbox.docker import engine_ready  # lazy: needs the docker SDK
    except ImportError:
        return False
    return engine_ready()


def resolve_sandbox(name: str | None) -> str:
    """None means Docker when it is ready, else the process sandbox with a loud warning
    that it is weaker."""
    if name is not None:
        return name
    if docker_available():
        return "docker"
    print(
        "WARNING: no Docker engine/sandbox image; using the weaker 'process' sandbox: programs run as you, "
        "on this machine's files, so model-written code is not contained (run `codemind sandbox doctor`)",
        file=sys.stderr,
    )
    return "process"


def open_sandbox(name: str | None = None, workers: int | None = None, **options) -> Sandbox:
    """Start the named sandbox (see resolve_sandbox for None)."""
    name = resolve_sandbox(name)
    try:
        cls = SANDBOXES.get(name)
    except KeyError as e:
        raise UserError(str(e)) from None
    return cls(workers=workers, **options)


__all__ = ["Sandbox", "open_sandbox", "resolve_sandbox", "docker_available", "SANDBOXES"]
