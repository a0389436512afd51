"""The one interface every executor implements: where sandbox jobs and generations run.

An executor changes where work runs, never what it gives: the sandbox it opens has the same
identity (so the same execution-cache keys) as the local sandbox of that kind, and the backend
it makes gives the same generations as the local backend. So `--executor` is not part of the
configuration hash, and a run started on one executor resumes on another. The driver (the
process running `codemind run`) alone writes the run directory and the caches.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from codemind.models.base import Backend
from codemind.registry import Registry
from codemind.sandbox.base import Sandbox
from codemind.schema import GenerationParams


class Executor(ABC):
    name: str = "abstract"

    @abstractmethod
    def open_sandbox(self, name: str, workers: int | None) -> Sandbox:
        """A started sandbox of kind `name` (already resolved: docker or process)."""

    def make_backend(self, cls: type[Backend], model: str, params: GenerationParams, options: dict[str, Any]) -> Backend:
        """The backend `cls` for `model`; an executor that spreads generation returns a backend
        with the same identity and the same answers."""
        return cls(model, params, **options)

    def identity(self) -> dict:
        """Where the run ran (informational: never part of a key or hash)."""
        return {"executor": self.name}

    def close(self) -> None:
        pass

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


EXECUTORS: Registry[type[Executor]] = Registry("executor")
EXECUTORS.register("local", lazy="codemind.executors.local:LocalExecutor")
EXECUTORS.register("ray", lazy="codemind.executors.ray:RayExecutor")
EXECUTORS.register("ray:ADDRESS", lazy="codemind.executors.ray:RayExecutor")


def open_executor(spec: str) -> Executor:
    """`local`, `ray` (RAY_ADDRESS, else a cluster on this machine) or `ray:ADDRESS`; bad input
    (an unknown name, Ray missing, an address that does not answer) is a UserError."""
    return EXECUTORS.get(spec)()
