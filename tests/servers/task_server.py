"""An OpenAI-compatible chat server (127.0.0.1 only) that answers every prompt kind of every
CodeMind task, cheaply, for full-benchmark runs in CI.

Answers come from a table built from the benchmark's own programs (`TaskScript.add`), never
from executing anything, so a request costs a regex and a dict lookup:

- synthesis (DER, SR with/without/misleading test): the reference solution of the problem
  whose spec the prompt shows, in a ```python fence (so DER's later stages have items); for a
  class's method (ClassEval) the published class; for HumanEval-X Java the reference `Solution`
  class (without its printing Main) in a ```java fence;
- output prediction of a function program (CRUXEval-style `assert CALL == ??` prompts,
  Python): the dataset's label for that call, as an [ANSWER] block;
- output prediction of a function program (CodeMind's prompts, paper-era and latest): the
  label, between <<<Output>>> and [END-OF-RESPONSE];
- output prediction of a stdin program (CodeMind's paper-era and latest, and the direct-stdin
  prompts, Python and Java): the dataset's expected output, between <<<Output>>> and [END-OF-RESPONSE];
- input prediction (`assert NAME(??) == OUTPUT`): the program's own first input;
- DSR (`Refactor the code and generate a shorter version of it`): the unpadded original program
  (tests/servers/dsr_server.py; its table of padded programs is made on the first DSR prompt);
- trace questions (task trace: coverage, state, path, loops, output of a numbered program): read
  off the program's own trace (tests/servers/trace_server.py; it traces the programs on the
  first trace prompt).

Where the table has no entry the reply is a plausible fixed answer of the right form (`0`)
and the prompt is recorded under `kinds["...-fallback"]`; a prompt of no known kind gets "?"
and is recorded in `unknown`. Every request is counted by kind.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterable

from servers.dsr_server import DSR_Q, DSRScript

# the spec block of both synthesis prompts (with and without a test)
PROBLEM = re.compile(r"Problem:\s*\n```\n(.*?)\n```", re.S)
# CRUXEval-style prompts: the leading .* makes the match start at the last [PYTHON] block (the
# question, not the few-shot examples)
OUTPUT_Q = re.compile(r".*\[PYTHON\]\n(.*)\nassert (.*?) == \?\?\n\[/PYTHON\]\n\[ANSWER\]\n?\Z", re.S)
INPUT_Q = re.compile(r".*\[PYTHON\]\n(.*)\nassert (\w+)\(\?\?\) == (.*?)\n\[/PYTHON\]\n\[ANSWER\]\n?\Z", re.S)
# CodeMind's function prompt (--prompt codemind on function programs)
RETURN_Q = re.compile(r".*Consider the following code:\n(.*)\n\n\[Question\]\nWhat would be the return value of "
                      r"`(.*?)`\?\n", re.S)
# CodeMind's stdin prompts (Python and Java; "executiion" is theirs, kept byte-exact)
STDIN_Q = re.compile(r".*Consider the following code:\n(.*)\n\n\[Question\]\nWhat would be the output of code "
                     r"execu?tii?on given the following input:\n`(.*)`\nFirst analyze", re.S)
# the latest paper's prompts (repository HEAD: --prompt codemind-latest): no colon, triple backticks
LATEST_RETURN_Q = re.compile(r".*Consider the following code\n(.*)\n\[Question\]\nWhat would be the return value "
                             r"of ```(.*?)```\?\n\nFirst analyze", re.S)
LATEST_STDIN_Q = re.compile(r".*Consider the following code\n(.*)\n\[Question\]\nWhat would be the output of code "
                            r"execution given the following input:\n````(.*)```\n\nFirst analyze", re.S)
# direct-stdin prompts (ours): the last [PROGRAM] and [STDIN] blocks
DIRECT_STDIN_Q = re.compile(r".*\[PROGRAM\]\n(.*)\n\[/PROGRAM\]\n\[STDIN\]\n(.*)\n\[/STDIN\]\n<<<Output>>>\n?\Z",
                            re.S)
FALLBACK_CODE = "def f(*args):\n    return 0"
FALLBACK_JAVA = "class Solution {\n}"
JAVA_MAIN = "\n\npublic class Main {"


def _key(code: str) -> str:
    return code.strip()


@dataclass
class TaskScript:
    solutions: dict[str, str] = field(default_factory=dict)  # spec -> reference code
    outputs: dict[tuple[str, str], str] = field(default_factory=dict)  # (code, call or stdin) -> label
    calls: dict[str, str] = field(default_factory=dict)  # code -> the program's first call
    kinds: Counter = field(default_factory=Counter)  # prompt kind -> requests
    unknown: list[str] = field(default_factory=list)  # prompts of no known kind
    lock: threading.Lock = field(default_factory=threading.Lock)
    programs: list = field(default_factory=list)
    dsr: DSRScript | None = None
    trace: "TraceScript | None" = None  # noqa: F821

    def add(self, programs: Iterable) -> "TaskScript":
        """Table entries for these programs (codemind.schema.Program)."""
        programs = list(programs)
        self.programs += programs
        for p in programs:
            spec = (p.meta.get("spec") or "").strip("\n")
            if spec and p.language == "java":  # HumanEval-X Java: the Solution class, without the printing Main
                cut = p.source.rfind(JAVA_MAIN)
                self.solutions.setdefault(spec, p.source[:cut] if cut > 0 else p.source)
            elif spec:
                self.solutions.setdefault(spec, p.source)
            if p.meta.get("skeleton"):  # a class's method (ClassEval): the class as published
                self.solutions.setdefault(p.meta["skeleton"].strip("\n"), p.meta["class_source"])
            for inp in p.inputs:
                question = inp.call if inp.call is not None else inp.stdin
                if question is not None and inp.label is not None:
                    self.outputs.setdefault((_key(p.source), question), inp.label)
            if p.inputs and p.inputs[0].call:
                self.calls.setdefault(_key(p.source), p.inputs[0].call)
        return self

    def output_for(self, code: str, call: str | None, stdin: str | None) -> str | None:
        """The answer to an output question about `code` (a call's value or what it prints)."""
        return self.outputs.get((_key(code), call if call is not None else stdin))

    def _count(self, kind: str) -> None:
        with self.lock:
            self.kinds[kind] += 1

    def answer(self, prompt: str) -> str:
        if DSRScript.matches(prompt):
            with self.lock:
                if self.dsr is None:
                    self.dsr = DSRScript().add(self.programs)
            reply = self.dsr.answer(prompt)
            self._count("dsr" if self.dsr.table.get(DSR_Q.match(prompt).group(1).strip()) else "dsr-fallback")
            return reply
        from servers.trace_server import PROMPT as TRACE_Q, TraceScript  # it imports this module

        if TRACE_Q.match(prompt):
            with self.lock:
                if self.trace is None:
                    self.trace = TraceScript().add(self.programs)
            reply = self.trace.answer(prompt)
            self._count("trace" if reply != "?" else "trace-fallback")
            return reply
        m = PROBLEM.search(prompt)
        if m and ("write a Python function" in prompt or "complete the method" in prompt):
            code = self.solutions.get(m.group(1).strip("\n"))
            self._count("synthesis" if code is not None else "synthesis-fallback")
            return f"Here is the function:\n```python\n{code or FALLBACK_CODE}\n```"
        if m and "write a Java class" in prompt:
            code = self.solutions.get(m.group(1).strip("\n"))
            self._count("synthesis-java" if code is not None else "synthesis-java-fallback")
            return f"Here is the class:\n```java\n{code or FALLBACK_JAVA}\n```"
        m = INPUT_Q.match(prompt)
        if m:
            code, name, output = m.groups()
            call = self.calls.get(_key(code))
            self._count("input" if call is not None else "input-fallback")
            return f"[ANSWER]\nassert {call or name + '(0)'} == {output}\n[/ANSWER]"
        m = OUTPUT_Q.match(prompt) or RETURN_Q.match(prompt) or LATEST_RETURN_Q.match(prompt)
        if m:
            code, call = m.groups()
            value = self.output_for(code, call, None)
            self._count("output-function" if value is not None else "output-function-fallback")
            value = value if value is not None else "0"
            if m.re is not OUTPUT_Q:
                return f"<<<Analysis>>>\nIt returns {value}.\n<<<Output>>>\n{value}\n[END-OF-RESPONSE]"
            return f"[ANSWER]\nassert {call} == {value}\n[/ANSWER]"
        m = STDIN_Q.match(prompt) or DIRECT_STDIN_Q.match(prompt) or LATEST_STDIN_Q.match(prompt)
        if m:
            code, stdin = m.groups()
            value = self.output_for(code, None, stdin)
            self._count("output-stdin" if value is not None else "output-stdin-fallback")
            value = (value if value is not None else "0").rstrip("\n")
            return f"<<<Analysis>>>\nIt prints this.\n<<<Output>>>\n{value}\n[END-OF-RESPONSE]"
        self._count("unknown")
        with self.lock:
            self.unknown.append(prompt)
        return "?"


class TaskServer:
    """`with TaskServer(script) as url:` serves on 127.0.0.1 (a free port) until the block ends."""

    def __init__(self, script: TaskScript):
        self.script = script
        self.server: ThreadingHTTPServer | None = None

    def __enter__(self) -> str:
        script = self.script

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: the client reuses connections

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if "messages" in body:
                    prompt = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")
                    content = script.answer(prompt)
                    choice = {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
                    obj = "chat.completion"
                else:
                    content = script.answer(body.get("prompt") or "")
                    choice = {"index": 0, "finish_reason": "stop", "text": content}
                    obj = "text_completion"
                data = json.dumps({
                    "id": "x", "object": obj, "created": 0, "model": body.get("model", "scripted"),
                    "choices": [choice], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __exit__(self, *exc) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
