"""Execution traces of Python programs and the questions asked about them (task ``trace``).

A trace is made in the sandbox, by the sandbox's ordinary job: its source is the tracer
(``snippets/tracer.py``, package data) and its one call runs the program's source and call
under ``sys.settrace``, restricted to the program's own code objects, and returns the trace as a
plain value (docs/trace.md). The job goes through the execution cache like any other
(``run_cached``: keyed by its content hash, so the tracer's bytes and caps are part of the key).

Here, in the host, a trace is read back (``read_trace``: refused when the job failed, the program
raised, tampered with tracing, or returned another value than its untraced run), and the facts
the questions ask are derived from its line events and the program's ``ast``:

- coverage of line L: whether a line event of L is recorded (a truncated trace answers only "yes");
- state: the value of local ``v`` right after the first execution of L, i.e. at the next event of
  the same frame (Nil when L never runs);
- path: the line of the next line event after the first execution of L, in any frame of the
  program (-1: L never runs, or nothing of the program runs after it);
- loops: how many times the body of the loop at L runs during the loop's first execution (the
  first statement of its body is executed once per iteration).

``choose`` is the seeded sampler: per (program, input) one line L with a variable v it assigns
(the REval chain coverage -> state -> path -> output asks about the same L and v), executed or
not with equal chance where both exist, and one executed loop.
"""

from __future__ import annotations

import ast
import random
import warnings
from dataclasses import dataclass, field
from typing import Any

from codemind import resources
from codemind.schema import ExecJob, Execution, Limits, Program, TestInput, content_hash

TRACER = resources.text("codemind.tasks", "snippets/tracer.py")
SAMPLER = "trace-sampler/v1"
MAX_STEPS = 2000  # line and return events recorded per trace
MAX_VALUE = 256  # bytes of one local's plain-value encoding (past it: not asked about)
MAX_BYTES = 200_000  # bytes of recorded locals per trace
LIMITS = Limits(cpu_seconds=10.0, wall_seconds=20.0)

NIL = "Nil"  # state of a variable at a line that never runs (REval's answer)
NO_LINE = -1  # path after a line that never runs, or after which nothing runs

# names a program may not mention to be traced: switching tracing off, reaching frames or the
# tracer, the result channel (docs/trace.md, "Hostile programs")
INTROSPECTION = frozenset({
    "settrace", "setprofile", "gettrace", "getprofile", "_getframe", "f_trace", "f_back", "f_locals",
    "f_globals", "tb_frame", "gi_frame", "cr_frame", "ag_frame", "_exit", "fdopen", "dup", "dup2",
    "monitoring", "ctypes", "gc", "inspect", "codemind_plainvalues", "__codemind_trace__", "_current_frames",
})  # fmt: skip


def screen(source: str) -> str | None:
    """Why the program is not traced (it names interpreter internals a trace depends on), or
    None. Names, attributes, imports and string constants count: getattr(sys, "settrace") too."""
    try:
        tree = _parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "does not parse"
    for node in ast.walk(tree):
        words: list[str] = []
        if isinstance(node, ast.Name):
            words = [node.id]
        elif isinstance(node, ast.Attribute):
            words = [node.attr]
        elif isinstance(node, ast.alias):
            words = node.name.split(".")
        elif isinstance(node, ast.ImportFrom) and node.module:
            words = node.module.split(".")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 200:
            words = [w for w in INTROSPECTION if len(w) > 3 and w in node.value]
        hit = next((w for w in words if w in INTROSPECTION or "codemind" in w), None)
        if hit:
            return f"it names {hit}"
    return None


def trace_job(program: Program, inp: TestInput, max_steps: int = MAX_STEPS, max_value: int = MAX_VALUE,
              max_bytes: int = MAX_BYTES, seed: int = 0) -> ExecJob:
    """The sandbox job that traces one (program, input): the tracer's source and one call. The
    random module is seeded with `seed`, so the same job gives the same trace."""
    call = f"__codemind_trace__({program.source!r}, {inp.call!r}, {max_steps}, {max_value}, {max_bytes}, {seed})"
    return ExecJob(language="python", source=TRACER, calls=[call], stdin=inp.stdin or "", limits=LIMITS)


def probe_job(program: Program, inp: TestInput) -> ExecJob:
    """The trace job again under another clock (groundtruth.PROBE_ZONES[0], made effective by
    the clock probe's tzset) and another random seed: for programs whose determinism is probed
    (ClassEval), a trace is asked about only when this one is the same (a local may draw random
    numbers although the output does not depend on them)."""
    from codemind.groundtruth import PROBE_ZONES

    job = trace_job(program, inp, seed=1)
    prelude = resources.text("codemind", "snippets/clock_probe.py")
    return job.model_copy(update={"source": prelude + job.source, "env": {**job.env, "TZ": PROBE_ZONES[0]}})


def same_trace(a: "Trace", b: "Trace") -> bool:
    return a.steps == b.steps and a.ret == b.ret and a.truncated == b.truncated


def caps() -> dict:
    return {"max_steps": MAX_STEPS, "max_value": MAX_VALUE, "max_bytes": MAX_BYTES,
            "tracer_sha256": content_hash(TRACER)}


@dataclass
class Step:
    frame: int
    event: str  # "l" a line about to run, "r" the frame returns
    line: int
    diff: dict[str, str]


@dataclass
class Trace:
    steps: list[Step]
    frames: dict[int, list]
    truncated: bool
    ret: str | None
    _first: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for i, s in enumerate(self.steps):
            if s.event == "l":
                self._first.setdefault(s.line, i)

    @property
    def lines(self) -> list[int]:
        """The line of every line event, in order."""
        return [s.line for s in self.steps if s.event == "l"]

    def executed(self, line: int) -> bool | None:
        """Did the line run? None: not recorded and the trace is truncated (cannot tell)."""
        if line in self._first:
            return True
        return None if self.truncated else False

    def locals_at(self, index: int) -> dict[str, str]:
        """The frame's locals (encodings) at step ``index``."""
        frame = self.steps[index].frame
        out: dict[str, str] = {}
        for s in self.steps[: index + 1]:
            if s.frame == frame:
                out.update(s.diff)
        return {k: v for k, v in out.items() if v != "!del"}

    def state_after(self, line: int, name: str) -> str | None:
        """The encoding of local ``name`` right after the first execution of ``line`` (at the
        frame's next event), or None when that is not recorded or not a plain value."""
        i = self._first.get(line)
        if i is None:
            return None
        frame = self.steps[i].frame
        j = next((k for k in range(i + 1, len(self.steps)) if self.steps[k].frame == frame), None)
        if j is None:
            return None
        value = self.locals_at(j).get(name)
        return None if value is None or value.startswith("!") else value

    def next_line(self, line: int) -> int | None:
        """The line that runs right after the first execution of ``line``; NO_LINE when none
        does; None when that is not recorded."""
        i = self._first.get(line)
        if i is None:
            return None
        nxt = next((s.line for s in self.steps[i + 1:] if s.event == "l"), None)
        if nxt is None:
            return None if self.truncated else NO_LINE
        return nxt

    def loop_count(self, line: int, body_line: int, end_line: int) -> int | None:
        """Iterations of the loop at ``line`` in its first execution: how often its first body
        line runs before the frame reaches a line outside line..end_line, or ends (a return in
        the body; a generator's yields suspend the frame and do not end the loop). None when the
        trace (truncated) stops inside the loop."""
        i = self._first.get(line)
        if i is None:
            return None
        frame = self.steps[i].frame
        count = 0
        for s in self.steps[i + 1:]:
            if s.frame != frame or s.event != "l":
                continue
            if not (line <= s.line <= end_line):
                return count
            if s.line == body_line:
                count += 1
        return None if self.truncated else count


def read_trace(ex: Execution, expected: str | None) -> tuple[Trace | None, str | None]:
    """The trace of an executed trace job, or why there is none: the job failed, the program
    raised or tampered with tracing, or its traced call returned another value than the
    untraced run (``expected``, the ground truth's repr)."""
    from codemind.judges.values import call_outcomes

    if ex.status != "ok":
        why = ": ".join(x for x in (ex.status, ex.exc_type, ex.exc_message) if x)
        return None, f"trace job {why}"[:300]
    outcomes = call_outcomes(ex)
    if not outcomes:
        return None, "trace job ended before the tracer returned"
    o = outcomes[0]
    if o.kind != "value" or not isinstance(o.value, dict):
        return None, f"tracer gave no trace ({o.kind}: {o.detail})"[:300]
    t = o.value
    try:
        if t.get("v") != 1:
            return None, "unknown trace format"
        if t.get("tampered"):
            return None, f"tracing tampered with: {t['tampered']}"[:300]
        if t.get("status") != "ok":
            return None, f"the traced program raised {t.get('exc')}"
        steps = [Step(int(f), str(e), int(n), {str(k): str(v) for k, v in d.items()}) for f, e, n, d in t["steps"]]
        frames = {int(k): list(v) for k, v in t["frames"].items()}
        trace = Trace(steps=steps, frames=frames, truncated=bool(t["truncated"]), ret=t.get("return"))
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        return None, f"malformed trace ({type(e).__name__})"
    if expected is not None and trace.ret != expected:
        return None, "the traced run returned another value than the untraced run"
    if not steps:
        return None, "no line of the program ran"
    return trace, None


# ---------------------------------------------------------------- what can be asked


def _parse(source: str) -> ast.Module:
    with warnings.catch_warnings():  # dataset programs' invalid escapes ('\\d' in a plain string)
        warnings.simplefilter("ignore")
        return ast.parse(source)


def numbered(source: str) -> str:
    """The program as the prompts show it: every line with its number."""
    lines = source.rstrip("\n").split("\n")
    width = len(str(len(lines)))
    return "\n".join(f"{n:>{width}} | {text}".rstrip() for n, text in enumerate(lines, 1))


def _names(target: ast.AST) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for e in target.elts for n in _names(e)]
    if isinstance(target, ast.Starred):
        return _names(target.value)
    return []


def assignments(source: str) -> list[tuple[int, list[str]]]:
    """(line, local names) for each line inside a function that starts a statement whose first
    line is whole (a one-line statement, or the header of an if/while/for/with on one line): the
    names it binds first (=, +=, a for loop's target, with ... as), then the function's locals it
    reads (arguments included), in line order. Nested functions and classes are their own."""
    tree = _parse(source)
    out: dict[int, list[str]] = {}
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        a = fn.args
        local = {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg] if x is not None}
        own = [n for n in _own_nodes(fn) if isinstance(n, ast.stmt)]
        for stmt in own:
            for t in _targets(stmt):
                local.update(_names(t))
        for stmt in own:
            head = _header(stmt)
            if head is None:
                continue
            bound = [n for t in _targets(stmt) for n in _names(t)]
            read = [n.id for h in head for n in ast.walk(h) if isinstance(n, ast.Name)
                    and isinstance(n.ctx, ast.Load) and n.id in local]
            names = [n for n in dict.fromkeys(bound + read)]
            if names:
                out.setdefault(stmt.lineno, [])
                out[stmt.lineno] += [n for n in names if n not in out[stmt.lineno]]
    return sorted(out.items())


def _own_nodes(fn: ast.AST) -> list[ast.AST]:
    """The nodes of fn's body that belong to fn itself, not to a function, class, lambda or
    comprehension nested in it."""
    out, todo = [], list(ast.iter_child_nodes(fn))
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.SetComp,
              ast.DictComp, ast.GeneratorExp)
    while todo:
        node = todo.pop()
        out.append(node)
        if not isinstance(node, scopes):
            todo.extend(ast.iter_child_nodes(node))
    return out


def _targets(stmt: ast.stmt) -> list[ast.AST]:
    if isinstance(stmt, ast.Assign):
        return list(stmt.targets)
    if isinstance(stmt, (ast.AugAssign, ast.AnnAssign)) and stmt.value is not None:
        return [stmt.target]
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        return [stmt.target]
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return [i.optional_vars for i in stmt.items if i.optional_vars is not None]
    return []


def _header(stmt: ast.stmt) -> list[ast.AST] | None:
    """The parts of a statement on its first line when that line is whole, else None."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Try)):
        return None
    if isinstance(stmt, (ast.If, ast.While)):
        parts = [stmt.test]
    elif isinstance(stmt, (ast.For, ast.AsyncFor)):
        parts = [stmt.target, stmt.iter]
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        parts = list(stmt.items)
    elif stmt.lineno == stmt.end_lineno:
        return [stmt]
    else:
        return None
    if any(getattr(p, "end_lineno", stmt.lineno) != stmt.lineno for p in parts if not isinstance(p, ast.withitem)):
        return None
    if isinstance(stmt, (ast.If, ast.While, ast.For, ast.AsyncFor)) and stmt.body[0].lineno == stmt.lineno:
        return None
    return parts


def loops(source: str) -> list[tuple[int, int, int]]:
    """(line, first body line, last line) of every for/while loop whose header is one line and
    whose body starts on a later line."""
    out = []
    for node in ast.walk(_parse(source)):
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)) and node.body:
            header_end = (node.iter if isinstance(node, (ast.For, ast.AsyncFor)) else node.test).end_lineno
            if header_end == node.lineno and node.body[0].lineno > node.lineno:
                out.append((node.lineno, node.body[0].lineno, node.end_lineno))
    return sorted(out)


def rng_for(seed: int, program: Program, inp: TestInput) -> random.Random:
    return random.Random(int(content_hash(SAMPLER, seed, program.benchmark, program.id, inp.index)[:16], 16))


def choose(program: Program, inp: TestInput, trace: Trace, seed: int) -> dict[str, Any]:
    """The sampler's choice for one traced (program, input): ``chain`` (line, variable and the
    expected coverage, state, path) or None, and ``loop`` (line and iterations) or None, with
    how many candidates each had. Deterministic in (seed, benchmark, program id, input index)."""
    rng = rng_for(seed, program, inp)
    ran, not_ran = [], []
    for line, names in assignments(program.source):
        executed = trace.executed(line)
        if executed is None:
            continue  # truncated before it: cannot say it never runs
        if not executed:
            not_ran.append({"line": line, "variable": names[0], "executed": False, "state": NIL, "path": NO_LINE})
            continue
        path = trace.next_line(line)
        if path is None:
            continue
        for name in names:
            value = trace.state_after(line, name)
            if value is not None:
                ran.append({"line": line, "variable": name, "executed": True, "state": value, "path": path})
    pool = ran if ran and (not not_ran or rng.random() < 0.5) else not_ran
    chain = rng.choice(pool) if pool else None
    countable = []
    for line, body, end in loops(program.source):
        n = trace.loop_count(line, body, end)
        if n is not None:
            countable.append({"line": line, "iterations": n})
    loop = rng.choice(countable) if countable else None
    return {"chain": chain, "loop": loop, "candidates": {"executed": len(ran), "not_executed": len(not_ran),
                                                          "loops": len(countable)}, "truncated": trace.truncated}
