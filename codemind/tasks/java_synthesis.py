"""Java synthesis for DER and SR (HumanEval-X Java): what synthesis.py does for Python, in Java.

- Which problems (``static_problem``): a HumanEval-X Java program with a spec (the prompt:
  imports, ``class Solution`` with the method's javadoc and signature) and a test the judge
  can split into checks (judges/java_tests.py). Java/32, /38, /50 and /53 test random inputs
  in loops: they are left out with that reason.
- The shown test (``shown_test``): the test's first check as a Java assertion,
  ``if (!(CHECK)) throw new AssertionError();``, the check whose call is the program's first
  input (the one DER asks about).
- The misleading test (``mutate_test``): the same assertion with the check's expected side
  mutated (tasks/mutate.py's rules, on Java values: numbers shifted, strings edited, lists
  with an element added or dropped, a boolean check negated), seeded like the Python one.
- DER's own program (``own_program``): the model's class followed by the same ``Main`` that
  prints the first call (benchmarks/java_main.py), so the prediction question has the
  reference's shape; its output is believed (``checked_against_tests``) only where the test
  run that passed returned a value whose Java ``toString`` is that output.
- Code answers (``extract_java_code``): the first ```java fenced block that declares a class.
"""

from __future__ import annotations

import random
import re
from typing import Callable

from codemind.benchmarks.humaneval_x import java_setup
from codemind.benchmarks.java_main import java_main
from codemind.judges.java_expr import Parser, Unsupported, evaluate
from codemind.judges.java_tests import demote_public, java_test_job, plan_java_tests, read_records, setup_for
from codemind.judges.java_values import JList, JOptional, JScalar, JavaError, to_string
from codemind.schema import ExecJob, Execution, Program, TestInput
from codemind.tasks.base import NO_INPUT, NO_SPEC, NO_TESTS, NOT_FUNCTION, RUNNABLE, input_problem
from codemind.tasks.mutate import mutate_value

BENCHMARKS = ("humaneval-x",)


def static_problem(program: Program) -> str | None:
    """Why no synthesis stage can use this Java program, whatever its ground truth."""
    if program.benchmark not in BENCHMARKS:
        return f"{NOT_FUNCTION}: Java synthesis needs a HumanEval-X problem (a class to write and its tests)"
    if not (program.meta.get("spec") or "").strip():
        return f"{NO_SPEC}: the benchmark states no problem to implement"
    if not program.meta.get("tests"):
        return f"{NO_TESTS}: nothing to judge written code by"
    plan = plan_java_tests(program.meta["tests"])
    if not plan.complete:
        return f"{NO_TESTS}: no checks the judge can decide ({plan.reason})"
    return None


def synthesis_problem(program: Program, truths: dict, needs_run: bool) -> str | None:
    why = static_problem(program)
    if why:
        return why
    if not program.inputs:
        return input_problem(program, truths)
    if needs_run:
        return input_problem(program, truths, program.inputs[:1])
    return None


def first_check(program: Program) -> str:
    return plan_java_tests(program.meta["tests"]).checks[0].text


def assertion(program: Program, check: str) -> str:
    """The check as a Java assertion, after the test's set-up statements it reads (Java/95's maps)."""
    setup = setup_for(plan_java_tests(program.meta["tests"]), check)
    return "".join(f"{s}\n" for s in setup) + f"if (!({check})) throw new AssertionError();"


def shown_test(program: Program) -> str:
    return assertion(program, first_check(program))


# ---------------------------------------------------------------- the misleading test


def mutate_test(program: Program, rng: random.Random) -> tuple[str, str, str] | None:
    """(misleading assertion, original expected text, mutated expected text), or None."""
    check = first_check(program)
    p = Parser(check, "s")
    tree = p.parse()
    spans = p.spans
    target = _expected(tree)
    if target is not None and id(target) not in spans:
        return None
    if target is None:  # a boolean check: negate it
        negated = check[1:].strip() if tree[0] == "unary" and tree[1] == "!" else f"!({check})" \
            if tree[0] == "bin" else f"!{check}"
        return assertion(program, negated), check, negated
    try:
        value = evaluate(target, {})
        mutated = _mutate(value, rng)
        text = _literal(mutated)
    except (Unsupported, JavaError, ValueError):
        return None
    start, end = spans[id(target)]
    original = check[start:end]
    if text == original:
        return None
    return assertion(program, check[:start] + text + check[end:]), original, text


def _has_call(node) -> bool:
    if node[0] == "call":
        return True
    return any(_has_call(x) for part in node[1:] for x in (part if isinstance(part, list) else [part])
               if isinstance(x, tuple))


def _expected(node):
    """The sub-expression a check compares the call's value against (None: a boolean check)."""
    op = node[0]
    if op == "bin" and node[1] in ("==", "!="):
        left, right = node[2], node[3]
        if _has_call(left) and not _has_call(right):
            return right
        if _has_call(right) and not _has_call(left):
            return left
        return None
    if op == "bin" and node[1] in ("<", ">", "<=", ">="):
        side = node[2] if _has_call(node[2]) else node[3]
        return _expected(side)
    if op == "static" and node[1] == "Math.abs" and len(node[2]) == 1:
        return _expected(node[2][0])
    if op == "bin" and node[1] in ("-", "+"):
        return _expected(("bin", "==", node[2], node[3]))  # Math.abs(CALL - EXPECTED) < eps
    if op == "method" and node[2] == "equals" and len(node[3]) == 1:
        return node[3][0] if _has_call(node[1]) and not _has_call(node[3][0]) else None
    if op == "static" and node[1] == "Objects.equals" and len(node[2]) == 2:
        a, b = node[2]
        return b if _has_call(a) and not _has_call(b) else a if _has_call(b) and not _has_call(a) else None
    return None


_LIMITS = {"I": 1 << 31, "S": 1 << 15, "B": 1 << 7}


def _mutate(v, rng: random.Random):
    if isinstance(v, JScalar):
        if v.kind in "IJSB":
            n = mutate_value(int(v.value), rng)  # type: ignore[arg-type]
            if v.kind in _LIMITS and not -_LIMITS[v.kind] <= n < _LIMITS[v.kind]:
                n = int(v.value) - 1  # type: ignore[arg-type]
            return JScalar(v.kind, n)
        if v.kind in "DF":
            return JScalar(v.kind, mutate_value(float(v.value), rng))  # type: ignore[arg-type]
        if v.kind == "Z":
            return JScalar("Z", not v.value)
        if v.kind == "s":
            return JScalar("s", mutate_value(str(v.value), rng))
        if v.kind == "C":
            return JScalar("C", chr((ord(str(v.value)) - 97 + rng.choice((1, 2, 3))) % 26 + 97))
    if isinstance(v, JList):
        items = list(v.items)
        if items and rng.random() < 0.5:
            del items[rng.randrange(len(items))]
        else:
            new = _mutate(items[rng.randrange(len(items))], rng) if items else JScalar("I", 0)
            items.insert(rng.randrange(len(items) + 1), new)
        return JList(tuple(items))
    if isinstance(v, JOptional):
        return JOptional(True, _mutate(v.value, rng)) if v.present else JOptional(True, JScalar("I", 1))
    raise ValueError("no mutation for this value")


def _literal(v) -> str:
    """Java source for a value."""
    if v is None:
        return "null"
    if isinstance(v, JScalar):
        if v.kind == "s":
            return '"' + "".join(_char(c) for c in str(v.value)) + '"'
        if v.kind == "C":
            return "'" + _char(str(v.value)) + "'"
        if v.kind == "J":
            return f"{v.value}L"
        if v.kind in "DF":
            text = repr(float(v.value))  # type: ignore[arg-type]
            if text in ("nan", "inf", "-inf"):
                raise ValueError("not a literal")
            return text + ("f" if v.kind == "F" else "")
        if v.kind == "Z":
            return "true" if v.value else "false"
        return str(v.value)
    if isinstance(v, JList):
        return "Arrays.asList(" + ", ".join(_literal(x) for x in v.items) + ")"
    if isinstance(v, JOptional):
        return f"Optional.of({_literal(v.value)})" if v.present else "Optional.empty()"
    raise ValueError("not a literal")


def _char(c: str) -> str:
    if c in '"\'\\':
        return "\\" + c
    if 0x20 <= ord(c) < 0x7f:
        return c
    return f"\\u{ord(c):04x}"


# ---------------------------------------------------------------- DER: the model's own program


def own_program(reference: Program, code: str, sample_index: int) -> Program:
    """The model's class followed by the Main that prints the first input's call."""
    tests = reference.meta["tests"]
    call = plan_java_tests(tests).checks[0].calls[0]
    printer = "java.util.Arrays.toString({})" if str(reference.meta.get("return_type", "")).endswith("[]") else "{}"
    source = demote_public(code).rstrip("\n") + "\n\n" + java_main([call], printer, java_setup(tests))
    first = reference.inputs[0]
    return reference.model_copy(update={
        "id": f"{reference.id}@{sample_index}",
        "source": source,
        "inputs": [TestInput(index=first.index, stdin="", label=first.label)],
        "meta": {**reference.meta, "reference_id": reference.id, "synthesis_sample": sample_index,
                 "own_code": code},
    })


def checked_against_tests(own: list[Program], truths: dict, references: dict[str, Program],
                          run_jobs: Callable[[list[ExecJob]], list[Execution]], unchecked: Callable) -> dict:
    """The own program's printed output, believed only where the test run that passed (read back
    from the execution cache: the same job the judge ran) returned, for the same call, a plain
    value whose Java toString is that output."""
    jobs, where = [], []
    for p in own:
        truth = truths.get((p.id, p.inputs[0].index)) if p.inputs else None
        if truth is None or truth.status not in RUNNABLE:
            continue
        plan = plan_java_tests(references[p.meta["reference_id"]].meta["tests"])
        jobs.append(java_test_job(p.meta["own_code"], plan))
        where.append((p, truth, plan))
    for (p, truth, plan), ex in zip(where, run_jobs(jobs) if jobs else []):
        calls, _ = read_records(ex, len(plan.calls))
        got = calls[0] if calls else None
        printed = to_string(got.value) if got is not None and got.kind == "value" else None
        if printed is None or printed != (truth.expected or "").rstrip("\n"):
            truths[(p.id, p.inputs[0].index)] = unchecked(truth, "the test run returned something else")
    return truths


# ---------------------------------------------------------------- code answers

_FENCED = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n(.*?)```", re.S)
_OPEN = re.compile(r"```[ \t]*java[ \t]*\n(.*)\Z", re.S | re.I)
_CLASS = re.compile(r"^\s*(?:(?:public|final|abstract|static)\s+)*(?:class|interface|enum|record)\s", re.M)


def extract_java_code(text: str) -> str | None:
    """The first ```java block that declares a class (else the first ```java block, else the first
    fenced block with a class), an unterminated ```java block, or an unfenced reply that is a class."""
    if not text or not text.strip():
        return None
    blocks = [(lang.lower(), body) for lang, body in _FENCED.findall(text)]
    java = [b for lang, b in blocks if lang == "java"]
    for body in java + [b for lang, b in blocks if lang != "java"]:
        if _CLASS.search(body):
            return body.strip("\n") + "\n"
    if java:
        return java[0].strip("\n") + "\n"
    m = _OPEN.search(text)
    if m:
        return m.group(1).strip("\n") + "\n"
    if not blocks and _CLASS.search(text) and re.search(r"\bclass\s+Solution\b", text):
        return text.strip("\n") + "\n"
    return None


__all__ = ["static_problem", "synthesis_problem", "shown_test", "mutate_test", "own_program",
           "checked_against_tests", "extract_java_code", "NO_INPUT"]
