"""replay:FILE reads CRUXEval result files, CodeMind recordings and generic JSONL."""

from __future__ import annotations

import gzip
import json

import pytest

from codemind.errors import UserError
from codemind.models.replay import Replay, codemind_program_id
from codemind.schema import GenerationParams, GenRequest


def _req(pid, sample=0, inp=0):
    return GenRequest(item_key=f"{pid}#{inp}", sample_index=sample, prompt="", program_id=pid, input_index=inp)


def test_cruxeval_result_file(data_dir):
    path = data_dir / "cruxeval/evaluation_results/gpt-4o_temp0.2_output.json"
    backend = Replay(str(path), GenerationParams())
    gens = list(backend.generate([_req("sample_1", 2), _req("sample_1", 3), _req("sample_999")]))
    assert gens[0].text == "{1, 2}" and gens[0].pre_extracted
    assert gens[1].error_kind == "no_generation"  # gpt-4o has only 3 samples per problem
    assert gens[2].error_kind == "no_generation" and gens[2].text is None
    assert backend.benchmarks == {"cruxeval"}


def test_codemind_recording_keeps_only_the_scored_raw_run(data_dir):
    path = data_dir / "codemind/generations/gpt-3.5__codenet-java.jsonl.gz"
    backend = Replay(str(path), GenerationParams())
    records = [json.loads(line) for line in gzip.open(path, "rt")]
    scored = {r["item_id"]: r["raw"] for r in records if r["kind"] == "raw" and r["scored_run"]}
    assert len(backend.records) == len(scored) == 1829
    some = next(iter(scored))
    (gen,) = backend.generate([_req(some)])
    assert gen.text == scored[some] and not gen.pre_extracted
    missing = {r["item_id"] for r in records} - set(scored)
    (gen,) = backend.generate([_req(next(iter(missing)))])
    assert gen.error_kind == "no_generation"


def test_codemind_humaneval_ids_are_mapped(data_dir):
    backend = Replay(str(data_dir / "codemind/generations/gpt-4__humaneval.jsonl.gz"), GenerationParams())
    assert ("HumanEval/0", 0, 0) in backend.records
    assert codemind_program_id("MBPP", "554") == "554"


def test_generic_jsonl(tmp_path):
    p = tmp_path / "g.jsonl"
    p.write_text('{"item_id": "sample_0", "sample_index": 1, "text": "[1]"}\n{"item_id": "x", "text": "2"}\n')
    gens = list(Replay(str(p), GenerationParams()).generate([_req("sample_0", 1), _req("x"), _req("sample_0", 0)]))
    assert [g.text for g in gens] == ["[1]", "2", None]


@pytest.mark.parametrize(
    "content,message",
    [("{not json", "not valid JSON"), ('{"a": 1}', "expected a CRUXEval"), ('{"x": 1}\n{"y": 2}\n', "needs 'item_id'")],
)
def test_bad_files_are_user_errors(tmp_path, content, message):
    p = tmp_path / "bad.json"
    p.write_text(content)
    with pytest.raises(UserError, match=message):
        Replay(str(p), GenerationParams())


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="replay file not found"):
        Replay(str(tmp_path / "nope.json"), GenerationParams())
