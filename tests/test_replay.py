"""replay:FILE reads CRUXEval result files, CodeMind recordings and generic JSONL; each of
CodeMind's 21 recordings, run with its paper evaluation, gives exactly the authors' rate over
the authors' denominator."""

from __future__ import annotations

import gzip
import json
import os

import pytest
from docker_helpers import need_docker

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


def test_codemind_recording_declares_every_item_of_its_run_as_its_scope(data_dir):
    """FILE_NOT_FOUND items are in scope (no generation, counted wrong); a program the file has
    no line for is not (the GPT Avatar-Java files have no codeforces_334_A)."""
    gpt = Replay(str(data_dir / "codemind/generations/gpt-4__avatar-java.jsonl.gz"), GenerationParams())
    assert len(gpt.capabilities.programs) == 85 and "codeforces_334_A" not in gpt.capabilities.programs
    assert "programs" not in gpt.capabilities.model_dump()  # the manifest names what was left out instead
    gpt35 = Replay(str(data_dir / "codemind/generations/gpt-3.5__codenet-java.jsonl.gz"), GenerationParams())
    assert len(gpt35.capabilities.programs) == 1914 and len(gpt35.records) == 1829
    crux = Replay(str(data_dir / "cruxeval/evaluation_results/gpt-4o_temp0.2_output.json"), GenerationParams())
    assert crux.capabilities.programs is None


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


# ---------------------------------------------------------------- the authors' exact rates, all 21 files

MODELS = ("gpt-4", "gpt-3.5", "magicoder")
CHEAP = ("cruxeval", "humaneval", "mbpp", "avatar-python", "avatar-java")
# ~1,900 programs each: 1.5-2 minutes of ground truth apiece on 2 cores, so the scheduled job runs them
COSTLY = ("codenet-python", "codenet-java")
FILES = [pytest.param(model, dataset, marks=[pytest.mark.slow] if dataset in COSTLY else [], id=f"{model}__{dataset}")
         for dataset in CHEAP + COSTLY for model in MODELS]  # fmt: skip
SANDBOX = os.environ.get("CODEMIND_TEST_SANDBOX", "process")


def _authors(path) -> dict[str, bool]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return {codemind_program_id(r["benchmark"], r["item_id"]): r["judged_correct_by_authors"]
                for r in map(json.loads, f)}  # fmt: skip


@pytest.mark.parametrize("model,dataset", FILES)
def test_paper_eval_gives_the_authors_rate_over_their_denominator(data_dir, tmp_path, model, dataset):
    """`codemind run --eval codemind-ier-<dataset>-paper --model replay:<file>`: numerator and
    denominator are the file's count of judged_correct_by_authors and its number of items, on
    the same items with the same verdict each. Items whose program does not run here (Python 2,
    compile errors, raising calls) or that the adapter excluded (AVATAR inputs over the byte
    cap) are asked and judged on the label only, as the authors did."""
    from codemind.evals.spec import load_eval
    from codemind.evals.suite_run import eval_config
    from codemind.pipeline import run

    path = data_dir / "codemind" / "generations" / f"{model}__{dataset}.jsonl.gz"
    sandbox = SANDBOX
    if dataset.endswith("-java"):
        need_docker()
        sandbox = "docker"
    out = tmp_path / "run"
    run(eval_config(load_eval(f"codemind-ier-{dataset}-paper"), {"model": f"replay:{path}", "sandbox": sandbox}, out))
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    authors = _authors(path)
    ours = {s["program_id"]: s["correct"] for s in samples}
    assert (sum(ours.values()), len(samples)) == (sum(authors.values()), len(authors))
    assert ours == authors
    # the manifest says which items were judged on the label only, and they are exactly the
    # samples whose ground truth did not run or was excluded
    manifest = json.loads((out / "manifest.json").read_text())
    usage = manifest["usable_programs"]["ier"]
    only = [s for s in samples if s["ground_truth"] in ("does_not_run", "excluded")]
    assert usage["items"] == len(samples) and usage.get("label_only", {}).get("items", 0) == len(only)
    assert all(s["expected"] is None for s in only)
    assert all(s["detail"].startswith("judged on the label only") for s in only if s["outcome"] != "no_generation")
    if dataset.startswith("avatar"):  # 5 inputs over the prompt byte cap, all wrong for the authors
        assert usage["label_only"]["by_ground_truth"]["excluded"] == 5
    outside = manifest.get("programs_outside_backend", [])
    assert outside == (["codeforces_334_A"] if dataset == "avatar-java" and model != "magicoder" else [])
