"""A small OpenAI-compatible server that injects faults, for testing the openai backend.

Faults are chosen per prompt by directives in the prompt text, so a test decides
deterministically what each request meets no matter the order requests arrive in:

    [[fault:429*2]]   the first 2 attempts of this prompt get 429 (then it answers)
    [[fault:503*all]] every attempt gets 503
    [[ra:1]]          Retry-After header value for this prompt's 429/503 ("date:2" = HTTP date 2 s ahead)

Kinds: 429, 500, 503 (with Retry-After when [[ra:..]] is given; 429 always has one), 400
(not retryable), stall (sleeps past the client timeout), badjson (200 with a broken
body), empty (200 with no choices), drop (closes the connection without answering).
Correct answers echo what the request asked so tests can check the mapping:
chat -> "chat|<system>|<prompt>|seed=<seed>|max=<max_tokens>|stop=<stops joined by ,>",
completions -> "text|<prompt>|seed=...|max=...|stop=...".
Every request is logged (prompt, fault, monotonic time) for server-side counting.
"""

from __future__ import annotations

import email.utils
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_FAULT = re.compile(r"\[\[fault:([a-z0-9]+)\*(\d+|all)\]\]")
_RA = re.compile(r"\[\[ra:([^\]]+)\]\]")


@dataclass
class LoggedRequest:
    path: str
    prompt: str
    fault: str | None
    at: float
    body: dict = field(default_factory=dict)


def expected_text(body: dict) -> tuple[str, str]:
    """The answer a correct response carries for a request body, and the prompt it came from."""
    tail = f"seed={body.get('seed')}|max={body.get('max_tokens')}|stop={','.join(body.get('stop') or [])}"
    if "messages" in body:
        msgs = body["messages"]
        system = next((m["content"] for m in msgs if m["role"] == "system"), "")
        prompt = next((m["content"] for m in msgs if m["role"] == "user"), "")
        return f"chat|{system}|{prompt}|{tail}", prompt
    prompt = body.get("prompt", "")
    return f"text|{prompt}|{tail}", prompt


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True


class FaultServer:
    """Start with ``with FaultServer() as srv:``; ``srv.base_url`` ends in /v1."""

    def __init__(self, stall_seconds: float = 2.0):
        self.stall_seconds = stall_seconds
        self.log: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._attempts: dict[str, int] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                self._send(200, {"object": "list", "data": [{"id": "fault-model", "object": "model"}]})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    self._send(400, {"error": {"message": "bad json"}})
                    return
                owner._handle(self, body)

            def _send(self, status: int, payload, headers: dict | None = None, raw: bytes | None = None):
                data = raw if raw is not None else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError, OSError):
                    self.close_connection = True

        self._httpd = _Server(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # -------------------------------------------------------------- lifecycle

    def __enter__(self) -> "FaultServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # -------------------------------------------------------------- queries

    def requests_for(self, needle: str) -> list[LoggedRequest]:
        with self._lock:
            return [r for r in self.log if needle in r.prompt]

    def attempts(self, prompt: str) -> int:
        """How many requests arrived with exactly this prompt."""
        with self._lock:
            return sum(1 for r in self.log if r.prompt == prompt)

    def count(self) -> int:
        with self._lock:
            return len(self.log)

    # -------------------------------------------------------------- behaviour

    def _handle(self, h, body: dict) -> None:
        answer, prompt = expected_text(body)
        with self._lock:
            attempt = self._attempts.get(prompt, 0)
            self._attempts[prompt] = attempt + 1
        fault = None
        m = _FAULT.search(prompt)
        if m and (m.group(2) == "all" or attempt < int(m.group(2))):
            fault = m.group(1)
        with self._lock:
            self.log.append(LoggedRequest(h.path, prompt, fault, time.monotonic(), body))

        headers = {}
        ra = _RA.search(prompt)
        if ra:
            value = ra.group(1)
            if value.startswith("date:"):
                value = email.utils.formatdate(time.time() + float(value[5:]), usegmt=True)
            headers["Retry-After"] = value
        if fault == "429":
            headers.setdefault("Retry-After", "0")
            h._send(429, {"error": {"message": "rate limited", "type": "rate_limit"}}, headers)
        elif fault in ("500", "503", "400"):
            h._send(int(fault), {"error": {"message": f"injected {fault}"}}, headers)
        elif fault == "stall":
            time.sleep(self.stall_seconds)
            h._send(200, self._completion(body, answer))
        elif fault == "badjson":
            h._send(200, None, raw=b'{"id": "x", "choices": [{"text": "trunc')
        elif fault == "empty":
            h._send(200, {"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": []})
        elif fault == "drop":
            h.close_connection = True
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        else:
            h._send(200, self._completion(body, answer))

    @staticmethod
    def _completion(body: dict, answer: str) -> dict:
        usage = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
        if "messages" in body:
            return {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model", "m"),
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}
                ],
                "usage": usage,
            }
        return {
            "id": "cmpl-1",
            "object": "text_completion",
            "created": 0,
            "model": body.get("model", "m"),
            "choices": [{"index": 0, "text": answer, "finish_reason": "length", "logprobs": None}],
            "usage": usage,
        }
