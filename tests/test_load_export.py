"""Notebook API and Parquet export on run directories built from published generations
(CRUXEval result files; Avatar-Java programs) in the Sample schema, plus a torn last line."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

import codemind  # noqa: E402
from codemind.errors import UserError  # noqa: E402
from codemind.schema import Sample  # noqa: E402


def write_run(out: Path, model: str, config: dict, data: dict, samples: list[Sample]) -> Path:
    """A run directory as `codemind run` writes it (manifest.json + samples.jsonl)."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = {"config": {**config, "model": model}, "config_hash": hashlib.sha256(model.encode()).hexdigest()[:16],
                "created": "2026-01-01T00:00:00+00:00", "codemind_version": "0.1.0", "packages": {}, "data": data,
                "prompts": {}, "sandbox": {"name": "none"}}
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "samples.jsonl").write_text("".join(s.model_dump_json() + "\n" for s in samples))
    return out


def cruxeval_run(out: Path, data_dir: Path, result_file: str, programs: int = 120, samples: int = 5) -> Path:
    """The published, scored generations of one CRUXEval model as a run directory."""
    crux = data_dir / "cruxeval" / "cruxeval.jsonl"
    rows = [json.loads(line) for line in crux.open(encoding="utf-8")][:programs]
    pub = json.loads((data_dir / "cruxeval" / "evaluation_results" / result_file).read_text())
    out_samples = []
    for r in rows:
        pid = r["id"]
        for s in range(samples):
            ok = bool(pub["raw_scored_generations"][pid][s])
            gen = pub["raw_generations"][pid][s]
            out_samples.append(Sample(
                item_key=f"cruxeval/{pid}#0/ier", benchmark="cruxeval", language="python", task="ier",
                program_id=pid, input_index=0, prompt_id="cruxeval-direct", prompt_hash="0" * 64, sample_index=s,
                raw=gen, extracted=gen, expected=r["output"], outcome="correct" if ok else "wrong_value",
                correct=ok))
    config = {"benchmark": "cruxeval", "language": "python", "task": "ier", "samples": samples}
    data = {"cruxeval/cruxeval.jsonl": hashlib.sha256(crux.read_bytes()).hexdigest()}
    model = "replay:" + str(data_dir / "cruxeval" / "evaluation_results" / result_file)
    return write_run(out, model, config, data, out_samples)


def avatar_java_run(out: Path, model: str, seed: int) -> Path:
    """Java stdin programs from the Avatar adapter with deterministic pseudo answers."""
    from codemind.benchmarks.base import BENCHMARKS

    bench = BENCHMARKS.get("avatar")(language="java", inputs="first", name="avatar")
    programs = [p for p in bench.load() if p.inputs][:40]
    samples = []
    for i, p in enumerate(programs):
        ok = (i * 7 + seed) % 3 != 0
        expected = p.inputs[0].label or ""
        samples.append(Sample(
            item_key=f"avatar/{p.id}#0/ier", benchmark="avatar", language="java", task="ier", program_id=p.id,
            input_index=0, prompt_id="codemind", prompt_hash="0" * 64, sample_index=0, raw=expected,
            extracted=expected, expected=expected, outcome="correct" if ok else "wrong_value", correct=ok))
    return write_run(out, model, {"benchmark": "avatar", "language": "java", "task": "ier"}, bench.data_files(),
                     samples)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, data_dir: Path) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    return {
        "gpt4": cruxeval_run(root / "gpt4", data_dir, "gpt-4-0613_temp0.2_output.json"),
        "cl34": cruxeval_run(root / "cl34", data_dir, "codellama-34b_temp0.2_output.json"),
        "java": avatar_java_run(root / "java", "replay:gpt-4__avatar-java.jsonl.gz", 0),
    }


def test_load_joins_features(runs):
    df = codemind.load(runs["gpt4"])
    assert len(df) == 600 and df["model_label"].unique().tolist() == ["gpt-4-0613_temp0.2_output"]
    s0 = df[df.program_id == "sample_0"].iloc[0]
    assert list(s0["constructs"]) == ["for"] and s0["has_for"] and not s0["has_while"]
    assert s0["cyclomatic"] == 2 and s0["complexity"] == "2-3" and s0["output_type"] == "list"
    assert s0["kind"] == "function"
    # the published pass@1 over these programs is the sample mean
    assert df.correct.mean() == pytest.approx(df.groupby("program_id").correct.mean().mean())
    assert df["cyclomatic"].notna().all() and df["output_type"].isin(["unknown"]).sum() == 0


def test_load_java_and_glob(runs, tmp_path):
    df = codemind.load(str(runs["java"].parent / "*"))
    assert set(df.run) == {str(p) for p in runs.values()}
    java = df[df.language == "java"]
    assert len(java) == 40 and java["constructs"].notna().all()
    assert java["output_type"].isin(["stdout", "multi-line stdout"]).all()
    assert java["has_for"].sum() + java["has_while"].sum() > 10
    # a folder of runs works like the glob
    assert len(codemind.load(runs["java"].parent)) == len(df)


def test_load_skips_torn_last_line_and_rejects_bad_paths(runs, tmp_path):
    import shutil

    run = tmp_path / "torn"
    shutil.copytree(runs["cl34"], run)
    with (run / "samples.jsonl").open("a") as f:
        f.write('{"item_key": "cruxeval/sample_9')
    assert len(codemind.load(run, features=False)) == 600
    with pytest.raises(UserError):
        codemind.load(tmp_path / "missing")
    with pytest.raises(UserError):
        codemind.load(str(tmp_path / "nothing-*"))


def test_load_sees_appended_samples(runs, tmp_path):
    import shutil

    run = tmp_path / "growing"
    shutil.copytree(runs["gpt4"], run)
    first = codemind.load(run)
    lines = (run / "samples.jsonl").read_text().splitlines(keepends=True)
    extra = json.loads(lines[0])
    extra["sample_index"] = 99
    with (run / "samples.jsonl").open("a") as f:
        f.write(json.dumps(extra) + "\n")
    second = codemind.load(run)
    assert len(second) == len(first) + 1 and (second.sample_index == 99).sum() == 1


def test_import_codemind_stays_light():
    code = "import sys, codemind; print(any(m in sys.modules for m in ('pandas', 'pyarrow', 'numpy')))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_export_parquet_reads_in_duckdb(runs, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    out = tmp_path / "all.parquet"
    r = subprocess.run([sys.executable, "-m", "codemind.cli", "export", str(runs["gpt4"]), str(runs["cl34"]),
                        "--parquet", str(out), "--json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["rows"] == 1200
    con = duckdb.connect()
    n, acc = con.execute(f"SELECT count(*), avg(correct::INT) FROM '{out}'").fetchone()
    assert n == 1200
    per = dict(con.execute(
        f"SELECT model_label, avg(correct::INT) FROM '{out}' GROUP BY 1").fetchall())
    df = codemind.load([runs["gpt4"], runs["cl34"]])
    assert per == pytest.approx(df.groupby("model_label").correct.mean().to_dict())
    fors = con.execute(f"SELECT count(*) FROM (SELECT unnest(constructs) AS c FROM '{out}') WHERE c = 'for'"
                       ).fetchone()[0]
    assert fors == int(df.has_for.sum())


def test_export_bad_input_is_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "codemind.cli", "export", str(tmp_path / "nope"), "--parquet",
                        str(tmp_path / "x.parquet")], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_load_of_trace_and_other_runs_together(tmp_path, runs):
    """A trace run's samples carry `measures` (and stages), an IER run's none: loaded together,
    the question columns come from the trace run and are empty elsewhere."""
    trace = []
    for k, (stage, line, var) in enumerate([("coverage", 3, "x"), ("state", 3, "x"), ("loops", 5, None)]):
        measures = {"question": stage, "line": line, **({"variable": var} if var else {})}
        trace.append(Sample(
            item_key=f"cruxeval/sample_{k}#0/trace:{stage}", benchmark="cruxeval", language="python", task="trace",
            stage=stage, program_id=f"sample_{k}", input_index=0, prompt_id="trace", prompt_hash="0" * 64,
            sample_index=0, raw="yes", extracted="yes", expected="yes", outcome="correct", correct=True,
            measures=measures))
    tr = write_run(tmp_path / "trace", "replay:trace.jsonl", {"benchmark": "cruxeval", "task": "trace"}, {}, trace)
    df = codemind.load([tr, runs["gpt4"]], features=False)
    assert len(df) == 3 + 120 * 5
    got = df[df["task"] == "trace"].sort_values("item_key")
    assert got["question"].tolist() == ["coverage", "state", "loops"]
    assert got["line"].tolist() == [3, 3, 5] and str(df["line"].dtype) == "Int64"
    assert got["variable"].tolist()[:2] == ["x", "x"] and pd.isna(got["variable"].tolist()[2])
    ier = df[df["task"] == "ier"]
    assert ier["question"].isna().all() and ier["line"].isna().all()
    # a run without trace questions has no question columns at all
    assert "question" not in codemind.load(runs["gpt4"], features=False).columns
