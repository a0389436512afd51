"""CodeMind's own IER items (`--inputs codemind`): the input and stated output the paper used.

CodeMind picked one input per HumanEval/MBPP/CRUXEval program (input.txt, a call) and wrote
the expected output as the assert's right-hand side text (output.txt, e.g. `("exercises")`
or `6.00`). Its success lists compare against those texts, so reproducing the paper needs
the same (input, label) pairs; the program source stays the benchmark's own (CodeMind's
main.py files drop the imports the code needs). Programs CodeMind has no complete item for
are left out. Only a local mirror has these files (CODEMIND_DATA / --data-dir).
"""

from __future__ import annotations

import os
from pathlib import Path

from codemind.errors import UserError
from codemind.schema import Program, TestInput

PAPER_SET = Path("codemind") / "paper_v1_2024-02"
FOLDERS = {"humaneval": "HumanEval", "mbpp": "MBPP", "cruxeval": "CRUXEval"}


def item_dir_name(benchmark: str, program_id: str) -> str:
    return program_id.replace("HumanEval/", "HumanEval_") if benchmark == "humaneval" else program_id


def paper_root(data_dir: Path | None) -> Path:
    root = data_dir or (Path(os.environ["CODEMIND_DATA"]) if os.environ.get("CODEMIND_DATA") else None)
    if root is None:
        raise UserError("--inputs codemind needs the CodeMind data mirror: set CODEMIND_DATA or --data-dir")
    return Path(root) / PAPER_SET


def with_codemind_inputs(programs: list[Program], benchmark: str, data_dir: Path | None) -> list[Program]:
    """Programs whose inputs are replaced by CodeMind's single (call, label) item."""
    if benchmark not in FOLDERS:
        raise UserError(f"--inputs codemind is only defined for {', '.join(FOLDERS)}, not {benchmark}")
    folder = paper_root(data_dir) / FOLDERS[benchmark]
    if not folder.is_dir():
        raise UserError(f"missing CodeMind items folder {folder} (needed by --inputs codemind)")
    out = []
    for p in programs:
        d = folder / item_dir_name(benchmark, p.id)
        call, label = d / "input.txt", d / "output.txt"
        if not (call.is_file() and label.is_file()):
            continue
        inp = TestInput(index=0, call=call.read_text().strip(), label=label.read_text().strip())
        out.append(p.model_copy(update={"inputs": [inp], "meta": {**p.meta, "codemind_item": str(d)}}))
    return out
