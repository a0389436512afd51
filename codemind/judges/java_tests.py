"""HumanEval-X Java tests as checks the judge decides in its own process (Java DER/SR synthesis).

A HumanEval-X Java test is one ``Main``: ``Solution s = new Solution();``, optional set-up
statements, ``List<Boolean> correct = Arrays.asList(CHECK, CHECK, ...)`` and ``if
(correct.contains(false)) throw new AssertionError();``. Run as written, it would compare in
the same JVM as the code under test, which can exit 0 before it, print what it likes, return
objects equal to anything, or patch the test by reflection. So each check is split
(``plan_java_tests``): its outermost calls of ``s`` run in the sandbox, in a generated Main
(judges/snippets/JavaTestValues.java) that writes each call's value as a plain-value record
(exact JDK classes only: boxed primitives, String, Optional, arrays, java.util lists, sets and
maps of those); the rest of the check is parsed by judges/java_expr.py and evaluated here, on
those values, with Java's semantics (judges/java_values.py). The expected values never enter
the JVM: set-up statements go to the sandbox only when the calls read what they bind (Java/95
passes its maps), and the judge interprets the ones the judged parts read (Java/111's
expected maps).

After the list, a `for` loop over int literals that throws on a false check is unrolled into
more checks (Java/44), and statements that cannot fail a solution (no `s`, no throw, once
`assert`s, never evaluated without -ea, are taken out: Java/151) are ignored. A test of
another shape (Java/32, /38, /50, /53 draw random inputs in loops) is *not checkable*:
``java_test_problem`` says why and the synthesis tasks leave the problem out with that reason.

Outcomes, as the Python tests judge (judges/tests.py): correct; wrong_value (a check fails, a
call or the check raises); invalid_answer (a call returned something that is not a plain
value); exited_early (the records stop before every call, or records that the Main did not
write in that order: ``tampered``); unparsable (javac rejects the code); timeout;
sandbox_error.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field

from codemind import resources
from codemind.judges.java_expr import Parser, Unsupported, evaluate, names, run_setup, tokenize
from codemind.judges.java_values import BadRecord, JavaError, JScalar, decode
from codemind.schema import ExecJob, Execution, Judgement, Limits

LIMITS = Limits(cpu_seconds=10, wall_seconds=15, memory_mb=1024)
MARK = "\x1eCMV "
END = MARK + "end"


@dataclass(frozen=True)
class JavaCheck:
    calls: tuple[str, ...]  # the calls of the code under test, as written (run in the sandbox)
    tree: tuple  # the check with ("call", k) placeholders (evaluated here)
    text: str  # the check as written


@dataclass(frozen=True)
class JavaTestPlan:
    checks: tuple[JavaCheck, ...] = ()
    sandbox_setup: str = ""  # set-up statements the calls need, run before them in the sandbox
    host_env: dict = field(default_factory=dict)  # names the judged parts read, interpreted here
    reason: str | None = None  # why the test cannot be judged as checks (None: it can)
    setup: tuple[str, ...] = ()  # the test's set-up statements, as written (without `;`)

    @property
    def complete(self) -> bool:
        return self.reason is None

    @property
    def calls(self) -> list[str]:
        return [c for check in self.checks for c in check.calls]


_HEAD = re.compile(r"\A\s*public\s+class\s+Main\s*\{\s*public\s+static\s+void\s+main\s*\(\s*String\s*\[\s*\]\s*\w+\s*\)"
                   r"\s*(?:throws\s+[\w.,\s]+?)?\s*\{\s*Solution\s+s\s*=\s*new\s+Solution\s*\(\s*\)\s*;")
_CORRECT = re.compile(r"List\s*<\s*Boolean\s*>\s+correct\s*=\s*Arrays\s*\.\s*asList\s*\(")
_TAIL = re.compile(r"\A\s*;\s*if\s*\(\s*correct\s*\.\s*contains\s*\(\s*false\s*\)\s*\)\s*\{\s*throw\s+new\s+"
                   r"AssertionError\s*\(\s*\)\s*;\s*\}(?P<rest>.*?)\}\s*\}\s*\Z", re.S)
# after the checks: `for (int x = A; x < B; x++) { if (!CHECK) { throw new AssertionError(); } }`
_LOOP = re.compile(r"\s*for\s*\(\s*int\s+(?P<var>[A-Za-z_]\w*)\s*=\s*(?P<lo>-?\d+)\s*;\s*(?P=var)\s*<\s*(?P<hi>-?\d+)\s*;"
                   r"\s*(?P=var)\s*\+\+\s*\)\s*\{\s*if\s*\(")
_THROW = re.compile(r"\s*\{\s*throw\s+new\s+AssertionError\s*\(\s*\)\s*;\s*\}\s*\}")
_ASSERT = re.compile(r"\bassert\b[^;]*;")


def _split_top(text: str, sep: str) -> list[str]:
    """Split at `sep` outside parentheses, brackets, braces and literals (via the tokenizer)."""
    parts, depth, start = [], 0, 0
    for t in tokenize(text):
        if t.text in "([{":
            depth += 1
        elif t.text in ")]}":
            depth -= 1
        elif t.text == sep and depth == 0:
            parts.append(text[start:t.start].strip())
            start = t.end
    tail = text[start:].strip()
    return parts + ([tail] if tail else [])


def _close(text: str, open_at: int) -> int:
    """Index of the parenthesis closing the one at text[open_at]."""
    depth = 0
    for t in tokenize(text[open_at:]):
        depth += {"(": 1, ")": -1}.get(t.text, 0)
        if depth == 0:
            return open_at + t.start
    raise Unsupported("unbalanced parentheses")


@functools.lru_cache(maxsize=2048)
def plan_java_tests(test: str) -> JavaTestPlan:
    """The checks of a HumanEval-X Java test, or a plan with the reason it cannot be split."""
    try:
        return _plan(test)
    except (Unsupported, JavaError, IndexError, ValueError, RecursionError) as e:
        return JavaTestPlan(reason=f"the test uses Java the judge does not evaluate: {e}"[:300])


def _plan(test: str) -> JavaTestPlan:
    head = _HEAD.match(test)
    if not head:
        return JavaTestPlan(reason="the test is not one main() over a Solution s")
    m = _CORRECT.search(test, head.end())
    if not m:
        return JavaTestPlan(reason="the test has no `correct = Arrays.asList(...)` checks (random inputs in loops)")
    end = _close(test, m.end() - 1)
    tail = _TAIL.match(test[end + 1:])
    extra = _after_checks(tail.group("rest")) if tail else None
    if extra is None:
        return JavaTestPlan(reason="the test does more after its checks than throw on a false one")
    setup = [s for s in _split_top(test[head.end():m.start()], ";") if s]
    bound = {}
    for stmt in setup:
        d = re.match(r"^[\w<>\[\],.?\s]+?\s+([A-Za-z_]\w*)\s*=", stmt)
        if d:
            bound[d.group(1)] = stmt
    checks = []
    for text in _split_top(test[m.end():end], ",") + extra:
        p = Parser(text)
        tree = p.parse()
        if not p.calls:
            return JavaTestPlan(reason=f"a check does not call the code under test: {text[:100]}")
        checks.append(JavaCheck(tuple(p.calls), tree, text))
    judged = set().union(*(names(c.tree) for c in checks))
    unknown = judged - set(bound)
    if unknown:
        return JavaTestPlan(reason=f"a check reads {sorted(unknown)[0]}, which the test does not bind")
    env: dict = {}
    if judged:
        run_setup(setup, env)
    call_text = " ".join(c for check in checks for c in check.calls)
    needed = any(re.search(rf"(?<![\w$.]){re.escape(n)}(?![\w$])", call_text) for n in bound)
    return JavaTestPlan(tuple(checks), "".join(f"        {s};\n" for s in setup) if needed else "",
                        {k: v for k, v in env.items() if k in judged}, setup=tuple(setup))


def _after_checks(rest: str) -> list[str] | None:
    """More checks from what the test does after its list (None: something the judge cannot
    decide). A `for` loop over int literals whose body throws on a false check is unrolled
    (Java/44). Other statements are ignored only if they cannot fail a solution: they do not
    use `s` or throw, once `assert` statements are taken out: Java runs without -ea, so an
    `assert` is never evaluated, in the benchmark's own harness either (Java/151)."""
    checks: list[str] = []
    while (m := _LOOP.search(rest)) is not None:
        close = _close(rest, m.end() - 1)
        throw = _THROW.match(rest, close + 1)
        cond = rest[m.end():close].strip()
        if throw is None or not cond.startswith("!"):
            return None
        cond = cond[1:].strip()
        for v in range(int(m.group("lo")), int(m.group("hi"))):
            toks = [t for t in tokenize(cond) if t.kind == "id" and t.text == m.group("var")]
            text = cond
            for t in reversed(toks):
                text = text[:t.start] + str(v) + text[t.end:]
            checks.append(text)
        rest = rest[:m.start()] + rest[throw.end():]
    left = _ASSERT.sub(" ", rest)
    if any(t.kind == "id" and t.text in ("s", "throw", "System", "Runtime") for t in tokenize(left)):
        return None
    return checks


def setup_for(plan: JavaTestPlan, text: str) -> list[str]:
    """The set-up statements that bind or change the names `text` reads (a shown test's set-up)."""
    used = set(re.findall(r"(?<![\w$.])([A-Za-z_]\w*)(?![\w$])", text))
    out = []
    for stmt in plan.setup:
        d = re.match(r"^[\w<>\[\],.?\s]+?\s+([A-Za-z_]\w*)\s*=", stmt) or re.match(r"^([A-Za-z_]\w*)\s*\.", stmt)
        if d and d.group(1) in used:
            out.append(stmt + ";")
    return out


# ---------------------------------------------------------------- the sandbox job


def demote_public(code: str) -> str:
    """The code with `public` taken off its top-level types, so the test's `public class Main`
    is the file's one public class (and the class that runs)."""
    from codemind.sandbox.java import _COMMENT_OR_STRING, _blank

    blanked = _COMMENT_OR_STRING.sub(_blank, code)
    cuts, depth = [], 0
    for m in re.finditer(r"[{}]|\bpublic\b(?=(?:\s+(?:final|abstract|static|strictfp|sealed|non-sealed))*\s+"
                         r"(?:class|interface|enum|record)\b)", blanked):
        tok = m.group()
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
        elif depth == 0:
            cuts.append(m.start())
    for at in reversed(cuts):
        code = code[:at] + code[at + len("public"):]
    return code


def test_main(plan: JavaTestPlan) -> str:
    text = resources.text("codemind.judges", "snippets/JavaTestValues.java")
    calls = "".join(f"        try {{ emit({k}, {call}); }} catch (Throwable t) {{ raised({k}, t); }}\n"
                    for k, call in enumerate(plan.calls))
    return text.replace("%SETUP%", plan.sandbox_setup).replace("%CALLS%", calls)


def java_test_job(code: str, plan: JavaTestPlan) -> ExecJob:
    """The sandbox job that makes the test's calls on this code."""
    return ExecJob(language="java", source=demote_public(code).rstrip("\n") + "\n\n" + test_main(plan),
                   limits=LIMITS)


# ---------------------------------------------------------------- reading the records


@dataclass(frozen=True)
class JavaCall:
    kind: str  # "value", "raised", "not_value"
    value: object = None
    detail: str | None = None


def read_records(ex: Execution, n: int) -> tuple[list[JavaCall], str | None]:
    """The calls' records in order, and why reading stopped early (None: every call and the end
    record, nothing else). Lines without the mark are the program's own output, ignored; a
    marked line that is not the next expected record ends what is believed ("tampered")."""
    out: list[JavaCall] = []
    ended = False
    for line in ex.stdout.split("\n"):
        if not line.startswith(MARK):
            continue
        if ended:
            return out, "tampered: records after the end"
        if line == END:
            if len(out) != n:
                return out, "tampered: end before every call"
            ended = True
            continue
        head, _, body = line[len(MARK):].partition(" ")
        if head != str(len(out)) or len(out) >= n:
            return out, "tampered: a record out of order"
        try:
            obj = json.loads(body)
            if isinstance(obj, dict) and set(obj) == {"raise"} and isinstance(obj["raise"], str):
                out.append(JavaCall("raised", detail=obj["raise"][:200]))
            elif isinstance(obj, dict) and set(obj) == {"X"} and isinstance(obj["X"], str):
                out.append(JavaCall("not_value", detail=obj["X"][:200]))
            else:
                out.append(JavaCall("value", decode(obj)))
        except (BadRecord, json.JSONDecodeError, RecursionError, ValueError):
            return out, "tampered: a record the test Main does not write"
    return out, None if ended else "no end record"


def _holds(check: JavaCheck, values: list, host_env: dict) -> bool:
    env = {**host_env, **dict(enumerate(values))}
    try:
        got = evaluate(check.tree, env)
    except Unsupported as e:  # e.g. .get() of a value that is not an Optional: javac would refuse the test
        raise JavaError(f"{e} (the value's type does not fit the test)") from e
    if not (isinstance(got, JScalar) and got.kind == "Z"):
        raise JavaError("the check is not a boolean")
    return bool(got.value)


def java_verdict(plan: JavaTestPlan, ex: Execution) -> tuple[str, str | None]:
    if ex.status == "compile_error":
        return "unparsable", (ex.exc_message or "compile error")[:300]
    calls, broken = read_records(ex, len(plan.calls))
    k = 0
    for check in plan.checks:
        got = calls[k:k + len(check.calls)]
        k += len(check.calls)
        if len(got) < len(check.calls):
            return _ended(ex, broken)
        for c in got:
            if c.kind == "raised":
                return "wrong_value", f"raised {c.detail}: {check.text[:200]}"
            if c.kind == "not_value":
                return "invalid_answer", f"returned {c.detail}, not a plain value: {check.text[:200]}"
        try:
            if not _holds(check, [c.value for c in got], plan.host_env):
                return "wrong_value", f"fails: {check.text[:200]}"
        except JavaError as e:
            return "wrong_value", f"{e} in: {check.text[:200]}"
    if broken is not None:
        return "exited_early", broken
    if ex.status == "ok":
        return "correct", None
    if ex.status == "timeout":
        return "timeout", "after the checks"
    return "wrong_value", f"{ex.status} after the checks: {ex.exc_type or ''} {ex.exc_message or ''}".strip()


def _ended(ex: Execution, broken: str | None) -> tuple[str, str | None]:
    if broken and broken.startswith("tampered"):
        return "exited_early", broken
    if ex.status == "timeout":
        return "timeout", ex.exc_message
    if ex.status == "sandbox_error":
        return "sandbox_error", (ex.stderr or "")[-300:] or None
    if ex.status == "memory":
        return "wrong_value", "memory"
    if ex.status == "exception" and ex.exc_type not in (None, "SystemExit"):
        return "wrong_value", f"{ex.exc_type}: {ex.exc_message or ''}"[:300]
    return "exited_early", f"before every check reported ({ex.exc_message or ex.status})"


def judge_java(cases: list, sandbox) -> list[Judgement]:
    """TestsJudge's Java half: one Judgement per case (extracted code present), in order."""
    from codemind.sandbox.cache import run_cached

    out: list[Judgement | None] = [None] * len(cases)
    jobs, where = [], []
    for i, case in enumerate(cases):
        plan = plan_java_tests(case.item.context["tests"])
        if not plan.complete:
            out[i] = Judgement(extracted=case.extracted, outcome="sandbox_error", correct=False,
                               detail=f"this test cannot be judged as checks: {plan.reason}")
            continue
        jobs.append(java_test_job(case.extracted, plan))
        where.append((i, plan))
    for (i, plan), ex in zip(where, run_cached(sandbox, jobs) if jobs else []):
        outcome, detail = java_verdict(plan, ex)
        out[i] = Judgement(extracted=cases[i].extracted, outcome=outcome, correct=outcome == "correct", detail=detail)
    return out  # type: ignore[return-value]
