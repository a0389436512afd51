"""The vllm backend up to the GPU boundary: parameter, prompt and output mapping and the
batch plan are pure functions tested here; the real model runs only where CUDA and vllm are."""

from __future__ import annotations

import importlib.util
import os
from types import SimpleNamespace

import jinja2
import pytest

from codemind.errors import UserError
from codemind.models.base import BACKENDS
from codemind.models.gencache import generation_key
from codemind.models.vllm_offline import (
    build_prompt,
    plan_batch,
    sampling_kwargs,
    to_generation,
)
from codemind.schema import GenerationParams, GenRequest

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
NO_SYSTEM = (  # like Gemma's: a system turn is an error
    "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('no system role') }}{% endif %}"
    "<start_of_turn>user\n{{ m['content'] }}<end_of_turn>\n{% endfor %}<start_of_turn>model\n"
)


def renderer(template: str):
    def raise_exception(msg):
        raise jinja2.TemplateError(msg)

    tpl = jinja2.Environment(keep_trailing_newline=True).from_string(template)
    return lambda messages: tpl.render(messages=messages, add_generation_prompt=True, raise_exception=raise_exception)


def req(key="k", prompt="What is f(1)?", sample_index=0, **kw) -> GenRequest:
    return GenRequest(item_key=key, sample_index=sample_index, prompt=prompt, **kw)


def test_sampling_kwargs_give_each_sample_its_seed():
    p = GenerationParams(temperature=0.2, top_p=0.9, max_tokens=64, stop=["[/ANSWER]"], n=4, seed=100)
    kws = [sampling_kwargs(p, req(sample_index=i, stop=["\n\n"])) for i in range(4)]
    assert [k["seed"] for k in kws] == [100, 101, 102, 103]
    assert kws[0] == {"n": 1, "temperature": 0.2, "top_p": 0.9, "max_tokens": 64,
                      "stop": ["[/ANSWER]", "\n\n"], "seed": 100}
    unseeded = sampling_kwargs(GenerationParams(seed=None), req())
    assert unseeded["seed"] is None and unseeded["stop"] is None


def test_prompt_raw_and_with_chat_template():
    r = req(prompt="Q", system="You are precise.")
    assert build_prompt(r, None) == "You are precise.\n\nQ"
    assert build_prompt(req(prompt="Q"), None) == "Q"
    assert build_prompt(r, renderer(CHATML)) == (
        "<|im_start|>system\nYou are precise.<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n"
    )
    # a template without a system role gets the system text folded into the user turn
    assert build_prompt(r, renderer(NO_SYSTEM)) == (
        "<start_of_turn>user\nYou are precise.\n\nQ<end_of_turn>\n<start_of_turn>model\n"
    )


def test_plan_batch_keeps_order_and_rejects_what_cannot_run():
    reqs = [req("a", "short"), req("b", "word " * 50), req("c", "also short", sample_index=1)]
    send, rejected = plan_batch(reqs, GenerationParams(seed=5), renderer(CHATML), lambda s: len(s.split()), 20)
    assert [r.item_key for r, _, _ in send] == ["a", "c"]
    assert send[1][2]["seed"] == 6 and send[0][1].startswith("<|im_start|>user\nshort")
    assert [(g.item_key, g.error_kind) for g in rejected] == [("b", "api_error")]
    assert "max_model_len is 20" in rejected[0].error

    def broken(messages):
        raise jinja2.TemplateError("bad template")

    send, rejected = plan_batch([req("d", "x")], GenerationParams(), broken, len, None)
    assert not send and "chat template failed" in rejected[0].error


def test_output_mapping_with_request_output_shape():
    ok = SimpleNamespace(
        prompt_token_ids=[1, 2, 3, 4],
        outputs=[SimpleNamespace(text="42", finish_reason="length", token_ids=[7, 8])],
        metrics=SimpleNamespace(arrival_time=10.0, finished_time=10.5),
    )
    g = to_generation(req("k", sample_index=3), ok)
    assert (g.item_key, g.sample_index, g.text, g.finish_reason) == ("k", 3, "42", "length")
    assert (g.prompt_tokens, g.completion_tokens, g.latency) == (4, 2, 0.5)
    stopped = SimpleNamespace(prompt_token_ids=None, outputs=[SimpleNamespace(text="", finish_reason="stop", token_ids=[])])
    g = to_generation(req(), stopped, latency=1.25)
    assert g.text == "" and g.finish_reason == "stop" and g.latency == 1.25 and g.error_kind is None
    assert to_generation(req(), SimpleNamespace(outputs=[])).error_kind == "api_error"
    aborted = SimpleNamespace(outputs=[SimpleNamespace(text="x", finish_reason="abort", token_ids=[1])])
    assert to_generation(req(), aborted).error_kind == "api_error"


def test_settings_are_in_identity_and_the_cache_key():
    B = BACKENDS.get("vllm")
    p = GenerationParams()
    a = B("Qwen/Qwen2.5-0.5B-Instruct", p)
    ident = a.identity()
    for key in ("model", "dtype", "max_model_len", "gpu_memory_utilization", "tensor_parallel_size", "chat"):
        assert key in ident
    b = B("Qwen/Qwen2.5-0.5B-Instruct", p, max_model_len=2048)
    assert generation_key(a, req()) != generation_key(b, req())
    with pytest.raises(UserError, match="unknown option"):
        B("m", p, max_len=3)
    with pytest.raises(UserError, match="needs a model"):
        B("", p)


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed here")
def test_missing_vllm_is_a_user_error():
    b = BACKENDS.get("vllm")("some/model", GenerationParams())
    with pytest.raises(UserError, match="vllm"):
        list(b.generate([req()]))


def _gpu_reason() -> str | None:
    if importlib.util.find_spec("vllm") is None:
        return "vllm is not installed (pip install 'codemind[vllm]' on a CUDA machine)"
    if importlib.util.find_spec("torch") is None:
        return "torch is not installed"
    import torch

    if not torch.cuda.is_available():
        return "no CUDA GPU (torch.cuda.is_available() is False)"
    return None


@pytest.mark.gpu
def test_real_model_on_gpu():
    reason = _gpu_reason()
    if reason:
        pytest.skip(reason)
    model = os.environ.get("CODEMIND_VLLM_MODEL", "Qwen/Qwen2.5-0.5B-Instruct")
    params = GenerationParams(temperature=0.0, max_tokens=16, seed=0, n=2)
    b = BACKENDS.get("vllm")(model, params, max_model_len=2048, gpu_memory_utilization=0.5)
    reqs = [req(f"q{i}", f"What is {i} + {i}? Answer with a number.", sample_index=s) for i in range(4) for s in range(2)]
    gens = list(b.generate(reqs))
    assert sorted((g.item_key, g.sample_index) for g in gens) == sorted((r.item_key, r.sample_index) for r in reqs)
    assert all(g.error_kind is None and g.text for g in gens)
    assert all(g.finish_reason in ("stop", "length") for g in gens)
    greedy = {(g.item_key, g.sample_index): g.text for g in gens}
    assert all(greedy[(f"q{i}", 0)] == greedy[(f"q{i}", 1)] for i in range(4))  # temperature 0
