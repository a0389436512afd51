"""`openai:MODEL`: any OpenAI-compatible server through the official async client.

The pipeline is synchronous, so the asyncio loop runs in a background thread and
finished Generations come back through a queue: `generate` stays a plain iterator
that yields each sample as soon as it is done, while up to ``max_concurrency``
requests are in flight. Retries are ours alone (the client's are switched off) so
the policy in `retry.py` is the only one: 429/5xx/timeouts/dropped connections/
malformed bodies are retried with backoff and Retry-After, up to a cap, after
which that one sample becomes an ``api_error`` Generation and the run goes on.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import random
import threading
import time
from typing import Any, Iterable, Iterator

from codemind.errors import UserError
from codemind.models.base import Backend, chat_messages, sampling_args
from codemind.models.retry import RETRYABLE_STATUS, RetryPolicy, parse_retry_after
from codemind.schema import GenerationParams, GenRequest, Generation

PLACEHOLDER_KEY = "sk-no-key-needed"
_DONE = object()
_OPTIONS = {
    "base_url",
    "api_key_env",
    "max_concurrency",
    "endpoint",
    "timeout",
    "max_retries",
    "base_delay",
    "max_delay",
    "max_retry_after",
    "send_seed",
    "max_tokens_param",
}


class MalformedResponse(Exception):
    """The server answered 200 but not with a usable completion."""


def classify_error(exc: BaseException) -> tuple[bool, float | None, str]:
    """(retryable, server-advised delay, one-line description) for a failed attempt."""
    import openai

    if isinstance(exc, openai.APIStatusError):
        headers = dict(exc.response.headers) if exc.response is not None else {}
        message = " ".join(str(exc.message).split())[:300]
        return exc.status_code in RETRYABLE_STATUS, parse_retry_after(headers), f"HTTP {exc.status_code}: {message}"
    if isinstance(exc, (openai.APITimeoutError, TimeoutError)):
        return True, None, "request timed out"
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        return True, None, f"connection error: {type(cause).__name__}: {cause}"[:300]
    if isinstance(exc, (json.JSONDecodeError, openai.APIResponseValidationError, MalformedResponse)):
        return True, None, f"malformed response: {exc}"[:300]
    return False, None, f"{type(exc).__name__}: {exc}"[:300]


class OpenAIBackend(Backend):
    """Options: base_url, api_key_env, max_concurrency (16), endpoint ("chat" | "completions"),
    timeout (s per attempt, 600), max_retries (6), base_delay (0.5), max_delay (30),
    max_retry_after (120), send_seed (True), max_tokens_param ("max_tokens")."""

    name = "openai"
    allowed_options = frozenset(_OPTIONS)

    def __init__(self, model: str, params: GenerationParams, **options: Any):
        super().__init__(model, params, **options)
        options = self.options
        if not model:
            raise UserError("openai backend needs a model name: --model openai:MODEL")
        self.base_url: str | None = options.get("base_url") or os.environ.get("OPENAI_BASE_URL") or None
        self.api_key = self._resolve_key(options.get("api_key_env"))
        endpoint = options.get("endpoint", "chat")
        if endpoint not in ("chat", "completions"):
            raise UserError(f"openai backend: endpoint must be 'chat' or 'completions', not {endpoint!r}")
        self.endpoint: str = endpoint
        self.chat = endpoint == "chat"
        self.max_concurrency = int(options.get("max_concurrency", 16))
        if self.max_concurrency < 1:
            raise UserError("openai backend: max_concurrency must be >= 1")
        self.timeout = float(options.get("timeout", 600.0))
        self.policy = RetryPolicy(
            max_retries=int(options.get("max_retries", 6)),
            base_delay=float(options.get("base_delay", 0.5)),
            max_delay=float(options.get("max_delay", 30.0)),
            max_retry_after=float(options.get("max_retry_after", 120.0)),
        )
        self.send_seed = bool(options.get("send_seed", True))
        self.max_tokens_param = options.get("max_tokens_param", "max_tokens")
        if self.max_tokens_param not in ("max_tokens", "max_completion_tokens"):
            raise UserError("openai backend: max_tokens_param must be max_tokens or max_completion_tokens")

    def _resolve_key(self, api_key_env: str | None) -> str:
        env_name = api_key_env or "OPENAI_API_KEY"
        key = os.environ.get(env_name)
        if key:
            return key
        if api_key_env:
            raise UserError(f"openai backend: environment variable {api_key_env} (from --api-key-env) is not set")
        if self.base_url:
            return PLACEHOLDER_KEY  # local OpenAI-compatible servers need no key
        raise UserError("openai backend: no API key; set OPENAI_API_KEY, --api-key-env NAME, or --base-url")

    def identity(self) -> dict:
        return {
            "backend": self.name,
            "model": self.model,
            "base_url": self.base_url or "https://api.openai.com/v1",
            "endpoint": self.endpoint,
            "seeded": self.send_seed,
        }

    # ------------------------------------------------------------ sync facade

    def generate(self, requests: Iterable[GenRequest]) -> Iterator[Generation]:
        todo = list(requests)
        if not todo:
            return
        out: queue.SimpleQueue = queue.SimpleQueue()
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="codemind-openai", daemon=True)
        thread.start()
        future = asyncio.run_coroutine_threadsafe(self._run(todo, out), loop)
        finished = False
        try:
            while True:
                item = out.get()
                if item is _DONE:
                    finished = True
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            if not finished:  # consumer stopped early or failed: cancel and wait for cleanup
                future.cancel()
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    try:
                        if out.get(timeout=0.5) is _DONE:
                            break
                    except queue.Empty:
                        if future.done() and not thread.is_alive():
                            break
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=30)
            if not thread.is_alive():
                loop.close()

    # ------------------------------------------------------------ async core

    def make_client(self):
        from openai import AsyncOpenAI

        return AsyncOpenAI(api_key=self.api_key, base_url=self.base_url, max_retries=0, timeout=self.timeout)

    async def _run(self, todo: list[GenRequest], out: queue.SimpleQueue) -> None:
        try:
            client = self.make_client()
        except BaseException as exc:  # bad configuration surfaces in the caller's thread
            out.put(exc)
            out.put(_DONE)
            return
        rng = random.Random()
        it = iter(todo)

        async def worker() -> None:
            for req in it:  # one loop thread: sharing the iterator is safe
                out.put(await self._one(client, req, rng))

        try:
            await asyncio.gather(*(worker() for _ in range(min(self.max_concurrency, len(todo)))))
        except Exception as exc:  # a bug, not a request failure
            out.put(exc)
        finally:
            try:
                await client.close()
            finally:
                out.put(_DONE)

    async def _one(self, client, req: GenRequest, rng: random.Random) -> Generation:
        start = time.perf_counter()
        retry = 0
        while True:
            try:
                async with asyncio.timeout(self.timeout + 1.0):  # hard bound, also for trickling bodies
                    fields = await self._attempt(client, req)
                return Generation(
                    item_key=req.item_key,
                    sample_index=req.sample_index,
                    latency=time.perf_counter() - start,
                    **fields,
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                retryable, retry_after, detail = classify_error(exc)
                if not retryable or retry >= self.policy.max_retries:
                    return Generation(
                        item_key=req.item_key,
                        sample_index=req.sample_index,
                        text=None,
                        error_kind="api_error",
                        error=f"{detail} (attempts: {retry + 1})",
                        latency=time.perf_counter() - start,
                    )
                await asyncio.sleep(self.policy.delay(retry, retry_after, rng))
                retry += 1

    def request_kwargs(self, req: GenRequest) -> dict[str, Any]:
        """The sampling arguments sent with one request (shared by both endpoints)."""
        args = sampling_args(self.params, req)
        kwargs: dict[str, Any] = {
            "model": self.model,
            "temperature": args["temperature"],
            "top_p": args["top_p"],
            self.max_tokens_param: args["max_tokens"],
        }
        if args["stop"]:
            kwargs["stop"] = args["stop"]
        if self.send_seed and args["seed"] is not None:
            kwargs["seed"] = args["seed"]
        return kwargs

    async def _attempt(self, client, req: GenRequest) -> dict[str, Any]:
        kwargs = self.request_kwargs(req)
        if self.chat:
            resp = await client.chat.completions.create(messages=chat_messages(req), **kwargs)
        else:
            resp = await client.completions.create(prompt=req.prompt, **kwargs)
        choices = getattr(resp, "choices", None)
        if not choices:
            raise MalformedResponse("no choices in response")
        choice = choices[0]
        if self.chat:
            message = getattr(choice, "message", None)
            if message is None:
                raise MalformedResponse("no message in the first choice")
            text = getattr(message, "content", None) or ""  # None: the model said nothing
        else:
            text = getattr(choice, "text", None)
        if not isinstance(text, str):
            raise MalformedResponse("no text in the first choice")
        usage = getattr(resp, "usage", None)
        return {
            "text": text,
            "finish_reason": getattr(choice, "finish_reason", None),
            "prompt_tokens": getattr(usage, "prompt_tokens", None),
            "completion_tokens": getattr(usage, "completion_tokens", None),
        }
