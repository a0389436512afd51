"""Answers for DSR prompts, for scripted OpenAI-compatible servers (tests/scripted_server.py's
`serve`, tests/servers/task_server.py).

The table maps each program's padded source (as codemind.tasks.padding.pad makes it for every
attempt under a seed) to an answer chosen by `respond(program)`: by default the unpadded
original program (a ClassEval item's class), the answer DSR scores 100% for. A prompt whose code is not in the table is
answered with the padded code itself (it passes the tests and scores 0: not shorter) and
recorded in `unknown`.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Callable, Iterable

from codemind.tasks.dsr import is_class_item, padded_subject
from codemind.tasks.padding import ATTEMPTS, PaddingError, pad

# the last "Consider the following code:" block of the prompt (the leading .* skips the example)
DSR_Q = re.compile(r".*Consider the following code:\n(.*)\nRefactor the (?:code|method)", re.S)


def padded_sources(program, seed: int = 0) -> list[str]:
    out = []
    for attempt in range(ATTEMPTS):
        try:
            out.append(pad(padded_subject(program), f"{program.benchmark}/{program.id}", seed, attempt).source)
        except PaddingError:
            pass
    return out


def original(program) -> str:
    """The unpadded program (for a ClassEval item: its class, without the Test class)."""
    return program.meta["class_source"] if is_class_item(program) else program.source


@dataclass
class DSRScript:
    respond: Callable = original  # the original program
    table: dict[str, str] = field(default_factory=dict)  # padded source (stripped) -> answer
    requests: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, programs: Iterable, seed: int = 0) -> "DSRScript":
        for p in programs:
            answer = self.respond(p)
            for src in padded_sources(p, seed):
                self.table[src.strip()] = answer
        return self

    @staticmethod
    def matches(prompt: str) -> bool:
        return "generate a shorter version of it" in prompt and DSR_Q.match(prompt) is not None

    def answer(self, prompt: str) -> str:
        m = DSR_Q.match(prompt)
        code = m.group(1) if m else ""
        answer = self.table.get(code.strip())
        with self.lock:
            self.requests.append(prompt)
            if answer is None:
                self.unknown.append(prompt)
        if answer is None:
            answer = code
        return f"Here is a shorter version:\n```python\n{answer.strip(chr(10))}\n```\n"
