"""Benchmark adapters, assert parsing and sha256-pinned data files."""

from __future__ import annotations

import ast
import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

from codemind.benchmarks import datafiles
from codemind.benchmarks.asserts import parse_assert_list, parse_check_function
from codemind.benchmarks.base import BENCHMARKS
from codemind.errors import UserError


def load(name: str, data_dir: Path | None = None, **options):
    return BENCHMARKS.get(name)(data_dir=data_dir, **options).load()


@functools.lru_cache(maxsize=None)
def load_once(name: str, data_dir: Path, inputs: str = "first"):
    """Programs of an unmodified mirror, loaded once per test session (read-only use)."""
    return load(name, data_dir, inputs=inputs)


# ---------------------------------------------------------------- counts and shapes


@pytest.mark.parametrize(
    "name, programs, first, all_",
    [
        ("humaneval", 164, 161, 1124),  # 3 problems (32, 38, 50) test only inside loops
        ("mbpp", 427, 427, 1324),
        ("mbpp-full", 974, 974, 2922),
        ("cruxeval", 800, 800, 800),
    ],
)
def test_counts(data_dir, name, programs, first, all_):
    ps = load_once(name, data_dir)
    assert len(ps) == programs
    assert len({p.id for p in ps}) == programs
    assert sum(len(p.inputs) for p in ps) == first
    assert sum(len(p.inputs) for p in load_once(name, data_dir, "all")) == all_


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::SyntaxWarning")
def test_every_call_is_an_expression_that_calls_the_entry_point(data_dir):
    for name in ("humaneval", "mbpp", "mbpp-full", "cruxeval"):
        for p in load_once(name, data_dir, "all"):
            compile(p.source, p.id, "exec")
            for i, inp in enumerate(p.inputs):
                assert inp.index == i
                call = ast.parse(inp.call, mode="eval").body
                assert isinstance(call, ast.Call) and isinstance(call.func, ast.Name), (p.id, inp.call)
                assert call.func.id == p.entry_point, (p.id, inp.call)
                assert inp.call.startswith(p.entry_point + "("), (p.id, inp.call)
                if inp.label is not None:
                    ast.literal_eval(inp.label)


def test_humaneval_first_program(data_dir):
    p = load_once("humaneval", data_dir)[0]
    assert p.id == "HumanEval/0" and p.entry_point == "has_close_elements"
    assert p.source.startswith("from typing import List") and "return False" in p.source
    assert p.inputs[0].call == "has_close_elements([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3)"
    assert p.inputs[0].label == "True"
    assert "def check(candidate)" in p.meta["tests"] and p.meta["tests"].rstrip().endswith(
        "check(has_close_elements)"
    )
    assert p.meta["spec"].startswith("from typing import List")


def test_humaneval_problems_without_usable_asserts_are_kept_and_explained(data_dir):
    by_id = {p.id: p for p in load_once("humaneval", data_dir)}
    assert [i for i, p in by_id.items() if not p.inputs] == ["HumanEval/32", "HumanEval/38", "HumanEval/50"]
    assert by_id["HumanEval/38"].meta["skipped_asserts"][0]["reason"] == "inside a for block"


def test_mbpp_ids_sources_and_imports(data_dir):
    by_id = {p.id: p for p in load_once("mbpp", data_dir, "all")}
    assert "554" in by_id and by_id["2"].entry_point == "similar_elements"
    # test_imports become part of the runnable source
    with_imports = [p for p in by_id.values() if "import math" in p.meta["tests"]]
    assert with_imports and all("import math" in p.source for p in with_imports)
    # set(...)-wrapped asserts keep the call, state no label, and say how to check it
    two = by_id["2"]
    assert two.inputs[0].call == "similar_elements((3, 4, 5, 6),(5, 7, 4, 10))"
    assert two.inputs[0].label is None
    assert two.meta["asserts"][0]["relation"] == "under" and two.meta["asserts"][0]["wrapper"] == "set"


def test_mbpp_full_normalises_crlf_and_keeps_setup_code(data_dir):
    by_id = {p.id: p for p in load_once("mbpp-full", data_dir)}
    assert all("\r" not in p.source for p in by_id.values())
    assert by_id["2"].inputs[0].call == "similar_elements((3, 4, 5, 6),(5, 7, 4, 10))"
    assert by_id["2"].inputs[0].label == "(4, 5)"
    assert by_id["11"].meta["challenge_test_list"]
    setup = [p for p in by_id.values() if p.id in ("367", "927")]
    assert len(setup) == 2 and all("class Node" in p.source or "Node" in p.source for p in setup)


def test_cruxeval_program(data_dir):
    p = load_once("cruxeval", data_dir)[0]
    assert p.id == "sample_0" and p.entry_point == "f"
    assert p.inputs[0].call == "f([1, 1, 3, 1, 3, 1])"
    assert p.inputs[0].label == "[(4, 1), (4, 1), (4, 1), (4, 1), (2, 3), (2, 3)]"


def test_bad_options_and_languages_are_user_errors(data_dir):
    with pytest.raises(UserError, match="inputs option 'some'"):
        BENCHMARKS.get("mbpp")(data_dir=data_dir, inputs="some")
    with pytest.raises(UserError, match="no java programs"):
        BENCHMARKS.get("cruxeval")(data_dir=data_dir, language="java")


def test_data_files_report_what_was_read(data_dir):
    b = BENCHMARKS.get("cruxeval")(data_dir=data_dir)
    b.load()
    assert b.data_files() == {"cruxeval/cruxeval.jsonl": datafiles.data_file("cruxeval/cruxeval.jsonl").sha256}


# ---------------------------------------------------------------- assert parsing (real examples)


def check_src(*lines: str) -> str:
    return "def check(candidate):\n" + "".join(f"    {line}\n" for line in lines)


def test_parse_humaneval_forms():
    src = check_src(
        "import math",
        "assert candidate([1.0, 2.0], 0.3) == True",  # HumanEval/0
        'assert candidate("") == 0, "This prints if this assert fails 1 (good for debugging!)"',
        "assert True, 'This prints if this assert fails 2 (also good for debugging!)'",
        "assert candidate([1, 2, 4, 10], 100)",  # HumanEval/52
        "assert not candidate([1, 20, 4, 10], 5)",
        "assert abs(candidate([1.0, 2.0, 3.0]) - 2.0/3.0) < 1e-6",  # HumanEval/4
        "assert math.isclose(candidate(2), 1.5, rel_tol=0.001)",
        "assert tuple(candidate([1, 2, 3])) == tuple([1, 2, 3])",  # HumanEval/37
        "assert tuple(candidate([1, 2, 3])) == tuple(f([1, 2, 3]))",  # HumanEval/33 (f: the entry point)
        "assert tuple(candidate([1, 2])) == tuple(sort_third([1, 2]))",  # a helper: one program call
        "assert candidate(lst) == odd_sum",  # HumanEval/151 (names from test code)
        "for x in range(2, 8):",
        "    assert candidate(x, x + 1) == str(x)",  # HumanEval/44
        "assert candidate(-1.5) == -1.5",
    )
    r = parse_check_function(src, "f", "def f(*a):\n    pass\n\ndef sort_third(x):\n    return x\n")
    got = [(a.call, a.label, a.relation) for a in r.asserts]
    assert got == [
        ("f([1.0, 2.0], 0.3)", "True", "eq"),
        ('f("")', "0", "eq"),
        ("f([1, 2, 4, 10], 100)", None, "truthy"),
        ("f([1, 20, 4, 10], 5)", None, "falsy"),
        ("f([1.0, 2.0, 3.0])", repr(2.0 / 3.0), "approx"),
        ("f(2)", "1.5", "approx"),
        ("f([1, 2, 3])", None, "under"),
        ("f([1, 2])", None, "other"),
        ("f(-1.5)", "-1.5", "eq"),
    ]
    assert r.asserts[4].tol == 1e-6 and r.asserts[5].tol == 0.001
    assert r.no_call == 1
    reasons = sorted(s.reason for s in r.skipped)
    assert reasons == [
        "2 calls of the program in one assert",
        "call uses names bound by test code: lst",
        "inside a for block",
    ]


def test_parse_keeps_original_argument_text_and_renames_nested_calls():
    src = check_src("assert candidate('a',   \"b\",1e3) == candidate('x')", "assert candidate(candidate(1)) == 2")
    r = parse_check_function(src, "g", "def g(*a):\n    pass\n")
    assert [a.call for a in r.asserts] == ["g(g(1))"]
    assert r.skipped[0].reason == "2 calls of the program in one assert"
    src = check_src("assert candidate('ü',   \"b\",1e3) == 'x'")
    assert parse_check_function(src, "g", "def g(*a): pass\n").asserts[0].call == "g('ü',   \"b\",1e3)"


def test_parse_mbpp_forms():
    src = "import math\ndef tuple_size(t):\n    return 1\ndef lobb_num(a, b):\n    return 1.0\n"
    r = parse_assert_list(
        [
            'assert tuple_size(("A", 1) ) == sys.getsizeof(("A", 1))',  # MBPP 596: not a literal
            "assert int(lobb_num(5, 3)) == 35",  # MBPP-full 912
            "assert math.isclose(lobb_num(1, 2), 0.5, rel_tol=0.001)",
            "assert lobb_num(1,2)==5 ",
        ],
        funcs={"tuple_size", "lobb_num"},
        allowed_names={"math"},
    )
    assert [(a.call, a.label, a.relation) for a in r.asserts] == [
        ('tuple_size(("A", 1) )', None, "other"),
        ("lobb_num(5, 3)", None, "under"),
        ("lobb_num(1, 2)", "0.5", "approx"),
        ("lobb_num(1,2)", "5", "eq"),
    ]
    assert r.asserts[1].wrapper == "int" and r.asserts[1].expected == "35"


# ---------------------------------------------------------------- data files: checksums, missing, download


def mirror_with(tmp_path: Path, name: str, data: bytes) -> Path:
    root = tmp_path / "mirror"
    (root / name).parent.mkdir(parents=True)
    (root / name).write_bytes(data)
    return root


def test_tampered_file_is_a_one_line_user_error_naming_it(data_dir, tmp_path):
    good = (data_dir / "cruxeval" / "cruxeval.jsonl").read_bytes()
    root = mirror_with(tmp_path, "cruxeval/cruxeval.jsonl", good.replace(b"sample_0", b"sample_x", 1))
    with pytest.raises(UserError) as e:
        load("cruxeval", root)
    msg = str(e.value)
    assert "\n" not in msg and "checksum mismatch" in msg and str(root / "cruxeval" / "cruxeval.jsonl") in msg
    assert datafiles.data_file("cruxeval/cruxeval.jsonl").sha256 in msg


def test_tampered_file_in_codemind_data_is_detected(data_dir, tmp_path, monkeypatch):
    good = (data_dir / "mbpp" / "sanitized-mbpp.json").read_bytes()
    root = mirror_with(tmp_path, "mbpp/sanitized-mbpp.json", good + b" ")
    monkeypatch.setenv("CODEMIND_DATA", str(root))
    with pytest.raises(UserError, match=r"checksum mismatch for .*sanitized-mbpp.json.*CODEMIND_DATA"):
        load("mbpp")


def test_missing_file_is_a_user_error_naming_it(tmp_path):
    with pytest.raises(UserError, match=r"missing data file .*mbpp[/\\]mbpp.jsonl"):
        load("mbpp-full", tmp_path)


def test_humaneval_falls_back_to_the_package_when_the_mirror_lacks_it(tmp_path):
    ps = load("humaneval", tmp_path)
    assert len(ps) == 164


def test_hash_is_memoised_by_path_mtime_and_size(tmp_path):
    f = tmp_path / "x"
    f.write_bytes(b"a")
    h1 = datafiles.sha256_file(f)
    hits = datafiles._sha256.cache_info().hits
    assert datafiles.sha256_file(f) == h1 and datafiles._sha256.cache_info().hits == hits + 1
    f.write_bytes(b"bb")
    assert datafiles.sha256_file(f) != h1


@pytest.fixture
def http_server(tmp_path):
    """A real HTTP server on 127.0.0.1 serving tmp_path/www (the network boundary)."""
    www = tmp_path / "www"
    www.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(www), **k)

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_download_into_cache_with_correct_checksum(data_dir, tmp_path, http_server, monkeypatch):
    www, base = http_server
    shutil.copy(data_dir / "cruxeval" / "cruxeval.jsonl", www / "crux.jsonl")
    monkeypatch.delenv("CODEMIND_DATA", raising=False)
    monkeypatch.setenv("CODEMIND_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CODEMIND_DATA_URL_CRUXEVAL_JSONL", f"{base}/crux.jsonl")
    ps = load("cruxeval")
    assert len(ps) == 800
    cached = tmp_path / "cache" / "cruxeval" / "cruxeval.jsonl"
    assert cached.read_bytes() == (data_dir / "cruxeval" / "cruxeval.jsonl").read_bytes()
    assert [p.name for p in cached.parent.iterdir()] == ["cruxeval.jsonl"]  # no .part left
    # second time: served from the cache, no download needed
    (www / "crux.jsonl").unlink()
    assert datafiles.resolve("cruxeval/cruxeval.jsonl") == cached


def test_download_with_wrong_checksum_is_refused(data_dir, tmp_path, http_server, monkeypatch):
    www, base = http_server
    monkeypatch.delenv("CODEMIND_DATA", raising=False)
    (www / "bad.jsonl").write_bytes(b'{"code": "def f(): pass", "input": "", "output": "None", "id": "sample_0"}')
    cache = tmp_path / "cache"
    with pytest.raises(UserError) as e:
        datafiles.resolve("cruxeval/cruxeval.jsonl", cache_dir=cache, url=f"{base}/bad.jsonl")
    assert "checksum mismatch for cruxeval/cruxeval.jsonl downloaded from" in str(e.value)
    assert "\n" not in str(e.value)
    assert not any(p.is_file() for p in cache.rglob("*"))  # nothing kept


def test_unreachable_download_is_a_user_error(tmp_path, http_server, monkeypatch):
    _, base = http_server
    monkeypatch.delenv("CODEMIND_DATA", raising=False)
    with pytest.raises(UserError, match=r"could not download mbpp/mbpp.jsonl from .*404"):
        datafiles.resolve("mbpp/mbpp.jsonl", cache_dir=tmp_path / "c", url=f"{base}/nothing-here")


def test_manifests_pin_every_file(data_dir):
    for bench in ("humaneval", "mbpp", "mbpp-full", "cruxeval"):
        m = datafiles.manifest(bench)
        assert m["benchmark"] == bench and m["licence"] and m["languages"] == ["python"]
        assert m["counts"]["programs"] == len(load_once(bench, data_dir))
        for f in m["files"]:
            assert len(f["sha256"]) == 64 and f["url"].startswith("https://")
            path = datafiles.resolve(f["name"], data_dir)
            assert os.path.getsize(path) == f["bytes"]
