"""A run directory is self-contained: it records the programs it used (programs.jsonl), so
`codemind report`, `codemind.load()`, export and the leaderboard read constructs from it
without the benchmark data; older directories without programs.jsonl still report (from the
benchmark named in their manifest, constructs 'unknown' where it cannot be found)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cli_helpers import codemind

from codemind.schema import Program, RunProgram, TestInput
from codemind.store.rundir import PROGRAMS, RunDir

REPLAY = "cruxeval/evaluation_results/codellama-7b_temp0.2_output.json"
LIMIT = 8


def _no_data_env(tmp_path: Path) -> dict:
    """No mirror (CODEMIND_DATA empty counts as unset), a fresh cache and no way to download:
    only the run directory is left."""
    return {"CODEMIND_DATA": "", "CODEMIND_CACHE_DIR": str(tmp_path / "fresh-cache"),
            "CODEMIND_DATA_URL_CRUXEVAL_JSONL": "http://127.0.0.1:9/unreachable"}


def _report(run: Path, env: dict | None = None) -> dict:
    proc = codemind("report", run, "--by", "construct", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _constructs(report: dict) -> dict[str, int]:
    return {m["group"]["construct"]: m["n"] for m in report["metrics"]}


@pytest.fixture(scope="module")
def moved(tmp_path_factory, data_dir: Path) -> dict:
    """A run made from a private copy of the data, then moved away and the copy deleted."""
    root = tmp_path_factory.mktemp("selfcontained")
    mirror = root / "data"
    (mirror / "cruxeval").mkdir(parents=True)
    shutil.copy(data_dir / "cruxeval" / "cruxeval.jsonl", mirror / "cruxeval")
    args = ["run", "--benchmark", "cruxeval", "--task", "ier", "--prompt", "cruxeval-direct", "--judge", "cruxeval",
            "--model", f"replay:{data_dir / REPLAY}", "--sandbox", "process", "--data-dir", mirror, "--json"]
    proc = codemind(*args, "--limit", LIMIT // 2, "--out", root / "run")
    assert proc.returncode == 0, proc.stderr
    assert len(RunDir(root / "run").recorded_programs()) == LIMIT // 2
    proc = codemind(*args, "--limit", LIMIT, "--out", root / "run")  # resumed further: new programs appended
    assert proc.returncode == 0, proc.stderr
    before = _report(root / "run")
    shutil.move(root / "run", root / "elsewhere")
    shutil.rmtree(mirror)
    return {"run": root / "elsewhere", "before": before, "root": root}


def test_programs_are_recorded_once_with_their_analysis(moved):
    programs = RunDir(moved["run"]).recorded_programs()
    assert [p.id for p in programs] == [f"sample_{i}" for i in range(LIMIT)]  # resume added, never repeated
    p = programs[0]
    assert p.benchmark == "cruxeval" and p.kind == "function" and p.entry_point == "f" and p.source.startswith("def f")
    assert p.inputs[0].call and p.features["version"].startswith("features/") and "constructs" in p.features


def test_moved_run_reports_constructs_without_any_data(moved, tmp_path):
    after = _report(moved["run"], env=_no_data_env(tmp_path))
    assert after["metrics"] == moved["before"]["metrics"]
    assert "unknown" not in _constructs(after) and "for" in _constructs(after)
    assert [{**e, "run": None} for e in after["constructs"]] == [{**e, "run": None} for e in moved["before"]["constructs"]]


def test_old_run_dir_without_programs_still_reports(moved, tmp_path):
    """Documented fallback (docs/architecture.md): the benchmark named in the manifest, and
    'unknown' constructs when it cannot be found, as before programs.jsonl existed."""
    old = tmp_path / "old"
    shutil.copytree(moved["run"], old)
    (old / PROGRAMS).unlink()
    assert RunDir(old).recorded_programs() is None
    report = _report(old, env=_no_data_env(tmp_path))
    assert _constructs(report) == {"unknown": LIMIT}
    assert _constructs(_report(old)) == _constructs(moved["before"])  # the mirror (CODEMIND_DATA) is used again


def test_load_export_and_leaderboard_never_load_the_benchmark(moved, tmp_path, monkeypatch):
    pytest.importorskip("pandas")
    pytest.importorskip("matplotlib")
    import codemind
    import codemind.analysis.features as features
    from codemind.report.leaderboard import build
    from codemind.store.export import export_parquet

    def refuse(*args, **kwargs):
        raise AssertionError("benchmark data was loaded for a self-contained run")

    monkeypatch.setattr(features, "_load_programs", refuse)
    monkeypatch.setenv("CODEMIND_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("CODEMIND_DATA")
    df = codemind.load(moved["run"])
    assert len(df) == LIMIT and df["constructs"].notna().all() and df["cyclomatic"].notna().all()
    assert export_parquet([moved["run"]], tmp_path / "out.parquet")["rows"] == LIMIT
    site = build([moved["run"]], tmp_path / "site", n_boot=50)
    sections = json.loads((tmp_path / "site" / "leaderboard.json").read_text())["sections"]
    assert site["samples"] == LIMIT and not any(row[0] == "unknown" for row in sections[0]["constructs"])


def test_record_programs_appends_only_new_ones_and_survives_a_torn_line(tmp_path):
    rd = RunDir(tmp_path)
    assert rd.recorded_programs() is None

    def prog(pid: str, source: str = "def f():\n    return 1\n") -> RunProgram:
        p = Program(id=pid, benchmark="b", language="python", kind="function", source=source, entry_point="f",
                    inputs=[TestInput(call="f()")])
        return RunProgram(**p.model_dump())

    assert rd.record_programs([prog("a"), prog("b"), prog("a")]) == 2
    assert rd.record_programs([prog("b", "changed"), prog("c")]) == 1  # the first record of a program stays
    with open(rd.programs_path, "a") as f:
        f.write('{"id": "torn')  # killed mid-write
    assert [p.id for p in rd.recorded_programs()] == ["a", "b", "c"]
    assert rd.record_programs([prog("d")]) == 1
    assert [p.id for p in rd.recorded_programs()] == ["a", "b", "c", "d"]
    assert rd.recorded_programs()[1].source.startswith("def f")
