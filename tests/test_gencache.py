"""The generation cache, counted on the server side of a real local HTTP server."""

from __future__ import annotations

from pathlib import Path

import pytest

from codemind.models.base import BACKENDS
from codemind.models.gencache import CachedBackend, GenCache, default_cache_path, generation_key
from codemind.schema import GenerationParams, GenRequest
from servers.fault_server import FaultServer


@pytest.fixture
def server():
    with FaultServer() as srv:
        yield srv


@pytest.fixture
def cache(tmp_path):
    c = GenCache(tmp_path / "gen.sqlite")
    yield c
    c.close()


def openai_backend(base_url: str, **params) -> object:
    p = GenerationParams(temperature=0.8, **params)
    return BACKENDS.get("openai")("m", p, base_url=base_url, max_retries=0, timeout=2.0)


def requests(n: int, prompts=("alpha", "beta", "gamma")) -> list[GenRequest]:
    return [GenRequest(item_key=f"item-{p}", sample_index=i, prompt=p) for p in prompts for i in range(n)]


def run(server, cache, n: int, **params):
    cb = CachedBackend(openai_backend(server.base_url, n=n, **params), cache)
    before = server.count()
    gens = list(cb.generate(requests(n)))
    return gens, server.count() - before, cb


def test_more_samples_only_asks_for_the_new_ones(server, cache):
    gens5, calls5, _ = run(server, cache, 5)
    assert calls5 == 15 and len(cache) == 15
    assert not any(g.cached for g in gens5)

    gens10, calls10, cb = run(server, cache, 10)
    assert calls10 == 15  # exactly samples 5..9 of each of the 3 prompts
    assert (cb.hits, cb.misses) == (15, 15)
    assert sorted((g.item_key, g.sample_index) for g in gens10 if g.cached) == sorted(
        (g.item_key, g.sample_index) for g in gens5
    )
    assert len({(g.item_key, g.sample_index) for g in gens10}) == 30

    again, calls_again, cb = run(server, cache, 10)
    assert calls_again == 0 and all(g.cached for g in again) and cb.hits == 30
    by_key = {(g.item_key, g.sample_index): g.text for g in gens10}
    assert {(g.item_key, g.sample_index): g.text for g in again} == by_key
    # samples differ (each its own seed) but each one is kept
    assert len({by_key[("item-alpha", i)] for i in range(10)}) == 10


def test_cached_fields_round_trip(server, cache):
    (first,) = [g for g in run(server, cache, 1)[0] if g.item_key == "item-alpha"]
    (hit,) = [g for g in run(server, cache, 1)[0] if g.item_key == "item-alpha"]
    assert hit.cached and not first.cached
    for field in ("text", "finish_reason", "prompt_tokens", "completion_tokens", "latency"):
        assert getattr(hit, field) == getattr(first, field)


def test_failures_are_not_cached(server, cache):
    backend = openai_backend(server.base_url)
    cb = CachedBackend(backend, cache)
    bad = [GenRequest(item_key="x", sample_index=0, prompt="boom [[fault:503*all]]")]
    assert [g.error_kind for g in cb.generate(bad)] == ["api_error"]
    assert len(cache) == 0
    assert [g.error_kind for g in cb.generate(bad)] == ["api_error"]
    assert server.attempts("boom [[fault:503*all]]") == 2  # asked again, not served from cache


def test_what_changes_the_key(server, cache):
    base = openai_backend(server.base_url)
    r = GenRequest(item_key="a", sample_index=0, prompt="p")
    k = generation_key(base, r)
    assert generation_key(openai_backend(server.base_url, n=7), r) == k  # n is not part of it
    assert generation_key(base, r.model_copy(update={"item_key": "b"})) == k  # same question, same answer
    for changed in (
        generation_key(openai_backend(server.base_url, seed=1), r),
        generation_key(openai_backend(server.base_url, max_tokens=5), r),
        generation_key(base, r.model_copy(update={"sample_index": 1})),
        generation_key(base, r.model_copy(update={"system": "s"})),
        generation_key(base, r.model_copy(update={"stop": ["\n"]})),
        generation_key(base, r.model_copy(update={"prompt": "q"})),
        generation_key(BACKENDS.get("openai")("other", base.params, base_url=server.base_url), r),
        generation_key(BACKENDS.get("openai")("m", base.params, base_url="http://127.0.0.1:1/v1"), r),
    ):
        assert changed != k


def test_cache_persists_and_honours_env_dir(server, tmp_path, monkeypatch):
    monkeypatch.setenv("CODEMIND_CACHE_DIR", str(tmp_path / "cc"))
    assert default_cache_path() == tmp_path / "cc" / "generations.sqlite"
    c1 = GenCache()
    list(CachedBackend(openai_backend(server.base_url), c1).generate(requests(2)))
    c1.close()
    assert Path(tmp_path / "cc" / "generations.sqlite").is_file()
    before = server.count()
    c2 = GenCache()
    gens = list(CachedBackend(openai_backend(server.base_url), c2).generate(requests(2)))
    c2.close()
    assert server.count() == before and all(g.cached for g in gens)
