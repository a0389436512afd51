"""Reports over several runs and the leaderboard site, opened in headless Chromium.

The browser test drives chromedriver over plain HTTP (W3C WebDriver), so it needs no Python
browser package: `.ci/setup-chromium.sh` installs Debian's chromium + chromium-driver. It
skips when no browser is installed, except in CI (CI=true), where it fails instead.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

from test_load_export import avatar_java_run, cruxeval_run  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "codemind.cli", *args], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, data_dir: Path) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("lb-runs")
    return {
        "gpt4": cruxeval_run(root / "gpt4", data_dir, "gpt-4-0613_temp0.2_output.json"),
        "cl34": cruxeval_run(root / "cl34", data_dir, "codellama-34b_temp0.2_output.json"),
        "java-a": avatar_java_run(root / "java-a", "replay:gpt-4__avatar-java.jsonl.gz", 0),
        "java-b": avatar_java_run(root / "java-b", "replay:gpt-3.5__avatar-java.jsonl.gz", 1),
    }


# ---------------------------------------------------------------- report


def test_report_json_by_construct_over_two_runs(runs):
    r = cli("report", str(runs["gpt4"]), str(runs["cl34"]), "--by", "construct", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert {"metrics", "outcomes", "comparisons", "constructs"} <= set(out)
    row = out["metrics"][0]
    assert {"benchmark", "language", "task", "group", "n", "correct", "accuracy", "ci_low", "ci_high"} <= set(row)
    assert set(row["group"]) == {"model", "construct"}
    fors = [m for m in out["metrics"] if m["group"]["construct"] == "for"]
    assert len(fors) == 2 and all(m["ci_cluster"][0] <= m["accuracy"] <= m["ci_cluster"][1] for m in fors)
    # every sample is counted once in the outcomes, though it may sit in several construct rows
    assert sum(out["outcomes"].values()) == 1200
    (cmp,) = out["comparisons"]
    assert cmp["items"] == 120 and cmp["ci_low"] <= cmp["diff"] <= cmp["ci_high"]
    assert cmp["mcnemar"]["only_a"] + cmp["mcnemar"]["only_b"] <= 120
    assert {e["construct"] for e in out["constructs"]} >= {"for", "if"}
    # seeded: the same command gives the same numbers
    assert cli("report", str(runs["gpt4"]), str(runs["cl34"]), "--by", "construct", "--json").stdout == r.stdout


def test_report_java_by_construct_and_formats(runs):
    r = cli("report", str(runs["java-a"]), "--by", "construct,complexity", "--format", "md")
    assert r.returncode == 0, r.stderr
    assert "| avatar | java | ier | for |" in r.stdout and "unknown" not in r.stdout
    h = cli("report", str(runs["java-a"]), str(runs["java-b"]), "--by", "output_type", "--format", "html")
    assert h.returncode == 0 and h.stdout.startswith("<!DOCTYPE html>") and "Paired comparison" in h.stdout
    bad = cli("report", str(runs["java-a"]), "--format", "pdf")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and bad.stderr.count("\n") == 1


# ---------------------------------------------------------------- leaderboard


@pytest.fixture(scope="module")
def site(runs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    r = cli("leaderboard", *(str(p) for p in runs.values()), "--out", str(out), "--bootstrap", "500")
    assert r.returncode == 0, r.stderr
    return out


def test_leaderboard_files(site):
    assert (site / "index.html").is_file() and (site / "leaderboard.md").is_file()
    data = json.loads((site / "leaderboard.json").read_text())
    assert [(s["benchmark"], s["language"]) for s in data["sections"]] == [("avatar", "java"), ("cruxeval", "python")]
    crux = data["sections"][1]
    assert [r["model"] for r in crux["ranking"]] == ["gpt-4-0613_temp0.2_output", "codellama-34b_temp0.2_output"]
    assert crux["ranking"][0]["pass_at_5"]["items"] == 120
    pngs = sorted(p.name for p in (site / "plots").glob("*.png"))
    assert len(pngs) == 4 and all((site / "plots" / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    md = (site / "leaderboard.md").read_text()
    assert "## cruxeval · python · ier · prompt cruxeval-direct" in md and "| nested_loop |" in md and "plots/" in md


def _browser() -> tuple[str, str] | None:
    driver = shutil.which("chromedriver")
    binary = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    return (binary, driver) if binary and driver else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wd(base: str, method: str, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read() or b"{}")


def test_leaderboard_renders_in_headless_chromium(site):
    found = _browser()
    if found is None:
        if IN_CI:
            pytest.fail("chromium/chromedriver missing in CI: run .ci/setup-chromium.sh in the setup step")
        pytest.skip("no chromium + chromedriver (run .ci/setup-chromium.sh)")
    binary, driver = found
    port = _free_port()
    profile = tempfile.mkdtemp(prefix="codemind-chromium-")
    proc = subprocess.Popen([driver, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    session = None
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _wd(base, "GET", "/status")["value"]["ready"]:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("chromedriver did not start")
            time.sleep(0.2)
        args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1280,2000"]
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome",
                                                 "goog:chromeOptions": {"binary": binary, "args": args}}}}
        session = _wd(base, "POST", "/session", caps)["value"]["sessionId"]
        _wd(base, "POST", f"/session/{session}/url", {"url": (site / "index.html").resolve().as_uri()})
        script = """
            const done = arguments[arguments.length - 1];
            const imgs = Array.from(document.images);
            Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = r; i.onerror = r; })))
              .then(() => done({
                title: document.title,
                tables: Array.from(document.querySelectorAll('table')).map(t => ({
                  id: t.id, rows: t.querySelectorAll('tbody tr').length, text: t.innerText})),
                images: imgs.map(i => ({src: i.getAttribute('src'), w: i.naturalWidth, h: i.naturalHeight}))
              }));
        """
        _wd(base, "POST", f"/session/{session}/timeouts", {"script": 30000})
        page = _wd(base, "POST", f"/session/{session}/execute/async", {"script": script, "args": []})["value"]
    finally:
        if session:
            try:
                _wd(base, "DELETE", f"/session/{session}")
            except OSError:
                pass
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)
    assert page["title"] == "CodeMind leaderboard"
    tables = {t["id"]: t for t in page["tables"]}
    assert tables["cruxeval-python-ier-cruxeval-direct-ranking"]["rows"] >= 2
    assert tables["avatar-java-ier-codemind-ranking"]["rows"] >= 2
    constructs = tables["cruxeval-python-ier-cruxeval-direct-constructs"]
    assert constructs["rows"] >= 5 and "nested_loop" in constructs["text"] and "gpt-4-0613" in constructs["text"]
    assert tables["cruxeval-python-ier-cruxeval-direct-paired"]["rows"] >= 1
    assert len(page["images"]) >= 4
    assert all(i["w"] > 0 and i["h"] > 0 for i in page["images"]), page["images"]
