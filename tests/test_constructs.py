"""Program analysis: constructs, metrics and output types on hand-checked programs, real
benchmark programs (CRUXEval, CodeMind's Avatar-Java), and the feature cache."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from pathlib import Path

import pytest

from codemind.analysis.constructs import analyze_python, recursion_kind
from codemind.analysis.features import (
    FeatureCache,
    benchmark_features,
    complexity_bin,
    data_key,
    feature_key,
    output_type,
    program_features,
)
from codemind.schema import Program, TestInput

java = pytest.importorskip("codemind.analysis.java_constructs")


def py(src: str):
    return analyze_python(textwrap.dedent(src))


def jv(body: str):
    return java.analyze_java(textwrap.dedent(body))


# ---------------------------------------------------------------- Python


def test_python_flat_loops_and_if():
    a = py("""
        def f(xs):
            total = 0
            for x in xs:
                if x > 0:
                    total += x
            while total > 10:
                total -= 10
            return total
    """)
    assert a.constructs == ["for", "while", "if"]
    assert a.cyclomatic == 4  # 1 + for + if + while
    assert a.max_nesting == 2
    assert a.loc == 8
    assert a.recursion == "none"


def test_python_elif_chain_is_not_nested_but_if_in_loop_in_if_is():
    flat = py("""
        def f(x):
            if x < 0:
                return -1
            elif x == 0:
                return 0
            else:
                return 1
    """)
    assert "nested_if" not in flat.constructs and flat.counts["if"] == 2
    nested = py("""
        def f(xs, y):
            if y:
                for x in xs:
                    if x:
                        return x
            return None
    """)
    assert "nested_if" in nested.constructs and "nested_loop" not in nested.constructs
    inside_else = py("""
        def f(a, b):
            if a:
                return 1
            else:
                b += 1
                if b:
                    return 2
    """)
    assert inside_else.counts["nested_if"] == 1


def test_python_nested_loop_at_depth_through_other_statements():
    a = py("""
        def f(m):
            for row in m:
                try:
                    with open('x') as fh:
                        if row:
                            while row:
                                row.pop()
                except OSError:
                    pass
    """)
    assert "nested_loop" in a.constructs and a.max_nesting == 5
    # a loop in a function defined inside a loop is not lexically nested in it
    b = py("""
        def f(xs):
            for x in xs:
                def g(y):
                    for z in y:
                        pass
                g(x)
    """)
    assert "nested_loop" not in b.constructs
    # comprehension generators are loops
    assert "nested_loop" in py("def f(a, b):\n    return [x * y for x in a for y in b]").constructs
    assert "nested_loop" in py("def f(a):\n    for r in a:\n        s = sum(x for x in r)\n").constructs
    assert "nested_loop" not in py("def f(a):\n    return [x for x in a if x]").constructs


def test_python_recursion_direct_mutual_and_methods():
    assert py("def f(n):\n    return 1 if n < 2 else n * f(n - 1)").recursion == "direct"
    mutual = py("""
        def even(n):
            return True if n == 0 else odd(n - 1)
        def odd(n):
            return False if n == 0 else even(n - 1)
    """)
    assert mutual.recursion == "mutual" and "recursion" in mutual.constructs
    method = py("""
        class T:
            def depth(self, node):
                return 0 if node is None else 1 + self.depth(node.left)
    """)
    assert method.recursion == "direct"
    # calling a builtin or another object's method of the same name is not recursion
    assert py("def f(xs):\n    return sorted(xs)\ndef g(s):\n    return s.f()").recursion == "none"
    assert py("def f(x):\n    return g(x)\ndef g(x):\n    return x").recursion == "none"


def test_python_try_match_comprehension_lambda_generator_and_cyclomatic():
    a = py("""
        def f(x, ys):
            try:
                v = int(x)
            except ValueError:
                v = 0
            except TypeError:
                v = 1
            finally:
                pass
            match v:
                case 0:
                    return [y for y in ys if y and v]
                case _:
                    return sorted(ys, key=lambda y: -y)
        def gen(n):
            yield from range(n)
    """)
    assert set(a.constructs) == {"try", "switch", "comprehension", "lambda", "generator"}
    # 1 + 2 excepts + 2 cases + comprehension (1 for + 1 if) + `y and v` (1)
    assert a.cyclomatic == 8
    assert a.functions == 2


def test_python_syntax_error_is_reported_not_raised():
    a = analyze_python("print 'python 2'\n")
    assert a.parse_error and a.constructs == [] and a.loc == 1


def test_recursion_kind_graph():
    assert recursion_kind({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == "mutual"
    assert recursion_kind({"a": {"b"}, "b": {"len"}}) == "none"
    assert recursion_kind({"a": {"a"}}) == "direct"


# ---------------------------------------------------------------- Java


def test_java_constructs_and_cyclomatic():
    a = jv("""
        import java.util.*;
        public class Main {
            static int fib(int n) { if (n < 2) return n; else if (n == 2) return 1; return fib(n - 1) + fib(n - 2); }
            public static void main(String[] args) {
                int s = 0;
                for (int i = 0; i < 3; i++) {
                    for (int x : new int[]{1, 2}) { if (x > 1 && i > 0) { if (s > 2) s++; } }
                }
                do { s--; } while (s > 100);
                switch (s) { case 1: s++; break; case 2: s--; break; default: break; }
                try (Scanner sc = new Scanner(System.in)) { s += sc.nextInt(); } catch (Exception e) { s = 0; }
                Runnable r = () -> System.out.println(fib(3));
                System.out.println(s > 0 ? s : -s);
            }
        }
    """)
    assert set(a.constructs) == {"for", "do_while", "if", "nested_if", "nested_loop", "recursion", "try", "switch",
                                 "lambda"}
    assert a.recursion == "direct"
    assert a.counts["if"] == 4 and a.counts["nested_if"] == 1  # else-if is a chain, `if (s > 2)` is nested
    # 1 + 4 if + 3 loops + && + 2 case + catch + ?:
    assert a.cyclomatic == 13
    assert a.max_nesting == 4
    assert a.parse_error is None


def test_java_mutual_recursion_and_while():
    a = jv("""
        class Main {
            static boolean even(int n) { return n == 0 || odd(n - 1); }
            static boolean odd(int n) { return n != 0 && Main.even(n - 1); }
            public static void main(String[] a) { int i = 0; while (i < 3) i++; System.out.println(even(i)); }
        }
    """)
    assert a.recursion == "mutual" and set(a.constructs) == {"while", "recursion"}


def test_java_syntax_error_is_reported():
    assert java.analyze_java("class Main { void f( { }").parse_error


def test_real_avatar_java_programs_parse(data_dir: Path):
    root = data_dir / "codemind" / "latest_2025-04" / "Avatar-Java"
    files = sorted(root.glob("*/*.java"))
    assert len(files) >= 80
    results = [java.analyze_java(f.read_text(encoding="utf-8", errors="replace")) for f in files]
    assert sum(r.parse_error is None for r in results) >= 0.9 * len(results)
    assert sum("for" in r.constructs for r in results) > 20
    assert all(r.cyclomatic >= 1 and r.loc > 0 for r in results if r.parse_error is None)


def test_real_cruxeval_programs(data_dir: Path):
    rows = [json.loads(line) for line in (data_dir / "cruxeval" / "cruxeval.jsonl").open()]
    results = [analyze_python(r["code"]) for r in rows]
    assert all(r.parse_error is None for r in results)
    has = {c: sum(c in r.constructs for r in results) for c in ("for", "while", "if", "nested_loop", "recursion")}
    assert has["for"] > 200 and has["if"] > 200 and has["while"] > 50 and has["recursion"] >= 1
    # sample_0 is a single for loop
    assert results[0].constructs == ["for"] and results[0].cyclomatic == 2


# ---------------------------------------------------------------- output types and bins


@pytest.mark.parametrize("expected,kind,want", [
    ("3", "function", "int"), ("-2.5", "function", "float"), ("True", "function", "bool"),
    ("'abc'", "function", "str"), ("[1, 2]", "function", "list"), ("(1, 'a')", "function", "tuple"),
    ("{'a': 1}", "function", "dict"), ("{1, 2}", "function", "set"), ("None", "function", "None"),
    ("set()", "function", "set"), ("b'x'", "function", "other"), ("42\n", "stdin", "stdout"), ("1\n2\n", "stdin", "multi-line stdout"),
    (None, "function", "unknown"),
])
def test_output_type(expected, kind, want):
    assert output_type(expected, kind) == want


def test_complexity_bins():
    assert [complexity_bin(c) for c in (1, 2, 3, 4, 5, 6, 10, 11, 40, None)] == [
        "1", "2-3", "2-3", "4-5", "4-5", "6-10", "6-10", "11+", "11+", "unknown"]


# ---------------------------------------------------------------- the cache


def _prog(pid: str, src: str, language: str = "python") -> Program:
    return Program(id=pid, benchmark="t", language=language, kind="function", source=src, entry_point="f",
                   inputs=[TestInput(call="f(1)")])


def test_features_are_cached_by_content(tmp_path: Path):
    cache = FeatureCache(tmp_path / "f.sqlite")
    progs = [_prog("a", "def f(x):\n    return x"), _prog("b", "def f(x):\n    return x"),
             _prog("c", "def f(x):\n    for i in x:\n        pass")]
    out = program_features(progs, cache)
    assert out["c"]["constructs"] == ["for"] and out["a"]["constructs"] == []
    with sqlite3.connect(tmp_path / "f.sqlite") as db:
        assert db.execute("SELECT count(*) FROM features").fetchone()[0] == 2  # a and b share one source
    # a cached entry is returned as stored (so a stored analysis is what later loads see)
    key = feature_key("python", progs[2].source)
    cache.put_many({key: {**out["c"], "loc": 999}})
    assert program_features([progs[2]], cache)["c"]["loc"] == 999


def test_benchmark_features_use_program_index_without_loading(tmp_path: Path, data_dir: Path):
    cache = FeatureCache(tmp_path / "f.sqlite")
    files = {"cruxeval/cruxeval.jsonl": "x" * 64}
    first = benchmark_features("cruxeval", "python", ["sample_0", "sample_1"], files, data_dir, cache)
    assert first["sample_0"]["constructs"] == ["for"]
    with sqlite3.connect(tmp_path / "f.sqlite") as db:
        n = db.execute("SELECT count(*) FROM programs WHERE data_key=?",
                       (data_key("cruxeval", "python", files),)).fetchone()[0]
    assert n == 2
    # a missing data dir does not matter once the index has the programs
    again = benchmark_features("cruxeval", "python", ["sample_1"], files, tmp_path / "nowhere", cache)
    assert again["sample_1"] == first["sample_1"]
    # an unknown benchmark yields nothing rather than an error
    assert benchmark_features("no-such-bench", "python", ["x"], None, None, cache) == {}
