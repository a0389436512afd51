"""The code paths that make million-sample runs fast (benchmarks/perf/scale.py measures them):
RunDir.done's byte scan, the report's columnar accuracy table, codemind.load's index joins,
and the llama.cpp prefix grouping. Each is checked against the general path it replaces."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from codemind.models.llamacpp import PREFIX_ALIGN, PREFIX_MIN_SUFFIX, prefix_groups
from codemind.report.metrics import _columnar_report, build_report, load_samples, metrics, metrics_frame
from codemind.schema import RunManifest, Sample
from codemind.store.load import _left_join
from codemind.store.rundir import RunDir, done_keys, read_samples


def _manifest():
    return RunManifest(config={"benchmark": "cruxeval", "model": "replay:x.json"}, config_hash="abc", created="now",
                       codemind_version="0", packages={}, data={}, prompts={}, sandbox={})


def _sample(key, idx, correct=True, outcome=None, program="p", stage=None, task="ier"):
    return Sample(item_key=key, benchmark="cruxeval", language="python", task=task, stage=stage, program_id=program,
                  input_index=0, prompt_id="x", prompt_hash="h", sample_index=idx, raw='say "sample_index": 9',
                  extracted="1", expected="1", outcome=outcome or ("correct" if correct else "wrong_value"),
                  correct=correct)


def test_done_keys_equal_parsing_every_line(tmp_path):
    rd = RunDir(tmp_path)
    rd.open(_manifest())
    rd.append([_sample("a", 0), _sample('we"ird\\key/ü', 3), _sample("a", 12345), _sample("b", 7)])
    with open(rd.samples_path, "a", encoding="utf-8") as f:
        # another writer's key order, spaces, and a torn last line
        f.write(json.dumps({"sample_index": 4, "outcome": "correct", "item_key": "c"}) + "\n")
        f.write('{"item_key": "d", "sample_index": 5}\n')
        f.write('{"item_key":"e","benchmark":"x","sample_index":6')
    expected = {(s["item_key"], s["sample_index"]) for s in read_samples(rd.samples_path)}
    assert done_keys(rd.samples_path) == expected == {
        ("a", 0), ('we"ird\\key/ü', 3), ("a", 12345), ("b", 7), ("c", 4), ("d", 5)}
    keys = [k for k, _ in done_keys(rd.samples_path) if k == "a"]
    assert keys[0] is keys[1]  # one string per item key


def _run(tmp_path, samples):
    rd = RunDir(tmp_path / "run")
    rd.open(_manifest())
    rd.append(samples)
    return rd.path


def _mixed():
    out = []
    for i in range(60):
        outcome = ["correct", "wrong_value", "no_answer", "timeout"][i % 4]
        out.append(_sample(f"cruxeval/s{i % 7}#0/ier", i // 7, correct=outcome == "correct", outcome=outcome,
                           program=f"s{i % 7}"))
    return out


@pytest.mark.parametrize("by", [[], ["sample_index"], ["program_id"], ["item_key", "outcome"], ["model"]])
def test_columnar_report_equals_the_general_one(tmp_path, by):
    run = _run(tmp_path, _mixed())
    fast = _columnar_report(run, by, seed=3, n_boot=200)
    slow = metrics(load_samples([run]), by=by, seed=3, n_boot=200)
    assert fast is not None
    assert json.dumps(fast) == json.dumps(slow)  # same rows, same order, same key order


def test_columnar_report_adds_stages_and_steps_aside(tmp_path):
    run = _run(tmp_path, [_sample("k1", 0, stage="a"), _sample("k1", 1, stage="b", correct=False),
                          _sample("k2", 0, stage="a")])
    fast = build_report([run])
    assert [r["group"] for r in fast["metrics"]] == [{"stage": "a"}, {"stage": "b"}]
    # features, an unknown field, several tasks: the general path (sample dicts)
    assert _columnar_report(run, ["construct"], 0, 10) is None
    assert _columnar_report(run, ["nonexistent"], 0, 10) is None
    run2 = _run(tmp_path / "two", [_sample("k", 0), _sample("k2", 0, task="input")])
    assert _columnar_report(run2, [], 0, 10) is None


def test_metrics_frame_handles_missing_values():
    rows = [dict(benchmark="b", language="python", task="ier", program_id="p", outcome="correct", correct=True,
                 x=None), dict(benchmark="b", language="python", task="ier", program_id="q", outcome="wrong_value",
                                correct=False, x=2), dict(benchmark="b", language="python", task="ier", program_id="q",
                                                          outcome="correct", correct=True, x=2)]
    assert metrics_frame(pd.DataFrame(rows), by=["x"]) == metrics(rows, by=["x"])


def test_left_join_equals_merge():
    df = pd.DataFrame({"a": ["x", "y", None, "x", "z"], "b": [1, 2, 3, 1, 9], "v": range(5)})
    right = pd.DataFrame({"a": ["x", "y", None], "b": [1, 2, 3], "f": [0.5, 1.5, 2.5], "g": ["u", None, "w"], "h": [True, False, True], "i": [1, 2, 3]})
    pd.testing.assert_frame_equal(_left_join(df, right, ["a", "b"]), df.merge(right, on=["a", "b"], how="left"))


def test_prefix_groups():
    head = list(range(1000, 1200))  # 200 shared tokens
    a, b, c = head + [1] * 50, head + [2] * 60, head + [3] * 40
    other = [7] * 300
    groups = dict((tuple(m), p) for m, p in prefix_groups([a, None, b, other, c]))
    p = groups[(0, 2, 4)]
    assert p % PREFIX_ALIGN == 0 and p <= 200 and p == 192
    assert groups[(3,)] == 0 and groups[(1,)] == 0  # alone: no prefix; no tokens: asked as is
    # every member keeps PREFIX_MIN_SUFFIX tokens after the prefix
    short = head + [5]
    groups = prefix_groups([a, short])
    assert groups == [([0, 1], (len(short) - PREFIX_MIN_SUFFIX) // PREFIX_ALIGN * PREFIX_ALIGN)]
    # nothing shared at all: one group each, no prefix
    assert sorted(prefix_groups([[1] * 100, [2] * 100])) == [([0], 0), ([1], 0)]
    assert prefix_groups([]) == []


def test_done_from_the_reports_cached_columns(tmp_path, monkeypatch):
    import codemind.store.rundir as rundir

    monkeypatch.setenv("CODEMIND_CACHE_DIR", str(tmp_path / "cache"))
    run = _run(tmp_path, _mixed())
    rd = RunDir(run)
    assert build_report([run])["metrics"][0]["n"] == 60  # parses the file, caches its small columns
    monkeypatch.setattr(rundir, "CACHED_DONE_BYTES", 0)
    monkeypatch.setattr(rundir, "done_keys", lambda path: pytest.fail("file read despite the cache"))
    assert rd.done() == {(s.item_key, s.sample_index) for s in _mixed()}
    # the report again, from the cache: the same
    assert build_report([run]) == metrics(load_samples([run]))
    # an append changes the file: the cache no longer applies
    monkeypatch.undo()
    monkeypatch.setattr(rundir, "CACHED_DONE_BYTES", 0)
    monkeypatch.setenv("CODEMIND_CACHE_DIR", str(tmp_path / "cache"))
    rd.append([_sample("new", 0)])
    assert ("new", 0) in rd.done()
