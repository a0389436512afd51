"""The openai backend against real HTTP servers on 127.0.0.1: a fault-injecting stub
(retries, Retry-After, the cap, nothing lost or duplicated) and llama.cpp's server."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import pytest

from codemind.errors import UserError
from codemind.models.base import BACKENDS
from codemind.models.retry import RetryPolicy, parse_retry_after
from codemind.schema import GenerationParams, GenRequest
from servers.fault_server import FaultServer
from servers.llama_server import llama_server  # noqa: F401  (pytest fixture)


@pytest.fixture(autouse=True)
def _no_ambient_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


@pytest.fixture
def fault_server():
    # stalls far past the client timeout, and a timeout generous enough that a healthy
    # request on a loaded CI machine never hits it (attempt counts are asserted exactly)
    with FaultServer(stall_seconds=4.0) as srv:
        yield srv


@pytest.fixture
def short_stall_server():
    with FaultServer(stall_seconds=1.0) as srv:
        yield srv


def backend(base_url: str, params: GenerationParams | None = None, **options):
    opts = {"timeout": 1.5, "base_delay": 0.01, "max_delay": 0.05, "max_retries": 3}
    opts.update(options)
    return BACKENDS.get("openai")("fault-model", params or GenerationParams(), base_url=base_url, **opts)


def req(key: str, prompt: str, sample_index: int = 0, **kw) -> GenRequest:
    return GenRequest(item_key=key, sample_index=sample_index, prompt=prompt, **kw)


# ------------------------------------------------------------------ mapping


def test_chat_request_and_response_mapping(fault_server):
    params = GenerationParams(seed=10, max_tokens=33, stop=["A", "B"], temperature=0.7)
    b = backend(fault_server.base_url, params)
    reqs = [req("x", "hello", sample_index=2, system="SYS", stop=["B", "C"]), req("y", "bye", sample_index=0)]
    gens = {g.item_key: g for g in b.generate(reqs)}
    assert gens["x"].text == "chat|SYS|hello|seed=12|max=33|stop=A,B,C"
    assert gens["y"].text == "chat||bye|seed=10|max=33|stop=A,B"
    assert gens["x"].finish_reason == "stop"
    assert (gens["x"].prompt_tokens, gens["x"].completion_tokens) == (7, 3)
    assert gens["x"].latency > 0 and not gens["x"].cached and gens["x"].error_kind is None
    sent = fault_server.requests_for("hello")[0].body
    assert sent["temperature"] == 0.7 and sent["model"] == "fault-model"
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]


def test_completions_endpoint_and_unseeded(fault_server):
    b = backend(fault_server.base_url, GenerationParams(seed=None), endpoint="completions")
    assert b.chat is False
    (g,) = list(b.generate([req("k", "raw prompt")]))
    assert g.text == "text|raw prompt|seed=None|max=512|stop="
    assert g.finish_reason == "length"
    assert fault_server.requests_for("raw prompt")[0].path == "/v1/completions"


# ------------------------------------------------------------------ faults


def test_every_request_ends_as_exactly_one_generation(fault_server):
    """60 samples across every fault kind, 8 in flight: none lost, none duplicated, the
    transient ones recover, the persistent/fatal ones become api_error after the cap."""
    max_retries = 3
    kinds = ["", "[[fault:429*2]]", "[[fault:500*1]]", "[[fault:503*3]]", "[[fault:stall*1]]",
             "[[fault:badjson*2]]", "[[fault:drop*1]]", "[[fault:empty*1]]", "[[fault:503*all]]",
             "[[fault:400*1]]", "[[fault:drop*all]]", "[[fault:429*1]][[ra:0.2]]"]
    reqs = []
    for i in range(60):
        kind = kinds[i % len(kinds)]
        reqs.append(req(f"item{i // 3}", f"p{i} {kind}", sample_index=i % 3))
    random.Random(1).shuffle(reqs)
    b = backend(fault_server.base_url, max_concurrency=8, max_retries=max_retries)
    gens = list(b.generate(reqs))

    seen = Counter((g.item_key, g.sample_index) for g in gens)
    assert len(gens) == len(reqs)
    assert set(seen) == {(r.item_key, r.sample_index) for r in reqs}
    assert max(seen.values()) == 1

    by_key = {(g.item_key, g.sample_index): g for g in gens}
    for r in reqs:
        g = by_key[(r.item_key, r.sample_index)]
        attempts = fault_server.attempts(r.prompt)
        if "*all" in r.prompt:
            assert g.error_kind == "api_error" and g.text is None, r.prompt
            assert attempts == max_retries + 1, r.prompt
        elif "400" in r.prompt:
            assert g.error_kind == "api_error" and "HTTP 400" in g.error
            assert attempts == 1  # not retryable: no second attempt
        else:
            assert g.error_kind is None, (r.prompt, g.error)
            assert g.text == f"chat||{r.prompt}|seed={r.sample_index}|max=512|stop="
            planned = int(r.prompt.split("*")[1][0]) if "*" in r.prompt else 0
            assert attempts == planned + 1, r.prompt


def test_retry_after_seconds_is_honoured(fault_server):
    b = backend(fault_server.base_url)  # own backoff is at most 50 ms here
    (g,) = list(b.generate([req("k", "slow down [[fault:429*1]][[ra:1]]")]))
    assert g.error_kind is None
    first, second = fault_server.requests_for("slow down")
    assert first.fault == "429" and second.fault is None
    assert second.at - first.at >= 0.95


def test_retry_after_http_date_is_honoured(fault_server):
    b = backend(fault_server.base_url)
    (g,) = list(b.generate([req("k", "later [[fault:503*1]][[ra:date:2]]")]))
    assert g.error_kind is None
    first, second = fault_server.requests_for("later")
    assert second.at - first.at >= 0.9  # the date has 1 s resolution: 1..2 s ahead


def test_cap_turns_into_api_error_and_run_goes_on(fault_server):
    b = backend(fault_server.base_url, max_retries=2)
    gens = {g.item_key: g for g in b.generate([req("bad", "always [[fault:503*all]]"), req("good", "fine")])}
    assert gens["bad"].error_kind == "api_error" and "HTTP 503" in gens["bad"].error
    assert "attempts: 3" in gens["bad"].error
    assert len(fault_server.requests_for("always")) == 3
    assert gens["good"].text.startswith("chat||fine|")


def test_timeout_is_retried_then_capped(fault_server):
    b = backend(fault_server.base_url, max_retries=1, timeout=0.5)
    t0 = time.monotonic()
    (g,) = list(b.generate([req("k", "hang [[fault:stall*all]]")]))
    assert g.error_kind == "api_error" and "timed out" in g.error
    assert len(fault_server.requests_for("hang")) == 2
    assert time.monotonic() - t0 < 3.0  # bounded by our timeout, not by the 4 s stalls


def test_concurrency_is_bounded(short_stall_server):
    fault_server = short_stall_server
    b = backend(fault_server.base_url, max_concurrency=3, timeout=5.0)
    reqs = [req(f"k{i}", f"c{i} [[fault:stall*1]]") for i in range(6)]
    t0 = time.monotonic()
    gens = list(b.generate(reqs))
    elapsed = time.monotonic() - t0
    assert all(g.error_kind is None for g in gens)
    # six 1 s stalls through three slots need two waves
    assert elapsed >= 1.95


def test_stopping_early_cancels_and_cleans_up(short_stall_server):
    fault_server = short_stall_server
    before = threading.active_count()
    b = backend(fault_server.base_url, max_concurrency=2, timeout=5.0)
    it = b.generate([req(f"k{i}", f"e{i} [[fault:stall*1]]") for i in range(10)])
    first = next(it)
    assert first.error_kind is None
    it.close()
    deadline = time.monotonic() + 5
    while threading.active_count() > before + 2 and time.monotonic() < deadline:  # server handler threads linger
        time.sleep(0.05)
    assert not [t for t in threading.enumerate() if t.name == "codemind-openai"]
    assert len(fault_server.log) < 10


# ------------------------------------------------------------------ configuration


def test_configuration_errors(monkeypatch):
    B = BACKENDS.get("openai")
    p = GenerationParams()
    with pytest.raises(UserError, match="OPENAI_API_KEY"):
        B("gpt-4o", p)
    with pytest.raises(UserError, match="MY_KEY"):
        B("gpt-4o", p, api_key_env="MY_KEY")
    with pytest.raises(UserError, match="endpoint"):
        B("gpt-4o", p, base_url="http://127.0.0.1:9/v1", endpoint="embeddings")
    with pytest.raises(UserError, match="model name"):
        B("", p, base_url="http://127.0.0.1:9/v1")
    with pytest.raises(UserError, match="unknown option"):
        B("m", p, base_url="http://127.0.0.1:9/v1", max_concurency=3)
    monkeypatch.setenv("MY_KEY", "sk-test")
    assert B("gpt-4o", p, api_key_env="MY_KEY").api_key == "sk-test"
    local = B("m", p, base_url="http://127.0.0.1:9/v1")
    assert local.api_key and local.identity()["base_url"] == "http://127.0.0.1:9/v1"


def test_unreachable_server_is_api_error():
    b = backend("http://127.0.0.1:9/v1", max_retries=1)
    (g,) = list(b.generate([req("k", "nobody home")]))
    assert g.error_kind == "api_error" and "connection" in g.error


def test_parse_retry_after():
    assert parse_retry_after({"Retry-After": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "250", "Retry-After": "9"}) == 0.25
    assert parse_retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=1445412470.0) == 10.0
    assert parse_retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=1445412490.0) == 0.0
    assert parse_retry_after({"Retry-After": "soon"}) is None
    assert parse_retry_after({}) is None


def test_backoff_grows_with_jitter_and_caps():
    pol = RetryPolicy(max_retries=6, base_delay=0.5, max_delay=4.0, max_retry_after=10.0)
    rng = random.Random(0)
    for retry in range(8):
        ceiling = min(4.0, 0.5 * 2**retry)
        d = pol.backoff(retry, rng)
        assert ceiling / 2 <= d <= ceiling
    assert len({round(pol.backoff(3, rng), 6) for _ in range(20)}) > 1  # jittered
    assert pol.delay(0, 7.0, rng) == 7.0
    assert pol.delay(0, 3600.0, rng) == 10.0


# ------------------------------------------------------------------ a real server


def test_end_to_end_through_llama_cpp_server(llama_server):
    """Both endpoints against llama.cpp's own server running the embedded model."""
    params = GenerationParams(max_tokens=16, temperature=0.0, seed=0)
    comp = BACKENDS.get("openai")("gemma3-270m", params, base_url=llama_server, endpoint="completions",
                                  max_concurrency=2)
    reqs = [req("add", "def add(a, b):\n    return"), req("fr", "The capital of France is", sample_index=1)]
    gens = {g.item_key: g for g in comp.generate(reqs)}
    assert set(gens) == {"add", "fr"}
    for g in gens.values():
        assert g.error_kind is None, g.error
        assert g.finish_reason in ("stop", "length")
        assert 0 < g.completion_tokens <= 16 and g.prompt_tokens > 3
    assert "a + b" in gens["add"].text  # the real model answered, through the real server
    chat = BACKENDS.get("openai")("gemma3-270m", GenerationParams(max_tokens=4), base_url=llama_server)
    (c,) = list(chat.generate([req("c", "What is 2 + 2?", system="Be brief.")]))
    assert c.error_kind is None and isinstance(c.text, str) and c.completion_tokens <= 4
