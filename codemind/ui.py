"""Progress bars for long stages (rich): done/total, rate, ETA and cache hits.

Stages receive a plain `advance(n, cached=0)` callable, so library code never imports rich
and stays quiet when no bar is wanted (tests, --json output).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator

Advance = Callable[..., None]


class Progress:
    def __init__(self, enabled: bool = True, stream=None):
        self.enabled = enabled
        self.stream = stream or sys.stderr

    @contextmanager
    def task(self, description: str, total: int) -> Iterator[Advance]:
        if not self.enabled or total <= 0:
            yield lambda n=1, cached=0: None
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress as RichProgress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TextColumn("cached {task.fields[cached]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        )
        with RichProgress(*columns, console=Console(file=self.stream), transient=False) as bar:
            tid = bar.add_task(description, total=total, cached=0, rate="")
            state = {"cached": 0}

            def advance(n: int = 1, cached: int = 0) -> None:
                state["cached"] += cached
                speed = bar.tasks[0].speed
                bar.update(tid, advance=n, cached=state["cached"], rate=f"{speed:,.1f}/s" if speed else "")

            yield advance
