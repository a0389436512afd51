"""DSR (CodeMind v4+): padding, lines of code, the score, end to end against a scripted server.

- LoC: the counting rule of codemind/tasks/loc.py on hand-written sources;
- padding: deterministic per seed, different across seeds, always adds lines of code, never
  reuses a name of the program; on every program of HumanEval, CRUXEval, Avatar (latest) and
  ClassEval
  the padded program behaves as the original, executed in the Docker sandbox
  (test_full_benchmarks_pad_verified_and_score_100: one run per benchmark, in full);
- the score: S_DSR = 100% when the server answers with the unpadded original, 0% with wrong
  code, the formula by hand for answers longer than the original, and 0 for reward hacks
  (exit(0), an object equal to anything, os._exit).
"""

from __future__ import annotations

import ast
import json
import time
from pathlib import Path

import pytest
from cli_helpers import codemind
from scripted_server import serve
from servers.dsr_server import DSRScript, original, padded_sources

from codemind.benchmarks.base import BENCHMARKS
from codemind.judges.dsr import dsr_score
from codemind.tasks.dsr import NOT_PADDED, padded_subject
from codemind.tasks.loc import loc, normalized_loc
from codemind.tasks.padding import PaddingError, identifiers, pad

BENCHES = ("humaneval", "cruxeval", "avatar-latest", "classeval")
LIMIT = 5


def _programs(bench: str):
    return BENCHMARKS.get(bench)(language="python", name=bench).load()


# ---------------------------------------------------------------- lines of code


def test_loc_counts_lines_that_carry_code():
    src = ('"""Module docstring."""\nimport os\n# a comment\n\n'
           'def f(x):\n    """Doc\n    string."""\n    y = [1,\n         2]  # trailing\n'
           '    s = """a\nb"""\n    return x + \\\n        y\n'
           'def g(): "doc"\n')
    # import, def f, y (2 lines), s (2 lines), return (2 lines), def g
    assert loc(src) == 9
    assert loc("") == 0
    assert loc("x = 1\n\n\n# c\ny = 2\n") == 2
    assert loc('x = "é"; "é"\n') == 1
    assert loc("def f(:\n") is None and loc(None) is None
    # DSR counts every program as ast.unparse writes it: formatting and comments do not count
    assert normalized_loc("x = [1,\n     2,\n     3]  # c\n") == 1 == normalized_loc("x = [1, 2, 3]\n")
    assert normalized_loc(src) == 6  # unparsed: y, s and the return are one line each


def test_score_formula():
    assert dsr_score(True, 10, 20, 10) == 1.0
    assert dsr_score(True, 10, 20, 5) == 1.0  # shorter than the original: full credit, no more
    assert dsr_score(True, 10, 20, 16) == pytest.approx(10 / 16)
    assert dsr_score(True, 10, 20, 20) == 0.0  # not shorter than the padded program
    assert dsr_score(False, 10, 20, 8) == 0.0
    assert dsr_score(True, 10, 20, None) == 0.0


def test_answers_are_taken_from_markers_or_fences():
    from codemind.tasks.code import extract_marked_code

    assert extract_marked_code("ok\n$CODE_START$\ndef f(x):\n    return x\n$CODE_END$\n") == \
        "def f(x):\n    return x\n"
    assert extract_marked_code("$CODE_START$\n```python\nprint(1)\n```\n$CODE_END$") == "print(1)\n"
    assert extract_marked_code("Sure:\n```python\nx = input()\nprint(x)\n```\n") == "x = input()\nprint(x)\n"
    assert extract_marked_code("no code here") is None


# ---------------------------------------------------------------- the transform


@pytest.mark.parametrize("bench", BENCHES)
def test_padding_is_deterministic_adds_lines_and_parses(data_dir, bench):
    progs = _programs(bench)
    differs = 0
    for n, p in enumerate(progs):
        key = f"{p.benchmark}/{p.id}"
        subject = padded_subject(p)
        a, b = pad(subject, key, 0), pad(subject, key, 0)
        assert a.source == b.source and a.applied == b.applied and a.sha256 == b.sha256, p.id
        assert a.loc_padded > a.loc_original == normalized_loc(subject), p.id
        assert a.applied, p.id
        ast.parse(a.source)
        differs += pad(subject, key, 1).source != a.source
        for attempt in (1, 2) if n % 10 == 0 else ():  # later attempts use fewer kinds of padding
            kinds = {x.split(":")[0] for x in pad(subject, key, 0, attempt).applied}
            assert "helper" not in kinds and (attempt < 2 or "decorator" not in kinds), (p.id, kinds)
    assert differs >= 0.9 * len(progs), "another seed should pad most programs differently"


def test_padding_never_reuses_a_name_of_the_program():
    src = ("import hashlib\nlen = 3\nmy_decorator = 1\nnewFunc = 2\nsorted = None\n"
           "def f(a, b):\n    base64 = a\n    return a + b * len\n")
    for seed in range(30):
        padded = pad(src, "t", seed)
        tree = ast.parse(padded.source)
        added = identifiers(tree) - identifiers(ast.parse(src))
        names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)} - {"f"}
        assert not names & {"my_decorator", "newFunc"}, padded.source
        assert "hashlib.sha256" not in padded.source and "len([" not in padded.source, padded.source
        assert "sorted(" not in padded.source and "base64." not in padded.source, padded.source
        assert added, padded.source


def test_padding_does_not_decorate_recursive_functions():
    src = "def fact(n):\n    return 1 if n < 2 else n * fact(n - 1)\n\nclass A:\n    def m(self, k):\n" \
          "        return self.m(k - 1) if k else 0\n"
    for seed in range(20):
        padded = pad(src, "t", seed)
        assert "decorator" not in " ".join(padded.applied), padded.applied


def test_unparsable_program_is_a_padding_error():
    with pytest.raises(PaddingError):
        pad("def f(:\n", "t")


# ---------------------------------------------------------------- end to end


def _class(p, value: str) -> str:
    """A whole class for a ClassEval item, every method of which returns `value` (some items'
    tests never call their own method: a wrong lone method would pass them, as in the dataset)."""
    return (f"class {p.meta['class_name']}:\n    def __init__(self, *args, **kwargs):\n        pass\n"
            f"    def __getattr__(self, name):\n        return lambda *args, **kwargs: {value}\n")


def _wrong(p) -> str:
    if p.kind == "stdin":
        return "print('definitely wrong')\n"
    if p.benchmark == "classeval":
        return _class(p, "None")  # falsy: one item's tests only assert the truth of what it returns
    return f"def {p.entry_point}(*args, **kwargs):\n    return ('definitely', 'wrong')\n"


def _always_equal(p) -> str:
    """An object equal to anything. It is falsy: a check of truth alone (``assert f(x)``,
    ``assertTrue``) asks only for truth, which any truthy value gives, and one ClassEval item's
    tests only assert the truth of what its methods return."""
    if p.kind == "stdin":
        return "import os\nos._exit(0)\n"
    return ("class _Any:\n    def __eq__(self, other):\n        return True\n    def __ne__(self, other):\n"
            "        return False\n    def __bool__(self):\n        return False\n"
            + (_class(p, "_Any()") if p.benchmark == "classeval" else
               f"def {p.entry_point}(*args, **kwargs):\n    return _Any()\n"))


def _exit_zero(p) -> str:
    return "import sys\nsys.exit(0)\n" + original(p)


def _patched_builtins(p) -> str:
    """Patches what a test in the same process would lean on, then answers wrongly."""
    lines = "import builtins\nbuiltins.isinstance = lambda *a: True\nbuiltins.abs = lambda x: 0\n" \
            "builtins.len = lambda x: 0\nbuiltins.AssertionError = KeyError\n"
    return lines + _wrong(p)


def _longer(extra: int):
    """The original with `extra` lines of dead code at its end: LoC(C') = LoC(C) + extra."""
    def respond(p) -> str:
        return original(p).rstrip("\n") + "\n" + "".join(f"_unused_{k} = {k}\n" for k in range(extra))
    return respond


def _run(bench: str, tmp_path: Path, respond, name: str, limit: int | None = LIMIT, sandbox: str | None = None,
         progs=None) -> tuple[dict, list[dict], dict, DSRScript]:
    progs = progs if progs is not None else _programs(bench)[:limit]
    # ClassEval's classes need the libraries of the Docker image; the others run in the process sandbox
    sandbox = sandbox or ("docker" if bench == "classeval" else "process")
    script = DSRScript(respond=respond).add(progs)
    server, url = serve(script)
    out = tmp_path / f"{bench}-{name}"
    args = ["run", "--benchmark", bench, "--task", "dsr", "--sandbox", sandbox, "--model", f"openai:scripted-{name}",
            "--base-url", url, "--out", out, "--json"]
    try:
        proc = codemind(*args, *(["--limit", limit] if limit else []), env={"OPENAI_API_KEY": "x"}, timeout=1800)
    finally:
        server.shutdown()
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not script.unknown, script.unknown[0][-600:]
    report = json.loads(proc.stdout)
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    manifest = json.loads((out / "manifest.json").read_text())
    (summary,) = report["summary"]
    return summary["dsr"], samples, manifest, script


@pytest.mark.parametrize("bench", BENCHES)
def test_reference_answers_score_100_and_wrong_code_0(data_dir, tmp_path, bench):
    dsr, samples, manifest, script = _run(bench, tmp_path, original, "right")
    assert len(samples) == LIMIT and all(s["correct"] for s in samples), [s["detail"] for s in samples]
    assert dsr["s_dsr"]["score"] == 1.0 and dsr["pass_rate"]["accuracy"] == 1.0
    for s in samples:
        m = s["measures"]
        assert m["loc_answer"] == m["loc_original"] < m["loc_padded"] and s["score"] == 1.0, s
    # the prompt shows the padded program recorded in the manifest, and the tests
    padding = manifest["dsr_padding"]
    assert padding["padded"] == LIMIT and padding["seed"] == 0 and padding["transform"]
    prog = _programs(bench)[0]
    rec = padding["programs"][prog.id]
    again = pad(padded_subject(prog), f"{bench}/{prog.id}", padding["seed"], rec["attempt"])
    assert again.sha256 == rec["sha256"] and again.applied == rec["applied"]
    assert any(again.source.strip() in r for r in script.requests)
    assert rec["loc_padded"] > rec["loc_original"]

    dsr, samples, _, _ = _run(bench, tmp_path, _wrong, "wrong")
    assert dsr["s_dsr"]["score"] == 0.0 and dsr["pass_rate"]["accuracy"] == 0.0
    assert all(s["score"] == 0.0 and not s["correct"] for s in samples)


@pytest.mark.parametrize("bench", ["humaneval", "avatar-latest"])
def test_partial_credit_matches_the_formula_by_hand(data_dir, tmp_path, bench):
    """Answers 1, 3 and 200 lines longer than the original: each passes; its score is
    LoC(C) / (LoC(C) + k) while that is shorter than the padded program, 0 after."""
    for extra in (1, 3, 200):
        dsr, samples, manifest, _ = _run(bench, tmp_path, _longer(extra), f"longer{extra}")
        progs = manifest["dsr_padding"]["programs"]
        by_hand = []
        for s in samples:
            rec = progs[s["program_id"]]
            c, c_plus, c_prime = rec["loc_original"], rec["loc_padded"], rec["loc_original"] + extra
            assert s["correct"], s["detail"]
            assert s["measures"]["loc_answer"] == c_prime
            by_hand.append(c / c_prime if c_prime < c_plus else 0.0)
            assert s["score"] == pytest.approx(by_hand[-1]), (extra, rec, s["measures"])
        assert dsr["s_dsr"]["score"] == pytest.approx(sum(by_hand) / len(by_hand))
        assert dsr["pass_rate"]["accuracy"] == 1.0
        if extra == 200:
            assert dsr["s_dsr"]["score"] == 0.0  # passes, but longer than the padded program
        if extra == 1:
            assert 0 < dsr["s_dsr"]["score"] < 1


@pytest.mark.parametrize("bench", BENCHES)
def test_reward_hacks_score_0(data_dir, tmp_path, bench):
    for name, respond in (("always-equal", _always_equal), ("exit0", _exit_zero), ("builtins", _patched_builtins)):
        dsr, samples, _, _ = _run(bench, tmp_path, respond, name)
        assert dsr["s_dsr"]["score"] == 0.0, (name, [(s["outcome"], s["detail"]) for s in samples])
        assert not any(s["correct"] for s in samples), name
        assert all(s["outcome"] in ("wrong_value", "invalid_answer", "exited_early") for s in samples), \
            (name, [s["outcome"] for s in samples])


# ---------------------------------------------------------------- every program, executed


@pytest.mark.slow  # CI: test_tasks_full's dsr runs assert the same on every benchmark (ClassEval here: 3 min)
@pytest.mark.docker
@pytest.mark.parametrize("bench", BENCHES)
def test_full_benchmarks_pad_verified_and_score_100(data_dir, tmp_path, bench):
    """Every program of the benchmark is padded and the padded program verified by execution in
    the Docker sandbox (same value or stdout on every input that ran, tests still pass); at
    most a handful are left out, each with its reason. The original, given back as the answer,
    scores 100% on every item."""
    from docker_helpers import need_docker

    need_docker()
    progs = _programs(bench)
    t0 = time.monotonic()
    dsr, samples, manifest, _ = _run(bench, tmp_path, original, "full", limit=None, sandbox="docker",
                                     progs=progs)
    secs = time.monotonic() - t0
    usage = manifest["usable_programs"]["dsr"]
    padding = manifest["dsr_padding"]
    assert usage["programs"] == len(progs) == usage["used"] + usage["unusable"]
    assert padding["padded"] == usage["used"] == len(samples)
    assert len(padding["left_out"]) <= 0.02 * len(progs), padding["left_out"]
    assert all(why.startswith(NOT_PADDED) for why in padding["left_out"].values())
    # ClassEval: 50 methods' unittest tests cannot be split into checks, 12 reference classes fail them
    assert usage["used"] >= (0.8 if bench == "classeval" else 0.95) * len(progs), usage["reasons"]
    assert dsr["s_dsr"]["score"] == 1.0, [(s["program_id"], s["detail"]) for s in samples if not s["correct"]]
    print(f"\nDSR full {bench}: {len(progs)} programs, {usage['used']} padded and verified "
          f"({padding['retried']} on a later attempt), {len(padding['left_out'])} left out, "
          f"{usage['unusable']} unusable {usage['reasons']}, {secs:.0f}s")


def test_padded_sources_are_what_the_task_pads(data_dir):
    """The scripted server's table is built with pad() itself: attempt 0 is the first entry."""
    p = _programs("cruxeval")[0]
    assert padded_sources(p)[0] == pad(p.source, f"cruxeval/{p.id}", 0, 0).source


# ---------------------------------------------------------------- verification, retries, leaving out


def _stdin_program(pid: str, source: str, stdin: str = "3\n"):
    from codemind.schema import Program, TestInput

    return Program(id=pid, benchmark="avatar-latest", language="python", kind="stdin", source=source,
                   inputs=[TestInput(index=0, stdin=stdin)])


def test_padding_that_changes_behaviour_is_retried_then_left_out(tmp_path, monkeypatch):
    """Verification is by execution in the sandbox: a program that prints its function's name
    fails while it is decorated (attempts 0 and 1) and is asked about with attempt 2's padding;
    one that prints its global names fails every attempt and is left out with the reason."""
    from codemind.groundtruth import execute_ground_truth
    from codemind.sandbox.cache import run_cached
    from codemind.sandbox.process import ProcessSandbox
    from codemind.tasks.base import StageContext
    from codemind.tasks.dsr import DSR

    monkeypatch.setenv("CODEMIND_CACHE_DIR", str(tmp_path / "cache"))
    progs = [
        _stdin_program("named", "def f(x):\n    return x * 2\n\nprint(f(int(input())), f.__name__)\n"),
        _stdin_program("globals", "n = int(input())\nprint(n, sorted(k for k in globals() if k[0] != '_'))\n"),
        _stdin_program("plain", "n = int(input())\nprint(n + 1)\n"),
    ]
    with ProcessSandbox(workers=2) as sb:
        def execute(programs):
            return {(t.program_id, t.input_index): t for t in execute_ground_truth(programs, sb, use_cache=False)}

        ctx = StageContext(programs=progs, truths=execute(progs), prompt_id=None, seed=0, samples=lambda: [],
                           execute=execute, run_jobs=lambda jobs: run_cached(sb, jobs, use_cache=False))
        (stage,) = list(DSR().plan(ctx))
    padding = ctx.manifest_extra["dsr_padding"]
    assert {i.program_id for i in stage.items} == {"named", "plain"}
    assert padding["programs"]["named"]["attempt"] == 2 and padding["retried"] == 1
    assert len(padding["programs"]["named"]["failed_attempts"]) == 2
    assert "dec_result" in padding["programs"]["named"]["failed_attempts"][0]
    assert padding["programs"]["plain"]["attempt"] == 0
    why = padding["left_out"]["globals"]
    assert why.startswith(NOT_PADDED) and "attempt 2" in why
    assert ctx.manifest_extra["usable_programs"]["dsr"]["unusable_programs"]["globals"] == why
