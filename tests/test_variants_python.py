"""Python program variants (codemind/variants/python): exact behaviour of each transform on
small programs, determinism, NotApplicable cases, and a few variants executed in the sandbox."""

from __future__ import annotations

import ast
import random

import pytest

from codemind.variants.base import VARIANTS, NotApplicable, Target
from codemind.variants.python import (
    branches,
    comments,
    dead_code,
    expressions,
    loops,
    mutants,
    names,
    padding,
    reorder,
)

SRC = '''def f(nums, k):
    count = 0
    total = []
    for n in nums:
        if n > k:
            count += 1
        else:
            total.append(n)
    return (count, sorted(total))
'''
CALLS = ("f([3, 1, 4, 1, 5], 2)",)


def T(source: str = SRC, calls: tuple[str, ...] = CALLS, entry: str | None = "f", **kw) -> Target:
    return Target(source=source, language="python", kind="function", entry_point=entry, calls=calls, **kw)


def run(source: str, call: str):
    env: dict = {}
    exec(compile(source, "<t>", "exec"), env)  # noqa: S102 -- the test's own small programs
    return eval(call, env)


def bound(source: str) -> set[str]:
    tree = ast.parse(source)
    out = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    out |= {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
    return out | {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


# --- names ---

def test_rename_neutral_exact():
    out = names.rename_neutral(T(), random.Random(0))
    assert out.splitlines()[0] == "def f(v0, v1):"
    assert "for v4 in v0:" in out and "v2 += 1" in out
    assert run(out, CALLS[0]) == run(SRC, CALLS[0])


def test_rename_keeps_entry_keywords_builtins_imports_attributes_and_classes():
    src = '''import math
from collections import Counter
class Box:
    size = 3
    def grow(self, by):
        self.size += by
        return self.size
def helper(a, scale):
    return math.floor(a * scale)
def f(xs, k=1):
    b = Box()
    c = Counter(xs)
    return [helper(x, scale=k) for x in xs], b.grow(by=2), len(c)
'''
    out = names.rename_neutral(T(src, ("f([1, 2], k=2)",)), random.Random(0))
    for kept in ("def f(", "k=1", "scale", "import math", "Counter", "class Box", "size = 3", "def grow",
                 "self.size", "by", "len("):
        assert kept in out
    assert "def helper" not in out and "f0(" in out  # local helper renamed, consistently
    assert run(out, "f([1, 2], k=2)") == run(src, "f([1, 2], k=2)")


def test_rename_global_and_nonlocal_consistently():
    src = '''n = 0
def f(x):
    global n
    acc = []
    def add(y):
        nonlocal acc
        acc = acc + [y]
    add(x)
    n += 1
    return acc, n
'''
    out = names.rename_neutral(T(src, ("f(3)",)), random.Random(0))
    assert "global n" not in out and run(out, "f(3)") == run(src, "f(3)")


def test_rename_not_applicable():
    with pytest.raises(NotApplicable, match="locals"):
        names.rename_neutral(T("def f(a):\n    return locals()\n", ("f(1)",)), random.Random(0))
    with pytest.raises(NotApplicable, match="nothing"):
        names.rename_neutral(T("def f():\n    return 1\n", ("f()",)), random.Random(0))


def test_rename_misleading_uses_vocabulary_and_is_deterministic():
    a = names.rename_misleading(T(), random.Random(7))
    assert a == names.rename_misleading(T(), random.Random(7))
    new = bound(a) - bound(SRC)
    assert new and new <= set(names.vocabulary()) | {"result"}
    assert run(a, CALLS[0]) == run(SRC, CALLS[0])


def test_rename_keep_names_and_fstring_debug():
    src = 'def f(a):\n    width = a\n    return f"{width=}"\n'
    with pytest.raises(NotApplicable):  # a is kept, width is printed by f"{width=}"
        names.rename_neutral(T(src, ("f(2)",), keep_names=frozenset({"a"})), random.Random(0))
    out = names.rename_neutral(T(src, ("f(2)",)), random.Random(0))
    assert out == "def f(v0):\n    width = v0\n    return f'width={width!r}'\n"



# --- reorder ---

def test_reorder_swaps_only_independent_assignments():
    src = "def f(a):\n    x = a + 1\n    y = 2\n    z = x + y\n    return z\n"
    out = reorder.reorder(T(src, ("f(1)",)), random.Random(0))
    assert out == "def f(a):\n    y = 2\n    x = a + 1\n    z = x + y\n    return z\n"
    with pytest.raises(NotApplicable):  # dependent, or an impure call
        reorder.reorder(T("def f(a):\n    x = a.pop()\n    y = a.pop()\n    return x - y\n"), random.Random(0))
    with pytest.raises(NotApplicable):  # a store into a list next to a read of contents (aliasing)
        reorder.reorder(T("def f(a, b):\n    a[0] = 1\n    y = b[0]\n    return y\n"), random.Random(0))


# --- loops ---

def test_for_while_range_continue_and_final_value():
    src = '''def f(n):
    s = 0
    for i in range(1, n, 2):
        if i == 3:
            continue
        s += i
    return s, i
'''
    out = loops.for_while(T(src, ("f(9)",)), random.Random(0))
    assert "for " not in out and "while _i < _stop:" in out
    assert run(out, "f(9)") == run(src, "f(9)") == (13, 7)


def test_for_while_iterable_else_break_and_tuple_target():
    src = '''def f(d, stop):
    out = []
    for k, v in d.items():
        if k == stop:
            break
        out.append(v)
    else:
        out.append('done')
    return out
'''
    out = loops.for_while(T(src, ("f({'a': 1, 'b': 2}, 'b')",)), random.Random(0))
    assert "iter(d.items())" in out and "except StopIteration:" in out
    for call in ("f({'a': 1, 'b': 2}, 'b')", "f({'a': 1, 'b': 2}, 'z')"):
        assert run(out, call) == run(src, call)


def test_for_with_jumping_else_is_left_and_while_becomes_for():
    src = '''def f(xs):
    i = 0
    while i < len(xs):
        i += 1
        if xs[i - 1] < 0:
            continue
    for a in xs:
        for b in xs:
            pass
        else:
            break
    return i
'''
    out = loops.for_while(T(src, ("f([1, -2])",)), random.Random(3))
    assert run(out, "f([1, -2])") == run(src, "f([1, -2])")
    with pytest.raises(NotApplicable, match="no loop"):
        loops.for_while(T("def f(x):\n    return x\n"), random.Random(0))


def test_nested_loops_are_all_rewritten():
    src = "def f(m):\n    s = 0\n    for row in m:\n        for x in row:\n            s += x\n    return s\n"
    outs = [loops.for_while(T(src, ("f([[1, 2], [3]])",)), random.Random(seed)) for seed in range(10)]
    assert any("for " not in o for o in outs)
    assert all(run(o, "f([[1, 2], [3]])") == 6 for o in outs)


def test_fresh_helper_names_do_not_clash():
    src = "def f(_it, _i, _stop):\n    r = []\n    for x in _it:\n        r.append(x + _i + _stop)\n    return r\n"
    out = loops.for_while(T(src, ("f([1], 2, 3)",)), random.Random(0))
    assert "_it1" in out and run(out, "f([1], 2, 3)") == [6]


# --- branches ---

def test_swap_if_else_and_elif_chain():
    src = '''def f(x):
    if x < 0:
        return 'neg'
    elif x == 0:
        return 'zero'
    else:
        return 'pos'
'''
    out = branches.swap_if_else(T(src, ("f(1)",)), random.Random(1))
    assert "not x < 0" in out or "x != 0" in out
    for x in (-1, 0, 1):
        assert run(out, f"f({x})") == run(src, f"f({x})")


def test_swap_if_without_else_and_ifexp():
    out = branches.swap_if_else(T("def f(x):\n    if x in 'ab':\n        x = 1\n    return x\n", ("f('a')",)),
                                random.Random(0))
    assert "if x not in 'ab':\n        pass\n    else:\n        x = 1" in out
    out = branches.swap_if_else(T("def f(x):\n    return 1 if x else 2\n"), random.Random(0))
    assert "return 2 if not x else 1" in out


# --- expressions ---

def test_expression_rewrites_are_equivalent():
    src = '''def f(xs, s):
    n = 0
    if not len(xs) == 0 and n < 3:
        n += 2
    t = list(s[1:])
    return n * 2, ','.join(t), range(4)
'''
    for seed in range(8):
        out = expressions.rewrite(T(src, ("f([1], 'abc')",)), random.Random(seed))
        assert out != src
        assert run(out, "f([1], 'abc')") == run(src, "f([1], 'abc')")


def test_expression_never_rewrites_augassign_on_list_or_docstring():
    src = 'def f(a):\n    """Doc 12."""\n    a += [1]\n    return a\n'
    for seed in range(5):
        out = expressions.rewrite(T(src, ("f([0])",)), random.Random(seed))
        assert "a += [" in out and '"""Doc 12."""' in out


# --- dead code ---

def test_dead_code_keeps_docstring_future_and_global_order():
    src = '"""Mod."""\nfrom __future__ import annotations\nn = 1\ndef f(x):\n    """Doc."""\n    global n\n    n += x\n    return n\n'
    for seed in range(10):
        out = dead_code.insert(T(src, ("f(2)",)), random.Random(seed))
        body = ast.parse(out).body
        assert ast.get_docstring(ast.parse(out)) == "Mod." and isinstance(body[1], ast.ImportFrom)
        fn = next(s for s in body if isinstance(s, ast.FunctionDef))
        assert ast.get_docstring(fn) == "Doc." and isinstance(fn.body[1], ast.Global)
        assert run(out, "f(2)") == 3


def test_dead_code_never_writes_non_local_names():
    src = "LIMIT = 3\ndef f(x):\n    return x + LIMIT\n"
    for seed in range(20):
        out = dead_code.insert(T(src, ("f(1)",)), random.Random(seed))
        assert run(out, "f(1)") == 4


# --- comments ---

def test_comments_never_inside_strings_or_continuations():
    src = '''def f(x):
    s = """a
b = 1
"""
    y = 1 + \\
        2
    z = (x,
         3); w = 4
    return s, y, z, w
'''
    for seed in range(20):
        out = comments.mislead(T(src, ("f(1)",)), random.Random(seed))
        assert '"""a\nb = 1\n"""' in out and "1 + \\\n        2" in out and "(x,\n         3); w = 4" in out
        assert run(out, "f(1)") == run(src, "f(1)")
        assert all(line.strip().startswith("#") or line in src.splitlines() or '"""' in line
                   for line in out.splitlines())


def test_comments_add_docstrings_only_where_none():
    src = 'def f(x):\n    """Keep."""\n    return x\n\ndef g(y):\n    return y\n'
    outs = [comments.mislead(T(src, ("f(1)",)), random.Random(s)) for s in range(10)]
    assert all('"""Keep."""' in o and o.count('"""Keep."""') == 1 for o in outs)
    assert any(ast.get_docstring(ast.parse(o).body[1]) for o in outs)
    assert comments.mislead(T(src), random.Random(3)) == comments.mislead(T(src), random.Random(3))


# --- padding ---

def test_padding_wraps_dsr_padding():
    out = padding.pad(T(), random.Random(0))
    assert len(out.splitlines()) > len(SRC.splitlines()) and run(out, CALLS[0]) == run(SRC, CALLS[0])
    with pytest.raises(NotApplicable):
        padding.pad(T("def f(:\n"), random.Random(0))


# --- mutants ---

def test_mutants_change_one_site():
    src = "def f(xs, k):\n    return [x + 1 for x in xs[:k] if x < 3] + list(range(k))\n"
    for fn in (mutants.operator, mutants.constant, mutants.boundary):
        outs = {fn(T(src, ("f([1, 2, 5], 2)",)), random.Random(s)) for s in range(12)}
        assert len(outs) > 1 and src not in outs
        assert all(len(ast.dump(ast.parse(o))) - len(ast.dump(ast.parse(src))) < 80 for o in outs)
    bounds = {mutants.boundary(T(src), random.Random(s)) for s in range(30)}
    assert any("range(k + 1)" in o or "range(k - 1)" in o for o in bounds)
    assert any("xs[:k + 1]" in o or "xs[:k - 1]" in o for o in bounds)
    assert any("x <= 3" in o for o in bounds)


def test_mutants_skip_docstrings_and_test_class():
    src = 'class Test:\n    def test(self):\n        return 1 + 2\n\ndef f():\n    """Doc."""\n    return True\n'
    for s in range(5):
        out = mutants.constant(T(src, ("f()",)), random.Random(s))
        assert "return False" in out and "1 + 2" in out and "Doc." in out
    with pytest.raises(NotApplicable):
        mutants.operator(T("def f(x):\n    return x\n"), random.Random(0))


# --- registry, determinism, execution in the sandbox ---

KINDS = [k for k in VARIANTS.names() if VARIANTS.get(k).transform_for("python")]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_deterministic(kind):
    fn = VARIANTS.get(kind).transform_for("python")
    assert fn(T(), random.Random(5)) == fn(T(), random.Random(5))


def test_variants_keep_outputs_in_the_sandbox():
    from codemind.groundtruth import execute_ground_truth
    from codemind.sandbox import open_sandbox
    from codemind.schema import Program, TestInput

    call = CALLS[0]
    base = Program(id="t/0", benchmark="t", language="python", kind="function", source=SRC, entry_point="f",
                   inputs=[TestInput(index=0, call=call, label=repr(run(SRC, call)))])
    programs = [base]
    for kind in KINDS:
        vk = VARIANTS.get(kind)
        if vk.behaviour == "same":
            src = vk.transform_for("python")(T(), random.Random(1))
            programs.append(base.model_copy(update={"id": f"t/0~{kind}", "source": src}))
    with open_sandbox("process") as sb:
        truths = execute_ground_truth(programs, sb, use_cache=False)
    assert {t.status for t in truths} == {"ok"}
    assert len({t.expected for t in truths}) == 1


def test_mutants_focus_on_the_method_under_test():
    src = "class A:\n    def m(self, x):\n        return x + 1\n    def other(self, y):\n        return y - 2\n"
    t = T(src, ("Test().test()",), entry=None, keep_names=frozenset({"A", "m"}))
    for s in range(10):
        out = mutants.operator(t, random.Random(s))
        assert "y - 2" in out and "x + 1" not in out


def test_loops_respect_shadowed_builtins():
    src = "def f(next, xs):\n    s = 0\n    for i in range(3):\n        s += i\n    for x in xs:\n        s += x\n    return s\n"
    for seed in range(10):
        try:
            out = loops.for_while(T(src, ("f(1, [2])",)), random.Random(seed))
        except NotApplicable:
            continue
        assert "for x in xs" in out and run(out, "f(1, [2])") == 5
