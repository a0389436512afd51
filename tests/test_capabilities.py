"""Backends declare what the pipeline may know about them (Capabilities), the generation
cache forwards it, and the pipeline and the notebook loader act on it alone, never on a
backend's name."""

from __future__ import annotations

import json
from typing import Iterable, Iterator

import pytest
from codemind.config import RunConfig
from codemind.errors import UserError
from codemind.models.base import BACKENDS, Backend, Capabilities, label_of_spec
from codemind.models.gencache import CachedBackend, GenCache
from codemind.schema import GenerationParams, Generation, GenRequest


class EchoProbe(Backend):
    """A backend the pipeline has never heard of: answers every item with its expected
    output inside a code fence, and declares the rest through options."""

    name = "echo-probe"
    allowed_options = frozenset({"max_concurrency", "lenient", "cacheable", "only", "answer"})

    @property
    def capabilities(self) -> Capabilities:
        only = self.options.get("only")
        return Capabilities(chat=True, extraction="lenient" if self.options.get("lenient", True) else "exact",
                            cacheable=self.options.get("cacheable", True),
                            benchmarks=frozenset({only}) if only else None, label=f"probe<{self.model}>")

    def generate(self, requests: Iterable[GenRequest]) -> Iterator[Generation]:
        for r in requests:
            text = self.options.get("answer", "```\n[1, 2]\n```")
            yield Generation(item_key=r.item_key, sample_index=r.sample_index, text=text, finish_reason="stop")



BACKENDS.register("echo-probe", EchoProbe)

def test_each_backend_declares_its_capabilities(data_dir, tmp_path):
    replay = BACKENDS.get("replay")(str(data_dir / "codemind/generations/gpt-4__mbpp.jsonl.gz"), GenerationParams())
    caps = replay.capabilities
    assert (caps.chat, caps.extraction, caps.cacheable, caps.benchmarks, caps.label) == (
        True, "exact", False, frozenset({"mbpp"}), "gpt-4__mbpp")
    chat = BACKENDS.get("openai")("gpt-x", GenerationParams(), base_url="http://127.0.0.1:9/v1")
    comp = BACKENDS.get("openai")("gpt-x", GenerationParams(), base_url="http://127.0.0.1:9/v1", endpoint="completions")
    assert (chat.capabilities.extraction, comp.capabilities.extraction) == ("lenient", "exact")
    assert chat.capabilities.cacheable and chat.capabilities.benchmarks is None
    assert chat.capabilities.label == "openai:gpt-x"
    gguf = tmp_path / "models" / "tiny.gguf"  # loaded lazily: the path is all it needs here
    gguf.parent.mkdir()
    gguf.write_bytes(b"GGUF")
    llama = BACKENDS.get("llamacpp")(str(gguf), GenerationParams(), chat=False)
    assert llama.capabilities.label == "llamacpp:tiny.gguf" and llama.capabilities.extraction == "exact"


def test_labels_of_specs_come_from_the_backend_classes():
    assert label_of_spec("replay:/data/gpt-4-0613_temp0.2_output.json") == "gpt-4-0613_temp0.2_output"
    assert label_of_spec("vllm:/models/Qwen2.5-7B") == "vllm:Qwen2.5-7B"
    assert label_of_spec("llamacpp:qwen2.5-coder-0.5b") == "llamacpp:qwen2.5-coder-0.5b"
    assert label_of_spec("openai:gpt-4o") == "openai:gpt-4o"
    assert label_of_spec("nosuch:thing") == "nosuch:thing" and label_of_spec(None) == "?"


def test_the_cache_forwards_capabilities(tmp_path):
    inner = EchoProbe("m", GenerationParams(), lenient=False, only="mbpp")
    cached = CachedBackend(inner, GenCache(tmp_path / "g.sqlite"))
    assert cached.capabilities == inner.capabilities
    assert not hasattr(Backend, "inner")


def test_pipeline_acts_on_capabilities_only(data_dir):
    from codemind.pipeline import _check_benchmark_supported, extractor_for, make_backend

    config = RunConfig(benchmark="cruxeval", model="echo-probe:m", model_args={"cacheable": False, "only": "mbpp"})
    backend = make_backend(config, 64, [])
    assert type(backend) is EchoProbe  # not cacheable: not wrapped
    with pytest.raises(UserError, match="echo-probe:m holds generations for mbpp, not cruxeval"):
        _check_benchmark_supported(backend, config)
    _check_benchmark_supported(backend, config.model_copy(update={"benchmark": "mbpp-full"}))  # same family

    class It:
        extractor = "cruxeval-output-direct"

    for args, auto in (({}, "cruxeval-output-direct-lenient"), ({"lenient": False}, "cruxeval-output-direct")):
        b = make_backend(RunConfig(benchmark="cruxeval", model="echo-probe:m", model_args=args, no_cache=True), 64, [])
        assert extractor_for(It, RunConfig(benchmark="cruxeval"), b) == auto
        assert extractor_for(It, RunConfig(benchmark="cruxeval", extraction="exact"), b) == "cruxeval-output-direct"


def test_run_records_label_and_capabilities_and_load_reads_them(data_dir, tmp_path):
    pytest.importorskip("pandas")
    from codemind.pipeline import run
    from codemind.store.load import load

    config = RunConfig(benchmark="cruxeval", limit=2, sandbox="process", model="echo-probe:m",
                       model_args={"answer": "[ANSWER]nothing[/ANSWER]"}, out=tmp_path / "run")
    result = run(config)
    manifest = json.loads((result.out / "manifest.json").read_text())
    assert manifest["model_label"] == "probe<m>"
    assert manifest["capabilities"]["extraction"] == "lenient" and manifest["capabilities"]["cacheable"] is True
    assert manifest["config"]["model_args"] == {"answer": "[ANSWER]nothing[/ANSWER]"}
    df = load(result.out, features=False)
    assert df["model_label"].unique().tolist() == ["probe<m>"]  # recorded, not derived from the spec
    assert df["model"].unique().tolist() == ["echo-probe:m"]
