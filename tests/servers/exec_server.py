"""Output questions answered by executing the program the prompt shows (a model that reasons
perfectly), or, for the programs of a `memory` table, with another program's output (a model that
answers a variant from memory of the original).

A TaskScript (tests/servers/task_server.py) whose output answers come from running the shown
code on the shown call or stdin in the sandbox it is given (Java when the code has a `main`: the Docker sandbox), once
per distinct question. Serve it with TaskServer.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from servers.task_server import TaskScript, _key

from codemind.schema import ExecJob


@dataclass
class ExecScript(TaskScript):
    memory: dict[tuple[str, str], str] = field(default_factory=dict)  # (code, call or stdin) -> answer
    sandbox: object = None  # an open codemind sandbox
    executed: int = 0
    _answers: dict = field(default_factory=dict)
    _run_lock: threading.Lock = field(default_factory=threading.Lock)

    def output_for(self, code: str, call: str | None, stdin: str | None) -> str | None:
        question = call if call is not None else stdin
        remembered = self.memory.get((_key(code), question))
        if remembered is not None:
            return remembered
        from codemind.sandbox.cache import run_cached

        java = "static void main" in code
        job = ExecJob(language="java" if java else "python", source=code, call=call, stdin=stdin or "")
        key = job.model_dump_json()
        with self._run_lock:
            if key not in self._answers:
                [ex] = run_cached(self.sandbox, [job], use_cache=False)
                self.executed += 1
                self._answers[key] = None if ex.status != "ok" else ex.stdout if call is None else ex.return_repr
            return self._answers[key]
