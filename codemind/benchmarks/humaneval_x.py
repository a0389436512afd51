"""HumanEval-X (CodeGeeX): HumanEval's 164 problems in Java, and the Python originals.

How IER works for them:

- **Python** (``Python/k``): function programs exactly like ``humaneval``: the prompt plus
  the canonical solution, inputs = the calls of the ``check`` asserts (asserts.py), the
  answer is the returned value (``value`` judge, CRUXEval-style prompt by default).
- **Java** (``Java/k``): Java has no REPL call to take a return value from, so each task
  becomes a stdin program: ``class Solution`` (prompt + canonical solution) followed by a
  ``public class Main`` that builds ``Solution s`` and prints the value of one test call
  with ``System.out.println``. The call is the one inside the first check of the test's
  ``Arrays.asList(...)`` (``s.truncateNumber(3.5) == 0.5`` -> ``s.truncateNumber(3.5)``),
  after the statements the test runs before its checks (Java/95 builds its maps there);
  the answer is what that prints (``stdout`` judge, CodeMind's Java prompt by default).
  With ``inputs="all"`` the Main reads a check number from stdin and prints that call
  (``switch``), one input per check. Tasks whose tests only draw random inputs in loops
  (Java/38, Java/50) use the checks of ``example_test`` when it has some, else they have
  no input and ground truth counts them as excluded.
  The label is stated only where the check fixes what ``println`` prints: a boolean check
  (``s.f(x)`` / ``!s.f(x)``) of a ``boolean`` method, ``== <int literal>`` for an
  int/long method, ``Objects.equals(s.f(x), "text")`` / ``.equals("text")`` for a String
  method. Other checks (doubles, lists, tolerances) give no label and are only executed.
"""

from __future__ import annotations

import gzip
import json
import re

from codemind.benchmarks.asserts import input_mode, parse_check_function, to_inputs
from codemind.benchmarks.base import Benchmark
from codemind.benchmarks.java_main import java_main
from codemind.benchmarks.datafiles import resolve, sha256_file
from codemind.errors import UserError
from codemind.schema import Program, TestInput

FILES = {"java": "humaneval-x/humaneval_java.jsonl.gz", "python": "humaneval-x/humaneval_python.jsonl.gz"}
ORIGIN = "THUDM/CodeGeeX@2838420 codegeex/benchmark/humaneval-x"


# ---------------------------------------------------------------- reading Java test code


def _skip_literal(text: str, i: int) -> int:
    """Index just past the string/char literal starting at text[i]."""
    quote, i = text[i], i + 1
    while i < len(text) and text[i] != quote:
        i += 2 if text[i] == "\\" else 1
    return i + 1


def _balanced(text: str, open_at: int) -> int:
    """Index of the parenthesis closing the one at text[open_at]."""
    depth, i = 0, open_at
    while i < len(text):
        ch = text[i]
        if ch in "\"'":
            i = _skip_literal(text, i)
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError("unbalanced parentheses")


def _split_top_level(args: str) -> list[str]:
    parts, depth, start, i = [], 0, 0, 0
    while i < len(args):
        ch = args[i]
        if ch in "\"'":
            i = _skip_literal(args, i)
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(args[start:i].strip())
            start = i + 1
        i += 1
    tail = args[start:].strip()
    return parts + ([tail] if tail else [])


def java_checks(test: str) -> list[str]:
    """The boolean checks inside ``correct = Arrays.asList(...)`` of a HumanEval-X Java test."""
    m = re.search(r"correct\s*=\s*Arrays\.asList\(", test)
    if not m:
        return []
    end = _balanced(test, m.end() - 1)
    return _split_top_level(test[m.end() : end])


_CALL = re.compile(r"(?<![\w.$])s\.([A-Za-z_]\w*)\s*\(")


def check_call(check: str) -> str | None:
    """The first ``s.method(...)`` call in a check, as written."""
    m = _CALL.search(check)
    if not m:
        return None
    end = _balanced(check, m.end() - 1)
    return check[m.start() : end + 1]


_STRING = r'"((?:[^"\\]|\\.)*)"'


def check_label(check: str, call: str, return_type: str) -> str | None:
    """What println(call) must print for the check to hold, where the check fixes it."""
    c = check.strip()
    if return_type == "boolean":
        if c == call:
            return "true"
        if c == "!" + call:
            return "false"
    if return_type in ("int", "long"):
        m = re.fullmatch(re.escape(call) + r"\s*==\s*(-?\d+)", c)
        if m:
            return str(int(m.group(1)))
    if return_type == "String":
        for pattern in (r"Objects\.equals\(\s*" + re.escape(call) + r"\s*,\s*" + _STRING + r"\s*\)",
                        re.escape(call) + r"\.equals\(\s*" + _STRING + r"\s*\)"):  # fmt: skip
            m = re.fullmatch(pattern, c)
            if m and "\\" not in m.group(1):
                return m.group(1)
    return None


def return_type(declaration: str) -> str:
    body = declaration.split("class Solution", 1)[-1]
    m = re.search(r"public\s+(?:static\s+)?([\w<>\[\], ?]+?)\s+\w+\s*\(", body)
    return m.group(1).strip() if m else ""


def java_setup(test: str) -> str:
    """Statements the test's main runs between ``Solution s = new Solution();`` and its
    checks (Java/95 fills maps there), re-indented for the generated Main."""
    m = re.search(r"Solution\s+s\s*=\s*new\s+Solution\(\)\s*;(.*?)List<Boolean>\s+correct\s*=", test, re.S)
    if not m or not m.group(1).strip():
        return ""
    lines = [ln.strip() for ln in m.group(1).strip().splitlines()]
    return "".join(f"        {ln}\n" for ln in lines if ln)


# ---------------------------------------------------------------- the benchmark


class HumanEvalX(Benchmark):
    name = "humaneval-x"
    languages = ("python", "java")

    def __init__(self, data_dir=None, language="python", **options):
        super().__init__(data_dir, language, **options)
        self.mode = input_mode(options)

    def load(self) -> list[Program]:
        name = FILES[self.language]
        path = resolve(name, self.data_dir)
        self._files = {name: sha256_file(path)}
        with gzip.open(path, "rt", encoding="utf-8") as f:
            records = [json.loads(line) for line in f if line.strip()]
        build = self._java if self.language == "java" else self._python
        return [build(r) for r in records]

    def _python(self, r: dict) -> Program:
        m = re.search(r"^check\((\w+)\)\s*$", r["test"], re.M)
        if not m:
            raise UserError(f"humaneval-x {r['task_id']}: test does not end with check(<entry point>)")
        entry = m.group(1)
        source = r["prompt"] + r["canonical_solution"]
        inputs, meta = to_inputs(parse_check_function(r["test"], entry, source), self.mode)
        return Program(
            id=r["task_id"], benchmark=self.name, language="python", kind="function", source=source,
            entry_point=entry, inputs=inputs,
            meta={"spec": r["prompt"], "tests": r["test"] + "\n", "origin": f"{ORIGIN}/python {r['task_id']}", **meta},
        )  # fmt: skip

    def _java(self, r: dict) -> Program:
        solution = r["prompt"] + r["canonical_solution"]
        rtype = return_type(r["declaration"])
        checks, where = java_checks(r["test"]), "test"
        if not checks:
            checks, where = java_checks(r.get("example_test") or ""), "example_test"
        usable = [(c, call) for c in checks if (call := check_call(c)) is not None]
        if self.mode == "first":
            usable = usable[:1]
        # an array's println is its identity hash: print its contents instead
        printer = "java.util.Arrays.toString({})" if rtype.endswith("[]") else "{}"
        meta: dict = {
            "spec": r["prompt"], "return_type": rtype, "checks_from": where,
            "checks": [c for c, _ in usable], "tests": r["test"],
            "origin": f"{ORIGIN}/java {r['task_id']}",
        }  # fmt: skip
        if not usable:
            meta["skipped_asserts"] = [{"assert": None, "reason": "the test has no Arrays.asList checks (random inputs)"}]
            return Program(id=r["task_id"], benchmark=self.name, language="java", kind="stdin", source=solution,
                           inputs=[], meta=meta)
        calls = [call for _, call in usable]
        setup = java_setup(r["test"]) if where == "test" else java_setup(r.get("example_test") or "")
        source = solution + "\n\n" + java_main(calls, printer, setup)
        inputs = [
            TestInput(index=k, stdin="" if len(calls) == 1 else f"{k}\n", label=check_label(c, call, rtype))
            for k, (c, call) in enumerate(usable)
        ]
        return Program(id=r["task_id"], benchmark=self.name, language="java", kind="stdin", source=source,
                       entry_point=None, inputs=inputs, meta=meta)

