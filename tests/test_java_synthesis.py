"""Java DER/SR synthesis on HumanEval-X Java: the tests judge's Java half (judges/java_tests.py,
java_expr.py, java_values.py) and tasks/java_synthesis.py.

The Docker test judges, in one batch, a wrong stub of every problem whose test splits into
checks (the method returns its type's default value): none is correct. The reference
solutions (prompt + canonical_solution) of the same problems are judged correct, every one,
by the full runs through `codemind run` (SR and DER over all 164 problems, scripted server)
in test_tasks_full.py; the hacks are in test_integrity_java.py.
"""

from __future__ import annotations

import gzip
import json
import math
import random

import pytest

from codemind.judges.java_expr import Parser, evaluate
from codemind.judges.java_tests import plan_java_tests
from codemind.judges.java_values import JList, JScalar, double_to_string, jequals, jsame, to_string

NOT_CHECKS = {"Java/32", "Java/38", "Java/50", "Java/53"}  # random inputs in loops
DEFAULTS = {"boolean": "false", "int": "0", "long": "0", "double": "0.0", "String": '""', "Object": "null"}


def _rows(data_dir) -> list[dict]:
    with gzip.open(data_dir / "humaneval-x" / "humaneval_java.jsonl.gz", "rt") as f:
        return [json.loads(line) for line in f]


def _stub(row: dict) -> str:
    """The declaration with a body that returns the return type's default value (the method to
    write is the declaration's last: Java/10 declares a helper first)."""
    import re

    rtype = re.findall(r"public\s+([\w<>\[\], ?]+?)\s+\w+\s*\(", row["declaration"])[-1].strip()
    if rtype in DEFAULTS:
        value = DEFAULTS[rtype]
    elif rtype.startswith("Optional"):
        value = "Optional.empty()"
    elif rtype.startswith("Map"):
        value = "new HashMap<>()"
    elif rtype.endswith("[]"):
        value = f"new {rtype[:-2]}[0]"
    else:
        value = "new ArrayList<>()"
    return row["declaration"].rstrip() + f"\n        return {value};\n    }}\n}}\n"


def test_every_test_but_the_looping_ones_splits_into_checks(data_dir):
    rows = _rows(data_dir)
    assert len(rows) == 164
    plans = {r["task_id"]: plan_java_tests(r["test"]) for r in rows}
    assert {t for t, p in plans.items() if not p.complete} == NOT_CHECKS
    assert sum(len(p.checks) for p in plans.values()) > 1000
    assert plans["Java/95"].sandbox_setup  # its calls take the maps the test builds
    assert set(plans["Java/111"].host_env) >= {"map1", "map8"}  # its expected maps: built in the judge
    assert not plans["Java/111"].sandbox_setup  # ... and never sent to the sandbox
    assert len(plans["Java/44"].checks) == 6 + 6  # its loop after the list, unrolled (x = 2..7)
    assert plans["Java/151"].complete  # what follows its list is an `assert` (Java runs without -ea)


@pytest.mark.docker
def test_stubs_fail_on_every_checkable_problem(data_dir):
    from docker_helpers import need_docker

    from codemind.judges.java_tests import java_test_job, java_verdict
    from codemind.sandbox.docker import DockerSandbox

    need_docker()
    rows = [r for r in _rows(data_dir) if r["task_id"] not in NOT_CHECKS]
    plans = [plan_java_tests(r["test"]) for r in rows]
    jobs = [java_test_job(_stub(r), p) for r, p in zip(rows, plans)]
    sb = DockerSandbox(workers=2)
    try:
        exs = sb.run(jobs)
    finally:
        sb.close()
    stubs = {r["task_id"]: java_verdict(p, ex) for r, p, ex in zip(rows, plans, exs)}
    assert not [t for t, v in stubs.items() if v[0] == "correct"]
    assert {v[0] for v in stubs.values()} <= {"wrong_value", "invalid_answer"}, stubs


def _eval(text: str, *values):
    p = Parser(text)
    return evaluate(p.parse(), dict(enumerate(values)))


def test_java_semantics_of_the_judged_part():
    one, lone = JScalar("I", 1), JScalar("J", 1)
    assert not jequals(one, lone) and jsame(one, lone)  # Integer.equals(Long) is false; == compares numbers
    assert _eval("s.f() == 0.5", JScalar("D", 0.5)).value
    assert _eval("Math.abs(s.f() - 2.0/3.0) < 1e-6", JScalar("D", 2 / 3)).value
    assert not _eval("Math.abs(s.f() - 2.0/3.0) < 1e-6", JScalar("D", 0.6)).value
    assert _eval("s.f().equals(Arrays.asList(1, 2))", JList((one, JScalar("I", 2)))).value
    assert not _eval("s.f().equals(Arrays.asList(1, 2))", JList((lone, JScalar("J", 2)))).value
    assert _eval('Objects.equals(s.f(), "a\\tb")', JScalar("s", "a\tb")).value
    assert _eval("(int) s.f() == 3", JScalar("I", 3)).value
    with pytest.raises(Exception, match="ClassCastException"):
        _eval("(int) s.f() == 3", JScalar("s", "3"))
    assert _eval("!s.f()", JScalar("Z", False)).value
    with pytest.raises(Exception, match="NullPointerException"):
        _eval("s.f().equals(List.of())", None)
    assert _eval("s.f() == 2147483647 + 1", JScalar("I", -(1 << 31))).value  # int arithmetic wraps
    assert [double_to_string(x) for x in (0.5, 1e-5, 1e7, 123456.789, -0.0, math.inf, 100.0)] == [
        "0.5", "1.0E-5", "1.0E7", "123456.789", "-0.0", "Infinity", "100.0"]
    assert to_string(JList((one, JScalar("s", "x"), None))) == "[1, x, null]"


def test_the_misleading_test_is_seeded_and_wrong(data_dir):
    from codemind.benchmarks.base import BENCHMARKS
    from codemind.tasks import java_synthesis as js
    from codemind.tasks.mutate import rng_for

    progs = [p for p in BENCHMARKS.get("humaneval-x")(language="java").load() if js.static_problem(p) is None]
    assert len(progs) == 160
    mutated = {p.id: js.mutate_test(p, rng_for(0, p.benchmark, p.id)) for p in progs}
    assert sum(m is not None for m in mutated.values()) >= 150
    again = {p.id: js.mutate_test(p, rng_for(0, p.benchmark, p.id)) for p in reversed(progs)}
    assert again == mutated
    for p in progs:
        m = mutated[p.id]
        if m is not None:
            assert m[0] != js.shown_test(p) and m[1] != m[2], p.id
    other = {p.id: js.mutate_test(p, random.Random(f"codemind-sr/1/{p.benchmark}/{p.id}")) for p in progs}
    assert other != mutated


def test_java_code_extraction():
    from codemind.tasks.java_synthesis import extract_java_code

    code = "import java.util.*;\nclass Solution {\n    int f() { return 1; }\n}\n"
    assert extract_java_code(f"Sure:\n```java\n{code}```\nDone.") == code
    assert extract_java_code(f"```\nnotes\n```\n```java\n{code}```") == code
    assert extract_java_code(f"```java\n{code}") == code  # unterminated fence
    assert extract_java_code(code) == code  # no fence: the reply is the class
    assert extract_java_code("I cannot do that.") is None


@pytest.mark.docker
def test_der_believes_an_own_output_only_as_its_test_run_returned_it(data_dir):
    """DER's prediction question about the model's own Java code: its printed output is the
    expected answer only where the judged test run returned, for the same call, a value that
    prints so. Code that prints something else around its value (or behaves otherwise outside
    the test) loses the question instead of choosing its answer."""
    from docker_helpers import need_docker

    from codemind.benchmarks.base import BENCHMARKS
    from codemind.groundtruth import GroundTruth
    from codemind.sandbox.cache import run_cached
    from codemind.sandbox.docker import DockerSandbox
    from codemind.tasks.der import UNCHECKED, _unchecked
    from codemind.tasks.java_synthesis import checked_against_tests, own_program

    need_docker()
    ref = next(p for p in BENCHMARKS.get("humaneval-x")(language="java").load() if p.id == "Java/13")
    honest = "class Solution {\n    public int greatestCommonDivisor(int a, int b) { return b == 0 ? a : greatestCommonDivisor(b, a % b); }\n}\n"
    noisy = honest.replace("public int greatestCommonDivisor(int a, int b) {",
                           "public int greatestCommonDivisor(int a, int b) { System.out.println(7);")
    own = [own_program(ref, honest, 0), own_program(ref, noisy, 1)]
    assert "System.out.println(s.greatestCommonDivisor(3, 7))" in own[0].source
    truths = {(p.id, 0): GroundTruth(program_id=p.id, input_index=0, execution=None, expected=out, status="ok")
              for p, out in zip(own, ["1\n", "7\n1\n"])}
    sb = DockerSandbox(workers=1)
    try:
        got = checked_against_tests(own, truths, {ref.id: ref}, lambda jobs: run_cached(sb, jobs), _unchecked)
    finally:
        sb.close()
    assert got[(own[0].id, 0)].status == "ok" and got[(own[0].id, 0)].expected == "1\n"
    assert got[(own[1].id, 0)].status == "does_not_run" and UNCHECKED in got[(own[1].id, 0)].reason
