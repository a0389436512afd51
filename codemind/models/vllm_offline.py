"""`vllm:PATH_OR_NAME`: offline batched generation with vLLM on a local GPU.

vLLM is fast when it sees every prompt at once (continuous batching, prefix caching),
so `generate` collects all requests and makes one `LLM.generate` call. Each sample is
its own request with its own seed (params.seed + sample_index), which keeps sample
indices and the generation cache aligned with the other backends. vllm is imported only
when a model is loaded; the mapping around it (parameters, prompts, outputs, prompts
that do not fit) is pure functions, tested without a GPU.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable, Iterator, Sequence

from codemind.errors import UserError
from codemind.models.base import Backend, chat_messages, installed_version, path_label, sampling_args
from codemind.schema import GenerationParams, GenRequest, Generation

_ENGINE_DEFAULTS: dict[str, Any] = {
    "dtype": "auto",
    "max_model_len": 4096,
    "gpu_memory_utilization": 0.85,
    "tensor_parallel_size": 1,
    "quantization": None,
    "enforce_eager": False,
    "trust_remote_code": False,
    "enable_prefix_caching": True,
}
# max_concurrency is accepted (the pipeline passes it to every backend) and ignored:
# vLLM schedules the whole batch itself.
_OPTIONS = set(_ENGINE_DEFAULTS) | {"chat", "download_dir", "max_concurrency"}

RenderChat = Callable[[list[dict[str, str]]], str]


# ---------------------------------------------------------------- pure mapping


def sampling_kwargs(params: GenerationParams, req: GenRequest) -> dict[str, Any]:
    """GenerationParams + one request -> keyword arguments of vllm.SamplingParams."""
    return {"n": 1, **sampling_args(params, req)}


def build_prompt(req: GenRequest, render_chat: RenderChat | None) -> str:
    """The text vLLM sees: the chat template applied when there is one, else the raw prompt.

    Templates that refuse a system role (Gemma, Mistral) get it folded into the user turn."""
    if render_chat is None:
        return f"{req.system}\n\n{req.prompt}" if req.system else req.prompt
    try:
        return render_chat(chat_messages(req))
    except Exception:
        if not req.system:
            raise
        return render_chat(chat_messages(req, system_role=False))


def too_long(prompt_tokens: int, max_model_len: int | None) -> str | None:
    """Why a prompt cannot be generated from (vLLM rejects the whole batch for one), or None."""
    if max_model_len is not None and prompt_tokens >= max_model_len:
        return f"prompt has {prompt_tokens} tokens; max_model_len is {max_model_len}"
    return None


def to_generation(req: GenRequest, output: Any, latency: float | None = None) -> Generation:
    """vllm.RequestOutput (first completion) -> Generation."""
    completions = getattr(output, "outputs", None) or []
    if not completions:
        return Generation(item_key=req.item_key, sample_index=req.sample_index, text=None,
                          error_kind="api_error", error="vllm returned no completion")
    first = completions[0]
    finish = getattr(first, "finish_reason", None)
    if finish == "abort":
        return Generation(item_key=req.item_key, sample_index=req.sample_index, text=None,
                          error_kind="api_error", error="vllm aborted the request")
    prompt_ids = getattr(output, "prompt_token_ids", None)
    token_ids = getattr(first, "token_ids", None)
    return Generation(
        item_key=req.item_key,
        sample_index=req.sample_index,
        text=first.text,
        finish_reason=finish,
        prompt_tokens=len(prompt_ids) if prompt_ids is not None else None,
        completion_tokens=len(token_ids) if token_ids is not None else None,
        latency=_metrics_latency(output) if latency is None else latency,
    )


def _metrics_latency(output: Any) -> float | None:
    metrics = getattr(output, "metrics", None)
    start = getattr(metrics, "arrival_time", None)
    end = getattr(metrics, "finished_time", None) or getattr(metrics, "last_token_time", None)
    if isinstance(start, (int, float)) and isinstance(end, (int, float)) and end >= start:
        return float(end - start)
    return None


def error_generation(req: GenRequest, error: str) -> Generation:
    return Generation(item_key=req.item_key, sample_index=req.sample_index, text=None,
                      error_kind="api_error", error=error[:500])


def plan_batch(
    requests: Sequence[GenRequest],
    params: GenerationParams,
    render_chat: RenderChat | None,
    count_tokens: Callable[[str], int],
    max_model_len: int | None,
) -> tuple[list[tuple[GenRequest, str, dict[str, Any]]], list[Generation]]:
    """Split requests into (request, prompt, sampling kwargs) to send and ready api_errors."""
    send: list[tuple[GenRequest, str, dict[str, Any]]] = []
    rejected: list[Generation] = []
    for req in requests:
        try:
            prompt = build_prompt(req, render_chat)
        except Exception as exc:
            rejected.append(error_generation(req, f"chat template failed: {type(exc).__name__}: {exc}"))
            continue
        reason = too_long(count_tokens(prompt), max_model_len)
        if reason:
            rejected.append(error_generation(req, reason))
            continue
        send.append((req, prompt, sampling_kwargs(params, req)))
    return send, rejected


# ---------------------------------------------------------------- the backend


class VllmBackend(Backend):
    """Options (engine settings, all recorded in identity()): dtype, max_model_len (4096),
    gpu_memory_utilization (0.85), tensor_parallel_size, quantization, enforce_eager,
    trust_remote_code, enable_prefix_caching, download_dir; chat (True: use the tokenizer's
    chat template when it has one)."""

    name = "vllm"
    allowed_options = frozenset(_OPTIONS)

    def __init__(self, model: str, params: GenerationParams, **options: Any):
        if not model:
            raise UserError("vllm backend needs a model: --model vllm:PATH_OR_HF_NAME")
        super().__init__(model, params, **options)
        options = self.options
        self.engine = {k: options.get(k, v) for k, v in _ENGINE_DEFAULTS.items()}
        self.download_dir = options.get("download_dir")
        self.chat = bool(options.get("chat", True))
        self._llm = None

    @classmethod
    def label_for(cls, model: str) -> str:
        return path_label(cls.name, model)

    def identity(self) -> dict:
        return {"backend": self.name, "model": self.model, "chat": self.chat, **self.engine,
                "vllm": installed_version("vllm")}

    def load(self):
        if self._llm is None:
            try:
                from vllm import LLM
            except ImportError as exc:
                raise UserError(f"vllm is not usable here ({exc}); install it with pip install 'codemind[vllm]' on a CUDA machine") from None
            kwargs = {k: v for k, v in self.engine.items() if v is not None}
            if self.download_dir:
                kwargs["download_dir"] = self.download_dir
            try:
                self._llm = LLM(model=self.model, seed=self.params.seed or 0, **kwargs)
            except Exception as exc:
                raise UserError(f"vllm could not load {self.model!r}: {type(exc).__name__}: {exc}".splitlines()[0]) from None
        return self._llm

    def _render_chat(self, tokenizer) -> RenderChat | None:
        if not self.chat or not getattr(tokenizer, "chat_template", None):
            return None
        return lambda messages: tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def generate(self, requests: Iterable[GenRequest]) -> Iterator[Generation]:
        todo = list(requests)
        if not todo:
            return
        llm = self.load()
        from vllm import SamplingParams

        tokenizer = llm.get_tokenizer()
        send, rejected = plan_batch(
            todo,
            self.params,
            self._render_chat(tokenizer),
            lambda text: len(tokenizer.encode(text, add_special_tokens=False)),
            self.engine.get("max_model_len"),
        )
        yield from rejected
        if not send:
            return
        prompts = [prompt for _, prompt, _ in send]
        sampling = [SamplingParams(**kw) for _, _, kw in send]
        start = time.perf_counter()
        try:
            outputs = llm.generate(prompts, sampling, use_tqdm=False)
        except Exception as exc:  # one failure of the batch: every sample in it is an api_error
            msg = f"vllm: {type(exc).__name__}: {exc}"
            for req, _, _ in send:
                yield error_generation(req, msg)
            return
        elapsed = time.perf_counter() - start
        if len(outputs) != len(send):
            for req, _, _ in send:
                yield error_generation(req, f"vllm returned {len(outputs)} outputs for {len(send)} prompts")
            return
        for (req, _, _), out in zip(send, outputs):
            gen = to_generation(req, out)
            if gen.latency is None and gen.error_kind is None:
                gen = gen.model_copy(update={"latency": elapsed})
            yield gen

    def close(self) -> None:
        self._llm = None
