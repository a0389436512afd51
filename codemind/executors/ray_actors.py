"""What runs inside the Ray actors, one per unit of a node's custom resource: plain classes
(`ray.remote` is applied by the driver), imported by module name on the nodes, so every node
needs the same codemind installed (the driver checks identities, ray.RayExecutor)."""

from __future__ import annotations

import os
import socket
from typing import Any, Sequence

from codemind.schema import ExecJob, Execution, Generation, GenerationParams, GenRequest


def _where() -> dict:
    return {"host": socket.gethostname(), "pid": os.getpid()}


class SandboxHost:
    """The node's own sandbox (its Docker engine and warm pool, or process runners)."""

    def __init__(self, name: str, workers: int | None):
        from codemind.sandbox import open_sandbox

        self.sandbox = open_sandbox(name, workers=workers)

    def ready(self) -> dict:
        """The sandbox's identity (the driver requires every node's to be the same) and where."""
        return {"identity": self.sandbox.identity(), **_where()}

    def run(self, jobs: Sequence[ExecJob]) -> list[Execution]:
        return self.sandbox.run(jobs)


class BackendHost:
    """One model loaded on this node (llama.cpp: one model per actor)."""

    def __init__(self, cls: type, model: str, params: GenerationParams, options: dict[str, Any]):
        self.backend = cls(model, params, **options)

    def ready(self) -> dict:
        """The backend's identity (what can change its answers) once its model is loaded."""
        load = getattr(self.backend, "load", None)
        if load is not None:
            load()
        return {"identity": self.backend.identity(), **_where()}

    def generate(self, requests: Sequence[GenRequest]) -> list[Generation]:
        return list(self.backend.generate(requests))
