"""A scripted OpenAI-compatible chat server for end-to-end task tests (127.0.0.1 only).

It answers synthesis prompts with the reference solution of the problem whose spec the
prompt shows, output-prediction prompts with the true output of the code it shows, and
input-prediction prompts with the true input, or, with `wrong=True`, with deliberately
wrong code and values. Answers come from a table the test builds by running the reference
programs itself, independently of the harness's sandbox.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROBLEM = re.compile(r"Problem:\s*\n```\n(.*?)\n```", re.S)
# the leading .* makes the match start at the last [PYTHON] block (the question, not the examples)
OUTPUT_Q = re.compile(r".*\[PYTHON\]\n(.*)\nassert (.*?) == \?\?\n\[/PYTHON\]\n\[ANSWER\]\n?\Z", re.S)
INPUT_Q = re.compile(r".*\[PYTHON\]\n(.*)\nassert (\w+)\(\?\?\) == (.*?)\n\[/PYTHON\]\n\[ANSWER\]\n?\Z", re.S)


@dataclass
class Script:
    solutions: dict[str, str] = field(default_factory=dict)  # spec -> reference code
    outputs: dict[tuple[str, str], str] = field(default_factory=dict)  # (code, call) -> repr of result
    inputs: dict[tuple[str, str], str] = field(default_factory=dict)  # (code, output) -> call
    wrong: bool = False
    requests: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)

    def answer(self, prompt: str) -> str:
        self.requests.append(prompt)
        m = PROBLEM.search(prompt)
        if m and "write a Python function" in prompt:
            code = self.solutions.get(m.group(1).strip("\n"))
            if code is None:
                self.unanswered.append(prompt)
                return "I don't know."
            if self.wrong:
                code = re.sub(r"(def \w+\(.*?\).*?:)", r"\1\n    return None", code, count=1)
            return f"Here is the function:\n```python\n{code}\n```"
        m = INPUT_Q.search(prompt)
        if m:
            code, name, output = m.groups()
            call = self.inputs.get((code, output))
            if call is None:
                self.unanswered.append(prompt)
                return "[ANSWER]\nassert f(0) == 0\n[/ANSWER]"
            if self.wrong:
                call = f"{name}(None)"
            return f"[ANSWER]\nassert {call} == {output}\n[/ANSWER]"
        m = OUTPUT_Q.search(prompt)
        if m:
            code, call = m.groups()
            value = self.outputs.get((code, call))
            if value is None:
                self.unanswered.append(prompt)
                return "[ANSWER]\nassert x == 0\n[/ANSWER]"
            if self.wrong:
                value = repr(("definitely", "wrong"))
            return f"[ANSWER]\nassert {call} == {value}\n[/ANSWER]"
        self.unanswered.append(prompt)
        return "?"


def serve(script: Script) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            prompt = body["messages"][-1]["content"]
            reply = {
                "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": script.answer(prompt)}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"
