"""CRUXEval: 800 Python functions ``f``, each with one input and the stated output."""

from __future__ import annotations

import json

from codemind.benchmarks.base import Benchmark
from codemind.benchmarks.datafiles import resolve, sha256_file
from codemind.schema import Program, TestInput

FILE = "cruxeval/cruxeval.jsonl"


class CruxEval(Benchmark):
    name = "cruxeval"

    def __init__(self, data_dir=None, language="python", **options):
        super().__init__(data_dir, language, **options)

    def load(self) -> list[Program]:
        path = resolve(FILE, self.data_dir)
        self._files = {FILE: sha256_file(path)}
        with path.open(encoding="utf-8") as f:
            return [self._program(json.loads(line)) for line in f if line.strip()]

    def _program(self, r: dict) -> Program:
        return Program(
            id=r["id"],
            benchmark=self.name,
            language="python",
            kind="function",
            source=r["code"],
            entry_point="f",
            inputs=[TestInput(index=0, call=f"f({r['input']})", label=r["output"])],
            meta={
                "input": r["input"],  # CRUXEval-I and its scorer need the raw texts
                "output": r["output"],
                "tests": f"assert f({r['input']}) == {r['output']}\n",
                "origin": f"facebookresearch/cruxeval@190faf1 data/cruxeval.jsonl {r['id']}",
            },
        )

