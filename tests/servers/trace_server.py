"""An OpenAI-compatible server (127.0.0.1 only) that answers the trace task's questions by
tracing the program itself: the numbered program and the call are read back from the prompt,
the program is traced with codemind's tracer in a sandbox of the server's own (the default kind,
as the run's: Docker where it is ready, so both see the same interpreter and packages; not the
run's sandbox and not its execution cache), and the answer is read off that trace.

``TraceScript(wrong=False)`` answers every question right; ``wrong=True`` answers every one
wrong on purpose (coverage flipped, a line or a count 1000 off, a string no program computes
for a value). ``add(programs)`` traces the programs' first inputs up front, in one batch, so a
full benchmark costs one sandbox batch instead of a job per request. Requests are counted by
question kind; a prompt of no known kind gets "?" and is kept in ``unknown``.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from servers.task_server import TaskServer

from codemind.sandbox.runner.plainvalues import decode
from codemind.schema import Program, TestInput
from codemind.tasks import tracing

PROMPT = re.compile(r".*\[PYTHON\]\n(.*?)\n\[/PYTHON\]\n\[CALL\]\n(.*?)\n\[/CALL\]\n\[QUESTION\]\n(.*?)\n"
                    r"\[/QUESTION\]\n\[ANSWER\]\n?\Z", re.S)
COVERAGE = re.compile(r"Is line (\d+) executed\?")
STATE = re.compile(r"What is the value of the variable (\w+) right after line (\d+) is executed")
PATH = re.compile(r"Which line is executed right after line (\d+) is executed")
LOOPS = re.compile(r"The first time the loop at line (\d+) runs")
OUTPUT = re.compile(r"What value does the call return\?")
NUMBERED = re.compile(r"^\s*\d+ \|(?: (.*))?$")
WRONG = "'__trace_wrong__'"


def unnumbered(code: str) -> str:
    return "\n".join((m.group(1) or "") if (m := NUMBERED.match(line)) else line for line in code.split("\n")) + "\n"


@dataclass
class TraceScript:
    wrong: bool = False
    sandbox: str | None = None  # the default (Docker where it is ready, as the run's), or "process"
    traces: dict[tuple[str, str], tracing.Trace | None] = field(default_factory=dict)  # (numbered, call)
    sources: dict[str, str] = field(default_factory=dict)  # numbered -> source
    kinds: Counter = field(default_factory=Counter)
    unknown: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, programs: Iterable[Program]) -> "TraceScript":
        pairs = [(p, inp) for p in programs for inp in p.inputs if inp.call is not None]
        self._trace([(p.source, inp.call) for p, inp in pairs])
        return self

    def _trace(self, todo: list[tuple[str, str]]) -> None:
        from codemind.sandbox import open_sandbox

        todo = [(s, c) for s, c in dict.fromkeys(todo) if (tracing.numbered(s), c) not in self.traces]
        if not todo:
            return
        jobs = [tracing.trace_job(Program(id="x", benchmark="x", language="python", kind="function", source=s,
                                          inputs=[]), TestInput(call=c)) for s, c in todo]
        with open_sandbox(self.sandbox, workers=2) as sb:
            executions = sb.run(jobs)
        for (s, c), ex in zip(todo, executions):
            trace, _ = tracing.read_trace(ex, None)
            self.traces[(tracing.numbered(s), c)] = trace
            self.sources[tracing.numbered(s)] = s

    def _count(self, kind: str) -> None:
        with self.lock:
            self.kinds[kind] += 1

    def answer(self, prompt: str) -> str:
        m = PROMPT.match(prompt)
        if not m:
            self._count("unknown")
            with self.lock:
                self.unknown.append(prompt)
            return "?"
        code, call, question = m.groups()
        with self.lock:
            if (code, call) not in self.traces:
                self._trace([(unnumbered(code), call)])
                self.traces.setdefault((code, call), self.traces.get((tracing.numbered(unnumbered(code)), call)))
            trace = self.traces[(code, call)]
        source = self.sources.get(code) or unnumbered(code)
        if trace is None:
            self._count("untraceable")
            return "?"
        if q := COVERAGE.search(question):
            self._count("coverage")
            ran = bool(trace.executed(int(q.group(1))))
            return ("no" if ran else "yes") if self.wrong else ("yes" if ran else "no")
        if q := STATE.search(question):
            self._count("state")
            name, line = q.group(1), int(q.group(2))
            if not trace.executed(line):
                return "0" if self.wrong else tracing.NIL
            value = trace.state_after(line, name)
            return WRONG if self.wrong or value is None else repr(decode(value))
        if q := PATH.search(question):
            self._count("path")
            line = int(q.group(1))
            nxt = trace.next_line(line) if trace.executed(line) else tracing.NO_LINE
            return str((nxt if nxt is not None else 0) + (1000 if self.wrong else 0))
        if q := LOOPS.search(question):
            self._count("loops")
            line = int(q.group(1))
            spans = [(b, e) for start, b, e in tracing.loops(source) if start == line]
            n = trace.loop_count(line, *spans[0]) if spans else None
            return str((n if n is not None else 0) + (1000 if self.wrong else 0))
        if OUTPUT.search(question):
            self._count("output")
            return WRONG if self.wrong else (trace.ret or "None")
        self._count("unknown")
        with self.lock:
            self.unknown.append(prompt)
        return "?"


class TraceServer(TaskServer):
    """`with TraceServer(script) as url:` serves on 127.0.0.1 (a free port) until the block ends."""
