"""CRUXEval's check, decided exactly and so that the answer cannot forge it.

Upstream runs ``exec(f"{code}\\nassert {expected} == {generation}")`` in a child under a 3 s
limit and counts "passed" when nothing is raised. Executed as written, the answer runs in the
process that decides: it can exit, return an object equal to anything, or patch what the
assert uses. Here the check is taken apart instead:

* the *tail* ``assert {expected} == {generation}`` is parsed (the program alone must parse, and
  the tail with it: else the check fails without running, as exec would);
* its *structure* (``and``/``or``/``not``, comparisons, conditional expressions) and its
  literals (the expected output always; a literal answer) are evaluated in the judge's process
  by judges/hosteval.py, with Python's own semantics, short-circuits included;
* every other sub-expression is a *leaf*: it must be pure (judges/purity.py: values, the
  program's function and data, pure builtins; no imports, dunders, frames, walrus) or the
  answer is invalid; leaves are evaluated in the sandbox, in the program's namespace after the
  program ran, left to right, and come back as plain values (sandbox/runner/plainvalues.py).

So a check that needs no leaf (a literal answer: most of CRUXEval-O) runs nothing but the
program itself, once per program; the rest run one sandbox job each, a fresh forked process per
check as upstream, under a 3 s wall-clock limit (``cpu_time=True``: 3 s of user CPU instead,
with a wall-clock backstop at 3x, which does not depend on the machine's load).

Two readings of the tail (``strict``):
* as written (rescore's default, to reproduce the published files): any sequence of asserts and
  expressions, e.g. ``'x' or True`` (passes upstream: ``assert o == 'x' or True``) or
  ``"3"\\nassert f('10')``; only the purity of the leaves is enforced;
* strict (the ``cruxeval`` judge in runs): the tail must be exactly ``assert <expected> ==
  <answer>``; an output prediction may not call the program, an input prediction must be one
  call of ``f``. Everything else is an invalid answer.

Where the two differ from upstream: leaves are evaluated eagerly (upstream skips the right of
an ``or`` that is already true; the host does too, but the leaf has run); a leaf that is not a
plain value, and an impure leaf, fail (upstream would compare or run them).
"""

from __future__ import annotations

import ast
import functools
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Literal, Mapping, Sequence

from codemind.judges.hosteval import evaluate, supported
from codemind.judges.purity import impurity, program_names
from codemind.judges.values import CallOutcome, call_outcomes
from codemind.sandbox.base import Sandbox
from codemind.sandbox.cache import run_cached
from codemind.schema import ExecJob, Execution, Limits

TIMEOUT = 3.0
DEFAULT_HASH_SEED = 0
ENTRY = "f"  # CRUXEval's function
Route = Literal["parse", "invalid", "literal", "execute"]
Verdict = Literal["passed", "failed", "timed out"]
VERDICTS = ("passed", "failed", "timed out")
_STRUCTURE = (ast.BoolOp, ast.Compare, ast.IfExp)
_MEMORY_MB = 4096  # upstream sets no memory limit; sample_714 builds a 1 GB string


def check_program(code: str, expected: str, generation: str) -> str:
    """The program upstream executes for one generation."""
    return f"{code}\nassert {expected} == {generation}"


@dataclass(frozen=True)
class Plan:
    route: Route
    statements: tuple[ast.stmt, ...] = ()  # the tail, leaves replaced by __v0__, __v1__, ...
    leaves: tuple[str, ...] = ()  # what the sandbox evaluates, in order
    reason: str | None = None  # route "invalid": why the answer is not a value


@dataclass(frozen=True)
class CheckResult:
    verdict: Verdict
    invalid: str | None = None  # the answer is not a value (why)
    detail: str | None = None


def _parse(source: str, mode: str = "exec"):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source, mode=mode)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return None


@functools.lru_cache(maxsize=4096)
def _program(code: str) -> tuple[bool, frozenset[str], frozenset[str]]:
    """(parses, names an answer may use, the program's functions and classes)."""
    if _parse(code) is None:
        return False, frozenset(), frozenset()
    names, funcs = program_names(code)
    return True, frozenset(names), frozenset(funcs)


def _host_literal(node: ast.AST, program: frozenset[str]) -> bool:
    """A literal the judge may evaluate itself: what ast.literal_eval accepts, unless it calls
    set() and the program rebinds set."""
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return "set" not in program or not any(isinstance(n, ast.Call) for n in ast.walk(node))


class _Split(ast.NodeTransformer):
    """Replace every leaf (see the module docstring) by __vK__; collect the leaves' text."""

    def __init__(self, tail: str, program: frozenset[str]):
        self.tail, self.program = tail, program
        self.leaves: list[ast.expr] = []

    def split(self, node: ast.expr) -> ast.expr:
        if isinstance(node, _STRUCTURE) or (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)):
            for field, value in ast.iter_fields(node):
                if isinstance(value, list):
                    setattr(node, field, [self.split(v) if isinstance(v, ast.expr) else v for v in value])
                elif isinstance(value, ast.expr):
                    setattr(node, field, self.split(value))
            return node
        if _host_literal(node, self.program):
            return node
        self.leaves.append(node)
        return ast.copy_location(ast.Name(id=f"__v{len(self.leaves) - 1}__", ctx=ast.Load()), node)


@functools.lru_cache(maxsize=1 << 16)
def plan_check(code: str, expected: str, generation: str, mode: str = "output", strict: bool = False,
               entry: str = ENTRY) -> Plan:
    """How to decide one check (see the module docstring)."""
    tail = f"assert {expected} == {generation}"
    tree = _parse(tail)
    parses, names, funcs = _program(code)
    if tree is None or not parses:
        if _parse(check_program(code, expected, generation)) is None:
            return Plan("parse")
        return Plan("invalid", reason="the answer only parses together with the program")
    if strict:
        why = _strict_shape(tree, expected, mode, entry)
        if why is not None:
            return Plan("invalid", reason=why)
    allowed = names - funcs if strict and mode == "output" else names
    splitter = _Split(tail, names)
    statements: list[ast.stmt] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Assert):
            statements.append(ast.Assert(test=splitter.split(stmt.test), msg=None))
        elif isinstance(stmt, ast.Expr):
            statements.append(ast.Expr(value=splitter.split(stmt.value)))
        else:
            return Plan("invalid", reason=f"the answer adds a {type(stmt).__name__.lower()} statement")
    for leaf in splitter.leaves:
        why = impurity(leaf, allowed)
        if why is not None:
            return Plan("invalid", reason=f"the answer {why}")
    placeholders = {f"__v{i}__" for i in range(len(splitter.leaves))}
    for stmt in statements:
        why = supported(stmt.test if isinstance(stmt, ast.Assert) else stmt.value, placeholders)
        if why is not None:  # a literal hosteval does not know (cannot happen for literal_eval's)
            return Plan("invalid", reason=f"the assertion uses {why}")
    texts = tuple(ast.get_source_segment(tail, leaf) or ast.unparse(leaf) for leaf in splitter.leaves)
    return Plan("execute" if texts else "literal", tuple(statements), texts)


def _strict_shape(tree: ast.Module, expected: str, mode: str, entry: str) -> str | None:
    """None if the tail is exactly ``assert <expected> == <one answer>`` (an input prediction:
    one call of the entry point), else why not."""
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assert) or tree.body[0].msg is not None:
        return "the answer is not a single value (it adds statements or a message)"
    test = tree.body[0].test
    exp = _parse(expected, "eval")
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
            and exp is not None and ast.dump(test.left) == ast.dump(exp.body)):
        return "the answer is not a single value (it extends the assertion)"
    answer = test.comparators[0]
    if mode == "input" and not (isinstance(answer, ast.Call) and isinstance(answer.func, ast.Name)
                                and answer.func.id == entry):
        return f"an input prediction must be one call of {entry}"
    return None


class _Leaves(Mapping[str, Any]):
    """__vK__ -> the K-th leaf's value; a leaf that did not give a value raises when read (so
    a leaf that short-circuiting skips does not matter)."""

    def __init__(self, outcomes: list[CallOutcome], timed_out: bool):
        self.outcomes, self.timed_out = outcomes, timed_out

    def __getitem__(self, key: str) -> Any:
        k = int(key[3:-2])
        if k >= len(self.outcomes):
            raise _LeafMissing("timed out" if self.timed_out else "the program ended before the answer was evaluated")
        o = self.outcomes[k]
        if o.kind == "value":
            return o.value
        if o.kind == "raised":
            raise _LeafRaised(o.detail)
        raise _LeafInvalid(f"the answer gives {o.detail}, not a plain value" if o.kind == "not_value" else o.detail)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.startswith("__v") and key.endswith("__")

    def __iter__(self):
        return iter(f"__v{k}__" for k in range(len(self.outcomes)))

    def __len__(self) -> int:
        return len(self.outcomes)


class _LeafMissing(Exception):
    pass


class _LeafRaised(Exception):
    pass


class _LeafInvalid(Exception):
    pass


def decide(plan: Plan, ex: Execution | None) -> CheckResult:
    """The verdict of a planned check from its execution (None: nothing was executed)."""
    if plan.route == "parse":
        return CheckResult("failed", detail="does not parse")
    if plan.route == "invalid":
        return CheckResult("failed", invalid=plan.reason)
    env = _Leaves(call_outcomes(ex) if ex is not None else [], ex is not None and ex.status == "timeout")
    for stmt in plan.statements:
        try:
            if isinstance(stmt, ast.Assert):
                if not evaluate(stmt.test, env):
                    return CheckResult("failed", detail="the assertion does not hold")
            else:
                evaluate(stmt.value, env)
        except _LeafMissing as e:
            timed_out = str(e) == "timed out"
            return CheckResult("timed out" if timed_out else "failed", invalid=None if timed_out else str(e))
        except _LeafInvalid as e:
            return CheckResult("failed", invalid=str(e))
        except _LeafRaised as e:
            return CheckResult("failed", detail=f"raises {e}")
        except Exception as e:  # what the assertion itself raises (TypeError comparing, ...)
            return CheckResult("failed", detail=f"raises {type(e).__name__}")
    return CheckResult("passed")


def check_limits(timeout: float, cpu_time: bool) -> Limits:
    """Upstream's 3 s of wall clock, or (cpu_time) as much user CPU with a wall backstop at 3x."""
    if cpu_time:
        return Limits(user_cpu_seconds=timeout, cpu_seconds=3 * timeout + 1, wall_seconds=3 * timeout,
                      memory_mb=_MEMORY_MB)
    return Limits(cpu_seconds=timeout + 1, wall_seconds=timeout, memory_mb=_MEMORY_MB)


def run_checks(
    checks: Sequence[tuple[str, str, str]],
    sandbox: Sandbox | None,
    timeout: float = TIMEOUT,
    hash_seed: int | None = DEFAULT_HASH_SEED,
    mode: str = "output",
    strict: bool = False,
    cpu_time: bool = False,
    progress: Callable[[int], None] | None = None,
    use_cache: bool = True,
    entry: str = ENTRY,
) -> tuple[list[CheckResult], dict[str, int]]:
    """Results for (code, expected, generation) checks, plus how many took each route and how
    many sandbox ``jobs`` ran. ``sandbox`` may be None only if nothing needs running.
    hash_seed None: the sandbox's own seed (0). Executions go through the execution cache
    (sandbox/cache.py), so re-scoring a file, or a file that shares checks with one scored
    before, runs only what is new (``use_cache=False``: run everything)."""
    plans = [plan_check(c, e, g, mode, strict, entry) for c, e, g in checks]
    limits = check_limits(timeout, cpu_time)
    seed = None if hash_seed in (None, 0) else hash_seed
    codes = sorted({c[0] for c, p in zip(checks, plans) if p.route == "literal"})
    execute = [i for i, p in enumerate(plans) if p.route == "execute"]
    jobs = [ExecJob(source=code, calls=[], limits=limits, hash_seed=seed) for code in codes]
    jobs += [ExecJob(source=checks[i][0], calls=list(plans[i].leaves), limits=limits, hash_seed=seed) for i in execute]
    if jobs and sandbox is None:
        from codemind.errors import UserError

        raise UserError("these checks execute code: a sandbox is needed")
    execs = run_cached(sandbox, jobs, progress=progress, use_cache=use_cache) if jobs else []
    clean = {code: ex for code, ex in zip(codes, execs)}
    by_index = dict(zip(execute, execs[len(codes):]))
    results: list[CheckResult] = []
    for i, (check, plan) in enumerate(zip(checks, plans)):
        if plan.route == "literal":
            ran = clean[check[0]]
            if ran.status != "ok":
                verdict: Verdict = "timed out" if ran.status == "timeout" else "failed"
                results.append(CheckResult(verdict, detail=f"the program itself: {ran.status}"))
                continue
        results.append(decide(plan, by_index.get(i)))
    counts = {r: sum(1 for p in plans if p.route == r) for r in ("parse", "invalid", "literal", "execute")}
    counts["jobs"] = len(jobs)
    return results, counts


# ---------------------------------------------------------------- hash-seed sensitivity

_SEED_NAMES = frozenset({"set", "frozenset", "hash", "id", "vars", "globals", "locals", "dir", "object"})
_SET_OPS = (ast.BitAnd, ast.BitOr, ast.BitXor, ast.Sub)
_VIEW_METHODS = frozenset({"keys", "items", "symmetric_difference", "intersection", "union", "difference"})
_HASH_ATTRS = frozenset({"__hash__", "__iter__", "__dict__", "__subclasses__", "__globals__", "__builtins__"})
_DYNAMIC = frozenset({"eval", "exec", "__import__", "compile", "getattr"})


def _seed_flags(source: str) -> tuple[bool, bool, bool] | None:
    """(direct, dict-view methods, set-like binops) for source; None if it does not parse."""
    tree = _parse(source)
    if tree is None:
        return None
    direct = views = binops = False
    for node in ast.walk(tree):
        if isinstance(node, (ast.Set, ast.SetComp)):
            direct = True
        elif isinstance(node, ast.Name) and node.id in _SEED_NAMES:
            direct = True
        elif isinstance(node, ast.Attribute) and node.attr in _HASH_ATTRS:
            direct = True
        elif isinstance(node, ast.Attribute) and node.attr in _VIEW_METHODS:
            views = True
        elif isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, _SET_OPS):
            binops = True
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _DYNAMIC:
            direct = True
    return direct, views, binops


_code_flags = functools.lru_cache(maxsize=4096)(_seed_flags)


def may_depend_on_hash_seed(code: str, expected: str, generation: str, mode: str = "output",
                            strict: bool = False) -> bool:
    """Static over-approximation: can this check's verdict depend on PYTHONHASHSEED?

    Only hashing of str/bytes is randomised; it shows through the iteration order of sets
    (and frozensets), through hash()/id()/object reprs, and through set results of dict-view
    operators (``d.keys() & x``). A check with none of those constructs cannot depend on the
    seed; nor can one decided without running an answer (set equality ignores order).
    """
    if plan_check(code, expected, generation, mode, strict).route != "execute":
        return False
    a, b = _code_flags(code), _seed_flags(f"assert {expected} == {generation}")
    if a is None or b is None:
        return True  # only the whole program parses: be conservative
    return a[0] or b[0] or ((a[1] or b[1]) and (a[2] or b[2]))
