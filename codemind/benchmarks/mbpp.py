"""MBPP: the hand-verified 427-task set (``mbpp``) and the full 974-task set (``mbpp-full``).

Each program is the reference solution (with the imports its tests need); its inputs are
the calls in ``test_list`` asserts (see asserts.py), and the entry point is the function the
first usable assert calls. Ids are task ids as strings ("554").
"""

from __future__ import annotations

import ast
import json

from codemind.benchmarks.asserts import input_mode, parse_assert_list, parse_module, to_inputs, top_level_names
from codemind.benchmarks.base import Benchmark
from codemind.benchmarks.datafiles import resolve, sha256_file
from codemind.schema import Program


def split_of(task_id: int) -> str:
    """Official split by task id (upstream README)."""
    if task_id <= 10:
        return "prompt"
    if task_id <= 510:
        return "test"
    if task_id <= 600:
        return "validation"
    return "train"


def _defined(code: str) -> set[str]:
    """Functions and classes a solution defines at top level: what an assert may test."""
    try:
        tree = parse_module(code)
    except SyntaxError:
        return set()
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


class _Mbpp(Benchmark):
    file: str = ""

    def __init__(self, data_dir=None, language="python", **options):
        super().__init__(data_dir, language, **options)
        self.mode = input_mode(options)

    def load(self) -> list[Program]:
        path = resolve(self.file, self.data_dir)
        self._files = {self.file: sha256_file(path)}
        return [self._program(r) for r in self._records(path.read_text(encoding="utf-8"))]

    def _records(self, text: str) -> list[dict]:
        raise NotImplementedError

    def _build(self, r: dict, spec: str, imports: list[str], setup: str, extra: dict) -> Program:
        code = r["code"].replace("\r\n", "\n")
        code_lines = set(code.splitlines())
        header = [i for i in imports if i.strip() and i not in code_lines]
        parts = ["\n".join(header)] if header else []
        parts.append(code.rstrip() + "\n")
        if setup.strip():
            parts.append(setup.replace("\r\n", "\n").rstrip() + "\n")
        source = "\n".join(parts)
        parsed = parse_assert_list(r["test_list"], _defined(code), top_level_names(source))
        inputs, meta = to_inputs(parsed, self.mode)
        entry = parsed.asserts[0].callee if parsed.asserts else None
        tests = "\n".join([*imports, setup, *r["test_list"]]).strip() + "\n"
        return Program(
            id=str(r["task_id"]),
            benchmark=self.name,
            language="python",
            kind="function",
            source=source,
            entry_point=entry,
            inputs=inputs,
            meta={
                "spec": spec,
                "tests": tests,  # append to a candidate solution to run the task's asserts
                "test_list": r["test_list"],
                "split": split_of(int(r["task_id"])),
                "origin": f"google-research mbpp {self.file} task {r['task_id']}",
                **extra,
                **meta,
            },
        )


class MbppSanitized(_Mbpp):
    name = "mbpp"
    file = "mbpp/sanitized-mbpp.json"

    def _records(self, text: str) -> list[dict]:
        return json.loads(text)

    def _program(self, r: dict) -> Program:
        return self._build(r, r["prompt"], r["test_imports"], "", {"source_file": r["source_file"]})


class MbppFull(_Mbpp):
    name = "mbpp-full"
    file = "mbpp/mbpp.jsonl"

    def _records(self, text: str) -> list[dict]:
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def _program(self, r: dict) -> Program:
        extra = {"challenge_test_list": r["challenge_test_list"]} if r["challenge_test_list"] else {}
        return self._build(r, r["text"], [], r["test_setup_code"], extra)
