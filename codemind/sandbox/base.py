"""The one interface every sandbox implements: run a batch of ExecJobs, return Executions.

Sandboxes are context managers: warm workers start on enter and are torn down on exit.
`identity()` goes into the run manifest and into every execution-cache key, so results from
a weaker sandbox never masquerade as results from a stronger one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable, Sequence

from codemind.registry import Registry
from codemind.schema import ExecJob, Execution

Progress = Callable[[int], None]  # called with the number of jobs just finished


class Sandbox(ABC):
    name: str = "abstract"

    @abstractmethod
    def identity(self) -> dict:
        """What ran the code: sandbox kind, image/interpreter hash, limits policy."""

    @property
    def runtime(self) -> str:
        """Short stable string from identity(), used in cache keys."""
        from codemind.schema import content_hash

        return content_hash(self.identity())[:16]

    @abstractmethod
    def run(self, jobs: Sequence[ExecJob], progress: Progress | None = None) -> list[Execution]:
        """Run every job (in parallel where possible); results in the order of `jobs`.
        Never raises for a misbehaving program: that is an Execution status."""

    def close(self) -> None:
        pass

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


SANDBOXES: Registry[type[Sandbox]] = Registry("sandbox")
SANDBOXES.register("process", lazy="codemind.sandbox.process:ProcessSandbox")
SANDBOXES.register("docker", lazy="codemind.sandbox.docker:DockerSandbox")
