"""Run directory: append-only samples, torn-tail repair, config mismatch refused."""

from __future__ import annotations

import json

import pytest

from codemind.errors import UserError
from codemind.schema import RunManifest, Sample
from codemind.store.rundir import RunDir, repair_torn_tail


def _manifest(config_hash="abc", **config):
    return RunManifest(config={"benchmark": "cruxeval", **config}, config_hash=config_hash, created="now",
                       codemind_version="0", packages={}, data={}, prompts={}, sandbox={})


def _sample(key="k", idx=0, correct=True):
    return Sample(item_key=key, benchmark="cruxeval", language="python", task="ier", program_id="p", input_index=0,
                  prompt_id="x", prompt_hash="h", sample_index=idx, raw="1", extracted="1", expected="1",
                  outcome="correct" if correct else "wrong_value", correct=correct)


def test_append_and_done(tmp_path):
    rd = RunDir(tmp_path / "run")
    assert rd.open(_manifest()) == set()
    rd.append([_sample("a", 0), _sample("a", 1), _sample("b", 0)])
    assert RunDir(tmp_path / "run").open(_manifest()) == {("a", 0), ("a", 1), ("b", 0)}
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["config_hash"] == "abc"


def test_torn_last_line_is_cut(tmp_path):
    rd = RunDir(tmp_path)
    rd.open(_manifest())
    rd.append([_sample("a", 0), _sample("b", 0)])
    with open(rd.samples_path, "a") as f:
        f.write('{"item_key": "c", "sample_ind')  # killed mid-write
    assert len(rd.samples()) == 2  # readers skip the torn line without touching the file
    assert rd.open(_manifest()) == {("a", 0), ("b", 0)}
    assert rd.samples_path.read_text().endswith("}\n")
    rd.append([_sample("c", 0)])
    assert [s["item_key"] for s in rd.samples()] == ["a", "b", "c"]


def test_repair_of_file_without_any_newline(tmp_path):
    p = tmp_path / "samples.jsonl"
    p.write_text('{"partial": ')
    assert repair_torn_tail(p) == len('{"partial": ')
    assert p.read_text() == ""


def test_different_config_is_refused(tmp_path):
    RunDir(tmp_path).open(_manifest("abc", model="replay:a"))
    with pytest.raises(UserError, match="different configuration.*model"):
        RunDir(tmp_path).open(_manifest("xyz", model="replay:b"))


def test_not_a_run_dir(tmp_path):
    with pytest.raises(UserError, match="no samples.jsonl"):
        RunDir(tmp_path).samples()
    (tmp_path / "manifest.json").write_text("garbage")
    with pytest.raises(UserError, match="not a CodeMind run manifest"):
        RunDir(tmp_path).open(_manifest())


def test_a_run_is_resumed_only_with_its_decoding(tmp_path):
    # llamacpp's batched greedy decoding became the default: a run begun one request at a
    # time is not continued batched (nor the other way), which would mix two decodings
    one_at_a_time = _manifest().model_copy(update={"backend": {"backend": "llamacpp"}})
    batched = _manifest().model_copy(update={"backend": {"backend": "llamacpp", "decode": "batched:rows>=8"}})
    RunDir(tmp_path / "old").open(one_at_a_time)
    with pytest.raises(UserError, match=r"decoded one request at a time \(--model-arg batch=1\); resume it the same way"):
        RunDir(tmp_path / "old").open(batched)
    assert RunDir(tmp_path / "old").open(one_at_a_time) == set()
    RunDir(tmp_path / "new").open(batched)
    with pytest.raises(UserError, match="decoded batched:rows>=8"):
        RunDir(tmp_path / "new").open(one_at_a_time)
    assert RunDir(tmp_path / "new").open(batched) == set()
