"""Where a run's work runs: this machine (`local`) or a Ray cluster (`ray[:ADDRESS]`). See base.Executor."""

from codemind.executors.base import EXECUTORS, Executor, open_executor

__all__ = ["EXECUTORS", "Executor", "open_executor"]
