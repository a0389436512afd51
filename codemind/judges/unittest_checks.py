"""unittest tests (ClassEval's ``asserts.txt``) as checks the judge decides in its own process.

ClassEval tests a method with ``TestCase`` subclasses whose test methods build an instance,
call methods and assert: ``self.assertEqual(obj.m(1), [2, 3])``. Run as written, the asserts
would execute in the process of the code under test, which could then make them pass (patch
``unittest``, exit 0, return an object equal to anything). Here every ``self.assertX(...)`` is
split in two (``plan_unittest``):

- what the code produced (the arguments that involve the test's names: ``obj.m(1)``) stays in
  the test method, which runs in the sandbox after the code, as a call
  ``_codemind_record(<assert id>, <value>...)`` (judges/snippets/unittest_cases.py) that logs
  plain values (sandbox/runner/plainvalues.py);
- what the test expects (arguments that are literals, or names the test method binds once to
  a literal, ``expected = {...}``) never goes to the sandbox: it is evaluated here
  (judges/hosteval.py), and the assertion itself (``==``, ``in``, ``round(a - b, 7) == 0``...)
  is decided here on the logged values (``records_verdict``).

Predicates on objects that are not values (``assertTrue``, ``assertIsNone``, ``assertIs``,
``assertIsInstance``) log the predicate's bool from the sandbox: the code could only make it
what a correct method would. ``with self.assertRaises(E):`` logs the names of the raised
exception's classes (or that nothing was raised). Each test method is one call,
``_codemind_case("<TestCase>", "<test method>")``, returning its log; an assert at the top of a
test method must log exactly once, an unknown assert id or a missing top-level assert is
``exited_early`` (the code broke the test's control flow). ``setUp``/``tearDown`` and helper
methods of the TestCase run too (with their asserts split the same way); the classes are built
on ``object``, so nothing of ``unittest`` runs.

A test that uses anything else of ``unittest`` (``self.subTest``, ``self.fail``, mocks, an
assert method not in ``ASSERTS``, ``assertRaises`` with a callable) is incomplete: ``reason``
says why, and the problem is not judged by checks (SR leaves it out, with that reason).
"""

from __future__ import annotations

import ast
import functools
import re
import textwrap
import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Any

from codemind.judges.hosteval import FUNCTIONS, evaluate, supported
from codemind.judges.values import CallOutcome

RECORD, CASE, RAISES = "_codemind_record", "_codemind_case", "_codemind_raises"

# assert method -> (number of value arguments, how they are logged: "values" or a predicate)
ASSERTS: dict[str, tuple[int, str]] = {
    "assertEqual": (2, "values"), "assertEquals": (2, "values"), "assertNotEqual": (2, "values"),
    "assertListEqual": (2, "values"), "assertDictEqual": (2, "values"), "assertTupleEqual": (2, "values"),
    "assertSetEqual": (2, "values"), "assertSequenceEqual": (2, "values"), "assertMultiLineEqual": (2, "values"),
    "assertCountEqual": (2, "values"), "assertAlmostEqual": (2, "values"), "assertNotAlmostEqual": (2, "values"),
    "assertIn": (2, "values"), "assertNotIn": (2, "values"), "assertGreater": (2, "values"),
    "assertGreaterEqual": (2, "values"), "assertLess": (2, "values"), "assertLessEqual": (2, "values"),
    "assertRegex": (2, "values"), "assertNotRegex": (2, "values"),
    "assertTrue": (1, "bool({0})"), "assertFalse": (1, "bool({0})"),
    "assertIsNone": (1, "({0}) is None"), "assertIsNotNone": (1, "({0}) is None"),
    "assertIs": (2, "({0}) is ({1})"), "assertIsNot": (2, "({0}) is ({1})"),
    "assertIsInstance": (2, "isinstance({0}, {1})"), "assertNotIsInstance": (2, "isinstance({0}, {1})"),
}  # fmt: skip
# what the logged bool must be; an assert and its negation log the same predicate, so the test
# the sandbox runs does not say which one the judge expects
_TRUE_IF = {"assertTrue": True, "assertFalse": False, "assertIsNone": True, "assertIsNotNone": False,
            "assertIs": True, "assertIsNot": False, "assertIsInstance": True, "assertNotIsInstance": False}
_UNITTEST_OK = {"setUp", "tearDown", "maxDiff", "longMessage"}


@dataclass(frozen=True)
class Assertion:
    id: int
    method: str  # assertEqual, ...
    args: tuple[tuple[str, str], ...]  # per argument: ("host", expression text) or ("sandbox", text)
    options: tuple[tuple[str, str], ...]  # places=, delta=: host expressions
    hoisted: tuple[tuple[str, str], ...]  # names the host expressions use -> their literal text
    top: bool  # at the top level of a test method: must log exactly once per run of it
    text: str  # as written
    raises: tuple[str, ...] = ()  # assertRaises: the expected exception names


@dataclass(frozen=True)
class UnittestPlan:
    __test__ = False

    source: str  # the rewritten test classes (sent to the sandbox)
    cases: tuple[tuple[str, str], ...]  # (TestCase class, test method), one call each
    assertions: tuple[Assertion, ...]
    complete: bool
    reason: str | None = None
    top: tuple[tuple[tuple[str, str], tuple[int, ...]], ...] = ()  # per case: the asserts that must log once

    @property
    def calls(self) -> list[str]:
        return [f"{CASE}({cls!r}, {name!r})" for cls, name in self.cases]

    def top_ids(self, case: tuple[str, str]) -> list[int]:
        return list(dict(self.top).get(case, ()))


class _Incomplete(Exception):
    pass


@functools.lru_cache(maxsize=2048)
def plan_unittest(tests: str) -> UnittestPlan:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(tests)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return UnittestPlan("", (), (), False, "the tests do not parse")
    try:
        return _plan(tree, tests)
    except _Incomplete as e:
        return UnittestPlan("", (), (), False, str(e))


def _plan(tree: ast.Module, src: str) -> UnittestPlan:
    assertions: list[Assertion] = []
    cases: list[tuple[str, str]] = []
    top_map: dict[tuple[str, str], list[int]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assert) and "Test.test()" in ast.unparse(node.test):
            continue  # CodeMind appended its IER assert to some asserts.txt: not a test of the method
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if any("mock" in (a.name or "") for a in node.names) or "mock" in (getattr(node, "module", "") or ""):
                raise _Incomplete("the tests use unittest.mock")
            continue
        if not isinstance(node, ast.ClassDef):
            raise _Incomplete(f"the tests run a {type(node).__name__.lower()} statement at the top level")
        if node.decorator_list or node.keywords:
            raise _Incomplete(f"class {node.name} has decorators or keywords")
        node.bases = []  # built on object: nothing of unittest runs
        defined = {n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        for item in node.body:
            if isinstance(item, ast.FunctionDef):
                if item.decorator_list:
                    raise _Incomplete(f"{node.name}.{item.name} is decorated")
                top = _rewrite_method(item, src, assertions, defined)
                if item.name.startswith("test"):
                    cases.append((node.name, item.name))
                    top_map[(node.name, item.name)] = top
            elif isinstance(item, ast.Assign) or (isinstance(item, ast.Expr) and isinstance(item.value, ast.Constant)):
                continue
            else:
                raise _Incomplete(f"class {node.name} has a {type(item).__name__.lower()} in its body")
    if not cases:
        raise _Incomplete("no test method")
    if not assertions:
        raise _Incomplete("no assert in the tests")
    ast.fix_missing_locations(tree)
    return UnittestPlan(ast.unparse(tree), tuple(cases), tuple(assertions), True,
                        top=tuple((k, tuple(v)) for k, v in top_map.items()))


def _literal_names(fn: ast.FunctionDef) -> dict[str, ast.expr]:
    """Names the method binds exactly once, at its top level, to an expression the host can
    evaluate (a literal): ``expected = {...}``."""
    stores = Counter(n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)))
    # names the test also uses outside its asserts (passed to the code, which may change them
    # in place) stay in the sandbox
    used = {n.id for s in ast.walk(fn) if isinstance(s, ast.stmt) and not isinstance(s, (ast.FunctionDef, ast.With,
            ast.For, ast.While, ast.If, ast.Try)) and not _is_assert_stmt(s)
            for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}  # fmt: skip
    out: dict[str, ast.expr] = {}
    for stmt in fn.body:
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                and stores[stmt.targets[0].id] == 1 and stmt.targets[0].id not in used
                and supported(stmt.value, set(out)) is None):
            out[stmt.targets[0].id] = _inline(stmt.value, out)
    return out


def _is_assert_stmt(s: ast.stmt) -> bool:
    return isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and isinstance(s.value.func, ast.Attribute) \
        and s.value.func.attr.startswith("assert")


def _inline(expr: ast.expr, known: dict[str, ast.expr]) -> ast.expr:
    class Sub(ast.NodeTransformer):
        def visit_Name(self, n: ast.Name):
            return known[n.id] if n.id in known and isinstance(n.ctx, ast.Load) else n

    return Sub().visit(ast.parse(ast.unparse(expr), mode="eval")).body


def _rewrite_method(fn: ast.FunctionDef, src: str, assertions: list[Assertion], defined: set[str]) -> list[int]:
    literals = _literal_names(fn)
    stored = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    stored |= {a.arg for a in ast.walk(fn) if isinstance(a, ast.arg)}
    top_ids: list[int] = []
    self_name = fn.args.args[0].arg if fn.args.args else "self"

    for n in ast.walk(fn):  # anything of unittest other than the asserts we split
        if (isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == self_name
                and n.attr not in defined and n.attr not in _UNITTEST_OK and not isinstance(n.ctx, ast.Store)):
            if n.attr.startswith("assert") and n.attr not in ASSERTS and n.attr not in ("assertRaises",):
                raise _Incomplete(f"the tests use self.{n.attr}")
            if not n.attr.startswith("assert") and _is_testcase_attr(n.attr):
                raise _Incomplete(f"the tests use self.{n.attr}")

    def convert(stmt: ast.stmt, top: bool) -> list[ast.stmt]:
        if isinstance(stmt, ast.Expr) and _self_assert(stmt.value, self_name):
            call: ast.Call = stmt.value  # type: ignore[assignment]
            name = call.func.attr  # type: ignore[attr-defined]
            if name == "assertRaises":
                raise _Incomplete("the tests call assertRaises with a callable")
            a = _assertion(call, name, len(assertions), literals, src, top, stored)
            assertions.append(a)
            if top:
                top_ids.append(a.id)
            return [ast.copy_location(ast.Expr(_record_call(a, call, name)), stmt)]
        if isinstance(stmt, ast.With) and len(stmt.items) == 1 and _self_assert(stmt.items[0].context_expr, self_name):
            cm: ast.Call = stmt.items[0].context_expr  # type: ignore[assignment]
            if cm.func.attr != "assertRaises" or stmt.items[0].optional_vars is not None:  # type: ignore[attr-defined]
                raise _Incomplete(f"the tests use with self.{cm.func.attr}(...)")  # type: ignore[attr-defined]
            names = tuple(_exc_name(e) for e in cm.args)
            if not names or any(x is None for x in names) or cm.keywords:
                raise _Incomplete("assertRaises with an exception the judge cannot name")
            a = Assertion(len(assertions), "assertRaises", (), (), (), top, _segment(src, cm), names)  # type: ignore[arg-type]
            assertions.append(a)
            if top:
                top_ids.append(a.id)
            body = [s for x in stmt.body for s in convert(x, False)]
            new = ast.With(items=[ast.withitem(context_expr=_call(RAISES, [ast.Constant(a.id)]))], body=body)
            return [ast.copy_location(new, stmt)]
        for field in ("body", "orelse", "finalbody"):
            if hasattr(stmt, field) and isinstance(getattr(stmt, field), list):
                setattr(stmt, field, [s for x in getattr(stmt, field) for s in convert(x, False)])
        if isinstance(stmt, ast.Try):
            for h in stmt.handlers:
                h.body = [s for x in h.body for s in convert(x, False)]
        for n in ast.walk(stmt):
            if _self_assert(n, self_name):
                raise _Incomplete(f"an assert inside an expression: {_segment(src, stmt).splitlines()[0][:120]}")
        return [stmt]

    body = [s for x in fn.body for s in convert(x, True)]
    # an expected value the host now holds (``expected = {...}`` used only by asserts) leaves
    # the sandbox's copy of the test: the code under test cannot read what it is compared with
    loaded = {n.id for s in body for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    fn.body = [s for s in body if not (isinstance(s, ast.Assign) and len(s.targets) == 1
                                       and isinstance(s.targets[0], ast.Name) and s.targets[0].id in literals
                                       and s.targets[0].id not in loaded)] or [ast.Pass()]  # fmt: skip
    return top_ids


def _is_testcase_attr(attr: str) -> bool:
    import unittest

    return hasattr(unittest.TestCase, attr)


def _self_assert(node: ast.AST, self_name: str) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and node.func.value.id == self_name
            and node.func.attr.startswith("assert"))  # fmt: skip


def _exc_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _segment(src: str, node: ast.AST) -> str:
    return ast.get_source_segment(src, node) or ast.unparse(node)


def _call(name: str, args: list[ast.expr]) -> ast.Call:
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=args, keywords=[])


def _assertion(call: ast.Call, name: str, k: int, literals: dict[str, ast.expr], src: str, top: bool,
               stored: set[str]) -> Assertion:
    if name not in ASSERTS:
        raise _Incomplete(f"the tests use self.{name}")
    n_values, how = ASSERTS[name]
    if any(isinstance(a, ast.Starred) for a in call.args) or any(kw.arg is None for kw in call.keywords):
        raise _Incomplete(f"self.{name} with *args or **kwargs")
    args = list(call.args[:n_values])
    options = {kw.arg: kw.value for kw in call.keywords if kw.arg in ("places", "delta", "first", "second", "member",
                                                                        "container", "expr", "obj", "cls", "text",
                                                                        "expected_regex", "a", "b", "seq1", "seq2",
                                                                        "list1", "list2", "d1", "d2", "set1", "set2",
                                                                        "tuple1", "tuple2")}  # fmt: skip
    for key in ("first", "second", "member", "container", "expr", "obj", "cls", "text", "expected_regex",
                "a", "b", "seq1", "seq2", "list1", "list2", "d1", "d2", "set1", "set2", "tuple1", "tuple2"):
        if key in options:
            args.append(options.pop(key))
    if name in ("assertAlmostEqual", "assertNotAlmostEqual") and len(call.args) > 2:
        options.setdefault("places", call.args[2])
    if len(args) != n_values:
        raise _Incomplete(f"self.{name} with {len(args)} value arguments")
    opts = []
    for key, value in options.items():
        if supported(value, set()) is not None:
            raise _Incomplete(f"self.{name}({key}=...) the judge cannot evaluate")
        opts.append((key, ast.unparse(value)))
    used: dict[str, str] = {}
    if how == "values":
        parts = []
        for a in args:
            called = {n.func.id for n in ast.walk(a) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
            names = {n.id for n in ast.walk(a) if isinstance(n, ast.Name)} - ((called & set(FUNCTIONS)) - stored)
            if supported(a, names & set(literals)) is None and names <= set(literals):
                parts.append(("host", ast.unparse(a)))
                used.update({x: ast.unparse(literals[x]) for x in names})
            else:
                parts.append(("sandbox", ast.unparse(a)))
    else:
        parts = [("sandbox", how.format(*(f"({ast.unparse(a)})" for a in args)))]
    return Assertion(k, name, tuple(parts), tuple(opts), tuple(sorted(used.items())), top, _segment(src, call))


def _record_call(a: Assertion, call: ast.Call, name: str) -> ast.Call:
    sent = [ast.parse(text, mode="eval").body for kind, text in a.args if kind == "sandbox"]
    return ast.copy_location(_call(RECORD, [ast.Constant(a.id), *sent]), call)


# ---------------------------------------------------------------- the verdict, in the host


def records_verdict(plan: UnittestPlan, outcomes: list[CallOutcome]) -> tuple[str, str | None] | None:
    """None when every assert of every test held; else (outcome, detail). ``outcomes``: one per
    case that reported, in order (fewer: the code ended first)."""
    by_id = {a.id: a for a in plan.assertions}
    for case, o in zip(plan.cases, outcomes):
        label = f"{case[0]}.{case[1]}"
        if o.kind == "raised":
            head = (o.detail or "").split(":")[0]
            if head in ("SystemExit", "KeyboardInterrupt"):
                return "exited_early", f"{label} raised {o.detail}"
            return "wrong_value", f"{label} raised {o.detail}"[:300]
        if o.kind == "not_value":
            return "invalid_answer", f"{label} logged {o.detail}, not a plain value"[:300]
        if o.kind != "value" or not isinstance(o.value, list):
            return "exited_early", f"{label}: the test's log was tampered with"
        seen: Counter = Counter()
        for rec in o.value:
            if not (isinstance(rec, list) and len(rec) == 2 and isinstance(rec[0], int) and rec[0] in by_id
                    and isinstance(rec[1], list)):
                return "exited_early", f"{label}: a record the test did not write"
            a = by_id[rec[0]]
            seen[a.id] += 1
            why = _holds(a, rec[1])
            if why is not None:
                return "wrong_value", f"{label}: {why}"[:300]
        for i in plan.top_ids(case):
            if seen[i] != 1:
                return "exited_early", f"{label}: {by_id[i].text[:120]} ran {seen[i]} times, not once"
    return None


def _holds(a: Assertion, sent: list) -> str | None:
    """None if the assertion holds on the logged values, else why not."""
    fails = f"fails: {a.text[:200]}"
    if a.method == "assertRaises":
        if not sent or sent[0] is None:
            return f"nothing raised: {a.text[:200]}"
        names = sent[0] if isinstance(sent[0], list) else []
        return None if any(n in names for n in a.raises) else f"raised {names[:1]}, not {list(a.raises)}"
    env = {k: evaluate(ast.parse(v, mode="eval"), {}) for k, v in a.hoisted}
    values, it = [], iter(_Opaque.wrap(x) for x in sent)
    try:
        for kind, text in a.args:
            values.append(evaluate(ast.parse(text, mode="eval"), env) if kind == "host" else next(it))
        if next(it, _END) is not _END:
            return "a record with more values than the assert sends"
    except StopIteration:
        return "a record with fewer values than the assert sends"
    except Exception as e:
        return f"{type(e).__name__} evaluating: {a.text[:200]}"
    opts = {k: evaluate(ast.parse(v, mode="eval"), {}) for k, v in a.options}
    try:
        ok = _decide(a.method, values, opts)
    except Exception as e:  # what the assert itself would raise: a failed test
        return f"{type(e).__name__} in: {a.text[:200]}"
    return None if ok else fails


_END = object()
OPAQUE = "__codemind_opaque__"  # judges/snippets/unittest_cases.py: a value that is not plain


class _Opaque:
    """A logged value that is not plain (a datetime, a Decimal): equal to another only with the
    same type name and repr; any other operation on it fails the assert."""

    def __init__(self, kind: str, text: str):
        self.kind, self.text = kind, text

    @classmethod
    def wrap(cls, x: Any) -> Any:
        if isinstance(x, list) and len(x) == 3 and x[0] == OPAQUE and all(isinstance(y, str) for y in x[1:]):
            return cls(x[1], x[2])
        return x

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Opaque) and (self.kind, self.text) == (other.kind, other.text)

    __hash__ = None  # type: ignore[assignment]


def _decide(method: str, v: list, opts: dict[str, Any]) -> bool:
    if method in _TRUE_IF:
        return v[0] is _TRUE_IF[method]
    a, b = v
    if method in ("assertEqual", "assertEquals", "assertListEqual", "assertDictEqual", "assertTupleEqual",
                  "assertSetEqual", "assertSequenceEqual", "assertMultiLineEqual"):
        return _equal(a, b)
    if method == "assertNotEqual":
        return not _equal(a, b)
    if method == "assertCountEqual":
        return _same_multiset(list(a), list(b))
    if method in ("assertAlmostEqual", "assertNotAlmostEqual"):
        return _almost(a, b, opts) == (method == "assertAlmostEqual")
    if method == "assertIn":
        return a in b
    if method == "assertNotIn":
        return a not in b
    if method == "assertGreater":
        return a > b
    if method == "assertGreaterEqual":
        return a >= b
    if method == "assertLess":
        return a < b
    if method == "assertLessEqual":
        return a <= b
    if method == "assertRegex":
        return re.search(b, a) is not None
    if method == "assertNotRegex":
        return re.search(b, a) is None
    raise ValueError(method)


def _equal(a: Any, b: Any) -> bool:
    return bool(a == b)


def _almost(a: Any, b: Any, opts: dict[str, Any]) -> bool:
    if a == b:
        return True
    delta = opts.get("delta")
    if delta is not None:
        return abs(a - b) <= delta
    places = opts.get("places")
    return round(abs(a - b), 7 if places is None else places) == 0


def _same_multiset(a: list, b: list) -> bool:
    rest = list(b)
    for x in a:
        for i, y in enumerate(rest):
            if x == y:
                del rest[i]
                break
        else:
            return False
    return not rest



# ---------------------------------------------------------------- the code under test


def class_under_test(code: str, context: dict) -> str:
    """The model's answer as the class to test: a whole class named ``class_name`` as written;
    a lone ``def <method>`` (top level or indented) spliced into the benchmark's class in place
    of that method, with the answer's other top-level statements (imports, helpers) before it.
    Anything else is returned unchanged (the tests then fail on it)."""
    cls, method, base = context.get("class_name"), context.get("method"), context.get("class_source") or ""
    tree, text = _parse_answer(code)
    if tree is None or not cls or not method:
        return code
    if any(isinstance(n, ast.ClassDef) and n.name == cls for n in tree.body):
        return text
    fn = next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == method),
              None)  # fmt: skip
    if fn is None:
        return text
    from codemind.benchmarks.classeval import method_node

    try:
        target = method_node(ast.parse(base), cls, method)
    except SyntaxError:
        target = None
    if target is None:
        return text
    lines = text.splitlines(keepends=True)
    first = min([fn.lineno] + [d.lineno for d in fn.decorator_list]) - 1
    own = "".join(lines[first:fn.end_lineno])
    rest = "".join(lines[:first] + lines[fn.end_lineno:])
    indent = " " * target.col_offset
    own = "".join(indent + line if line.strip() else line for line in textwrap.dedent(own).splitlines(keepends=True))
    if not own.endswith("\n"):
        own += "\n"
    blines = base.splitlines(keepends=True)
    # the answer's decorators replace the method's; an answer without any keeps the method's
    # (a lone ``def add(a, b)`` of a @staticmethod stays static)
    start = min([target.lineno] + [d.lineno for d in target.decorator_list if fn.decorator_list]) - 1
    spliced = "".join(blines[:start]) + own + "".join(blines[target.end_lineno:])
    return (rest.rstrip() + "\n\n" if rest.strip() else "") + spliced


def _parse_answer(code: str) -> tuple[ast.Module | None, str]:
    for text in (code, textwrap.dedent(code)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ast.parse(text), text
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return None, code
