"""`--executor local` (the default): everything on this machine, as before executors existed."""

from __future__ import annotations

from codemind.executors.base import Executor
from codemind.sandbox import open_sandbox
from codemind.sandbox.base import Sandbox


class LocalExecutor(Executor):
    name = "local"

    def open_sandbox(self, name: str, workers: int | None) -> Sandbox:
        return open_sandbox(name, workers=workers)
