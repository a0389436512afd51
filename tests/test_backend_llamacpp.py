"""The embedded llama.cpp backend with real models, in-process: the default Qwen2.5-Coder
0.5B Instruct (chat, the GGUF's own template) and Gemma 3 270M (a base model: completion)."""

from __future__ import annotations

import importlib.util
import os

import pytest

from codemind.config import RunConfig
from codemind.errors import UserError
from codemind.models import gguf
from codemind.models.base import BACKENDS
from codemind.models.llamacpp import DEFAULT_ALIAS, DEFAULT_MODEL_SPEC, resolve_model_path, sha256_file
from codemind.schema import GenerationParams, GenRequest


def _backend(alias: str, **params):
    """The alias's backend; without llama-cpp-python (or its model: no network, no cache)
    the test is skipped, except under CI=true, where setup-llamacpp.sh provides both."""
    reason = None
    if importlib.util.find_spec("llama_cpp") is None:
        reason = "llama_cpp is not installed (run .ci/setup-llamacpp.sh)"
    else:
        try:
            return BACKENDS.get("llamacpp")(alias, GenerationParams(**params))
        except UserError as e:
            reason = f"model {alias or DEFAULT_ALIAS} unavailable: {e}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def gemma():
    b = _backend("gemma3-270m", temperature=0.0, max_tokens=24, seed=0)
    yield b
    b.close()


@pytest.fixture(scope="module")
def coder():
    b = _backend("", temperature=0.0, max_tokens=12, seed=0)  # empty: the default alias
    yield b
    b.close()


def req(key: str, prompt: str, **kw) -> GenRequest:
    return GenRequest(item_key=key, sample_index=kw.pop("sample_index", 0), prompt=prompt, **kw)


def test_default_is_the_measured_coder_model():
    # the strongest alias whose `make install` evaluation fits in 5 minutes on 2 cores
    assert DEFAULT_ALIAS == "qwen2.5-coder-0.5b" and DEFAULT_MODEL_SPEC == "llamacpp:qwen2.5-coder-0.5b"
    assert RunConfig(benchmark="cruxeval").model == DEFAULT_MODEL_SPEC


def test_default_spec_resolves_to_the_pinned_gguf(coder):
    entry = gguf.aliases()[DEFAULT_ALIAS]
    assert coder.model == DEFAULT_ALIAS and coder.path == gguf.cached_path(entry)
    assert coder.path.stat().st_size == entry.size and sha256_file(coder.path) == entry.sha256
    ident = coder.identity()
    assert ident["sha256"] == entry.sha256 and ident["backend"] == "llamacpp" and ident["n_ctx"] == 4096
    assert ident["chat"] is True and ident["chat_format"] is None


def test_coder_answers_in_chat_with_its_own_template(coder):
    assert coder.chat and coder.capabilities.extraction == "lenient"
    reqs = [
        req("rep", "What does print('ab' * 2) print? Answer with the output only."),
        req("len", "What is len('hello')? Answer with the number only.", system="You are a Python expert."),
    ]
    first = {g.item_key: g for g in coder.generate(reqs)}
    # llama-cpp-python renders the GGUF's tokenizer.chat_template (Qwen's ChatML with its
    # default system prompt): not byte-identical to its built-in "chatml", so not guessed as it
    assert coder.load().chat_format == "chat_template.default"
    assert first["rep"].error_kind is None and first["rep"].text.strip() == "abab"
    assert first["len"].error_kind is None and first["len"].text.strip() == "5"
    assert all(g.finish_reason == "stop" and 15 < g.prompt_tokens < 80 for g in first.values())
    assert {g.item_key: g.text for g in coder.generate(reqs)} == {k: g.text for k, g in first.items()}


def test_gemma_resolves_to_its_pinned_gguf(gemma):
    entry = gguf.aliases()["gemma3-270m"]
    assert sha256_file(resolve_model_path("gemma3-270m")) == entry.sha256
    assert gemma.identity()["sha256"] == entry.sha256 and gemma.identity()["chat"] is False


def test_completion_is_real_and_reproducible(gemma):
    assert gemma.chat is False  # a base model: raw completion
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


def test_a_file_that_is_no_model_is_one_user_error(tmp_path):
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama_cpp is not installed")
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a model\n" * 100)
    with pytest.raises(UserError, match="llama.cpp could not load .*junk.gguf") as err:
        BACKENDS.get("llamacpp")(str(junk), GenerationParams()).load()
    assert "\n" not in str(err.value)


def test_bad_configuration():
    B = BACKENDS.get("llamacpp")
    with pytest.raises(UserError, match="no GGUF file"):
        B("/nonexistent/model.gguf", GenerationParams())
    with pytest.raises(UserError, match="unknown option"):
        B("gemma3-270m", GenerationParams(), n_ctxx=5)


def _cruxeval_requests(n: int):
    """The first n CRUXEval IER requests exactly as `codemind run --benchmark cruxeval` builds
    them (benchmarks/perf/embedded.py: the pipeline's own functions, process sandbox)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "perf" / "embedded.py"
    spec = importlib.util.spec_from_file_location("perf_embedded", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cruxeval_requests(n)


def test_prefix_state_gives_the_plain_path_outputs():
    # the shared prefix state (default) against every request from an empty context, on real
    # prompts, greedy: the same text token for token, in any request order
    reqs, params = _cruxeval_requests(3)
    params = params.model_copy(update={"temperature": 0.0, "max_tokens": 24})
    _backend("", **params.model_dump()).close()  # skipped without llama_cpp or the model
    plain = BACKENDS.get("llamacpp")("", params, prefix_cache=False, batch=1)
    fast = BACKENDS.get("llamacpp")("", params, batch=1)  # one request at a time, as the plain path
    assert fast.prefix_cache and not plain.prefix_cache
    assert fast.identity() == plain.identity()  # outputs do not depend on it: not part of the identity
    try:
        want = {g.item_key: g.text for g in plain.generate(reqs)}
        got = {g.item_key: g.text for g in fast.generate(reqs)}
        assert len(fast.load()._prefix) >= 128  # the template's few-shot prefix was shared
        again = {g.item_key: g.text for g in fast.generate(reqs[::-1])}
        alone = {g.item_key: g.text for g in fast.generate(reqs[1:2])}  # alone, from the kept state
    finally:
        plain.close()
        fast.close()
    assert None not in want.values()
    assert got == want and again == want and alone == {reqs[1].item_key: want[reqs[1].item_key]}


def test_batched_decoding_depends_on_the_prompt_alone():
    # greedy requests are decoded together (default batch 16); a request's text is the same
    # in any order, with any batch-mates, with fewer slots, and alone
    reqs, params = _cruxeval_requests(9)
    params = params.model_copy(update={"temperature": 0.0, "max_tokens": 16})
    _backend("", **params.model_dump()).close()
    b16 = BACKENDS.get("llamacpp")("", params)
    b8 = BACKENDS.get("llamacpp")("", params, batch=8)
    assert b16.batched and b16.batch == 16 and b8.batch == 8
    assert b16.identity()["decode"] == "batched:rows>=8" and b8.identity() == b16.identity()
    try:
        want = {g.item_key: g for g in b16.generate(reqs)}
        b8._llm = b16.load()  # the same weights; its own batched context
        reverse = {g.item_key: g.text for g in b8.generate(reqs[::-1])}  # 9 requests in 8 slots
        alone = {g.item_key: g.text for g in b16.generate(reqs[4:5])}
        mixed = {g.item_key: g.text for g in b16.generate(reqs[6:] + reqs[:3])}
    finally:
        b16.close()
    assert all(g.error_kind is None and 0 < g.completion_tokens <= 16 for g in want.values())
    texts = {k: g.text for k, g in want.items()}
    assert reverse == texts
    assert alone == {reqs[4].item_key: texts[reqs[4].item_key]}
    assert mixed == {k: texts[k] for k in mixed} and len(mixed) == 6


def test_a_moved_sequence_decodes_as_if_it_had_stayed():
    # the last sequences of a batch move down to the lowest free slots (a step's rows are
    # slots 0..R-1): the stream is copied cell for cell, so its tokens and logits do not change
    import llama_cpp
    import numpy as np

    from codemind.models.llamacpp_batch import BatchDecoder

    reqs, params = _cruxeval_requests(2)
    backend = _backend("", temperature=0.0)
    llm = backend.load()
    prompt = backend._tokens(llm, reqs[1])
    engine = BatchDecoder(llama_cpp, llm, 8, 1024)

    def run(moves: dict[int, int]) -> list:
        slot, token, got = 5, None, []
        token = engine.start(slot, prompt, 0)
        for k in range(8):
            if k in moves:
                engine.move(slot, moves[k])
                slot = moves[k]
            token = engine.step({slot: (token, len(prompt) + k)})[slot]
            got.append((token, engine.logits(slot).copy()))
        engine.lib.llama_memory_seq_rm(engine.mem, slot, -1, -1)
        return got

    try:
        stayed, moved = run({}), run({2: 0, 5: 3})
    finally:
        engine.close()
        backend.close()
    assert [t for t, _ in moved] == [t for t, _ in stayed]
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(moved, stayed))


def test_replayed_tokens_give_llama_cpp_pythons_own_text():
    # the batched path turns its tokens into text by replaying them through llama-cpp-python's
    # completion (chat template stop criteria, stop strings, end of generation, max_tokens):
    # the plain path's tokens replayed give the plain path's generation; one token short, the
    # completion asks for more
    from codemind.models.llamacpp import _NeedMore

    reqs, params = _cruxeval_requests(3)
    params = params.model_copy(update={"temperature": 0.0, "max_tokens": 48})
    assert params.stop  # the prompt's stop strings are in play
    backend = _backend("", **params.model_dump())
    backend.batch = 1
    llm = backend.load()
    seen: list[int] = []
    generate = llm.generate

    def recording(*args, **kwargs):
        for token in generate(*args, **kwargs):
            seen.append(token)
            yield token

    try:
        for r in reqs:
            prompt = backend._tokens(llm, r)
            seen.clear()
            llm.generate = recording
            plain = backend._one(llm, r)
            del llm.generate
            tokens = list(seen)
            llm._replay = (prompt, tokens)
            try:
                replayed = backend._complete(llm, r, 0.0)
                llm._replay = (prompt, tokens[:-1])
                with pytest.raises(_NeedMore):
                    backend._complete(llm, r, 0.0)
            finally:
                llm._replay = None
            assert plain.error_kind is None and plain.text
            for field in ("text", "finish_reason", "prompt_tokens", "completion_tokens"):
                assert getattr(replayed, field) == getattr(plain, field), field
    finally:
        backend.close()


def test_batch_option():
    _backend("gemma3-270m")  # skipped without llama_cpp or the model
    B = BACKENDS.get("llamacpp")
    greedy, sampled = GenerationParams(temperature=0.0), GenerationParams(temperature=0.7)
    for bad in (0, 2, 6, 9, "x", -8):
        with pytest.raises(UserError, match="batch must be 1 .* or a multiple of 4 from 8"):
            B("gemma3-270m", greedy, batch=bad)
    one = B("gemma3-270m", greedy, batch="1")
    assert not one.batched and "decode" not in one.identity()  # one at a time: the identity of before
    assert B("gemma3-270m", greedy, batch="12").batched
    sampling = B("gemma3-270m", sampled)
    assert not sampling.batched and "decode" not in sampling.identity()  # sampling: one at a time
