"""Java program variants (codemind/variants/java): exact behaviour of each transform on small
hand-written programs, determinism, and execution of a few variants to check that they print
what the original prints (mutants: something else).

Execution goes through the process sandbox, with Java jobs routed through
codemind.sandbox.java.run_java (the process runner itself runs only Python jobs); skipped when
the host has no JDK."""

from __future__ import annotations

import random
import shutil

import pytest

pytest.importorskip("codemind.analysis.java_constructs")
pytest.importorskip("tree_sitter_java")

from codemind.variants.base import VARIANTS, NotApplicable, Target, rng_for
from codemind.variants.java import (
    branches,
    dead_code,
    edit,
    expressions,
    loops,
    mutants,
    names,
)

PROGRAM = """import java.util.*;

class Main {
    static int total = 0;

    static int sq(int x) {
        return x * x;
    }

    public static void main(String[] args) {
        Scanner sc = new Scanner(System.in);
        int n = sc.nextInt();
        int m = 3;
        String s = "abc";
        for (int i = 0; i < n; i++) {
            if (i % 2 == 0) continue;
            total += sq(i);
        }
        if (n != m) {
            System.out.println("diff " + s);
        } else {
            System.out.println("same");
        }
        m++;
        s += n;
        System.out.println(total + m + s);
    }
}
"""

HUMANEVAL = """import java.util.*;

class Solution {
    public int addUp(List<Integer> xs, int k) {
        int acc = 0;
        for (int x : xs) {
            if (x > k) {
                acc += x;
            } else {
                acc -= 1;
            }
        }
        return acc;
    }
}

public class Main {
    public static void main(String[] args) throws Exception {
        Solution s = new Solution();
        System.out.println(s.addUp(new ArrayList<>(Arrays.asList(1, 5, 9)), 4));
    }
}
"""


def target(source: str) -> Target:
    return Target(source=source, language="java", kind="stdin", entry_point=None)


def main_class(source: str) -> str:
    return source[source.index("public class Main"):]


def test_rename_neutral_renames_locals_and_parameters_only():
    out = names.rename_neutral(target(PROGRAM), random.Random(0))
    assert "static int total = 0;" in out and "total += sq(" in out  # field and method kept
    assert "static int sq(int v0)" in out and "return v0 * v0;" in out
    for old in ("int n =", "int m =", "String s =", "int i ="):
        assert old not in out
    assert "System.out.println" in out and "sc.nextInt" not in out


def test_rename_never_touches_humaneval_main_or_the_called_method():
    for fn in (names.rename_neutral, names.rename_misleading):
        out = fn(target(HUMANEVAL), random.Random(3))
        assert main_class(out) == main_class(HUMANEVAL)
        assert "public int addUp(" in out and "int acc = 0;" not in out


def test_rename_leaves_a_name_that_is_also_a_field_or_method():
    src = "class A {\n  int n;\n  int f(int n) { return n + this.n; }\n  int g(int k) { return k; }\n}\n"
    out = names.rename_neutral(target(src), random.Random(0))
    assert "int f(int n) { return n + this.n; }" in out and "int g(int v0) { return v0; }" in out


def test_rename_misleading_draws_names_from_the_data_file():
    out = names.rename_misleading(target(PROGRAM), random.Random(1))
    pool = set(edit.lines("misleading_names.txt"))
    new = {w for w in pool if f"int {w} =" in out or f"int {w})" in out}
    assert new and "int m =" not in out


def test_for_while_turns_continue_into_a_break_of_a_labeled_body():
    src = PROGRAM.replace("            total += sq(i);\n", "            total += sq(i);\n")
    out = loops.for_while(target(src), random.Random(0))
    assert "for (" not in out
    assert "{ int i = 0; while (i < n) { next: {" in out and "break next;" in out and "} i++; } }" in out


def test_for_while_without_continue_and_unreachable_update():
    src = "class A {\n  int f(int n) {\n    int t = 0;\n    for (int i = 0; i < n; i++) t += i;\n" \
          "    for (int j = 0; j < n; j++) { return j; }\n    return t;\n  }\n}\n"
    out = loops.for_while(target(src), random.Random(0))
    assert "{ int i = 0; while (i < n) {{ t += i; } i++; } }" in out
    assert "for (int j = 0; j < n; j++) { return j; }" in out  # j++ would be unreachable
    with pytest.raises(NotApplicable):
        loops.for_while(target("class A { void f(int[] a) { for (int x : a) {} } }"), random.Random(0))


def test_while_becomes_a_for_without_update():
    src = "class A {\n  int f(int n) {\n    while (n > 9) n /= 10;\n    return n;\n  }\n}\n"
    assert "    for (; n > 9; ) n /= 10;\n" in loops.for_while(target(src), random.Random(0))


def test_swap_if_else_negates_and_braces():
    src = "class A {\n  int f(int x) {\n    if (x > 0) return 1; else if (x < 0) return -1; else return 0;\n  }\n}\n"
    out = branches.swap_if_else(target(src), random.Random(0))
    assert "if (!(x > 0)) { if (x < 0) return -1; else return 0; } else { return 1; }" in out
    out = branches.swap_if_else(target("class A { int f(int x) { if (x > 0) x--; return x; } }"), random.Random(0))
    assert "if (!(x > 0)) { } else { x--; } return x;" in out


def test_expression_rewrites_are_the_documented_forms():
    src = "class A {\n  void f(int a, int b, double d, String s) {\n    a++;\n    a += 2;\n    d += 1;\n" \
          "    s += a;\n    boolean c = a < b;\n    boolean e = a != b;\n    a += d;\n  }\n}\n"
    sites = {edit_text for _, edit_text in expressions._sites(edit.Program(target(src)))}
    assert {"a += 1", "a = a + (2)", "d = d + (1)", "s = s + (a)", "b > a", "!(a == b)"} <= sites
    assert not any(t.startswith("a = a + (d)") for t in sites)  # int += double casts implicitly


def test_dead_code_is_never_placed_after_a_return():
    src = "class A {\n  static int f(int x) {\n    return x;\n  }\n  public static void main(String[] a) {\n" \
          "    System.out.println(f(1));\n    return;\n  }\n}\n"
    for seed in range(20):
        out = dead_code.insert(target(src), random.Random(seed))
        assert out.rstrip().endswith("return;\n  }\n}") and "return x;\n  }" in out


def test_mutants_change_one_site_and_never_humaneval_main():
    for fn in (mutants.operator, mutants.constant, mutants.boundary):
        for seed in range(10):
            out = fn(target(HUMANEVAL), random.Random(seed))
            assert out != HUMANEVAL and main_class(out) == main_class(HUMANEVAL)
            assert out.splitlines()[0] == "import java.util.*;"
    out = mutants.boundary(target(PROGRAM), random.Random(0))
    assert "i < (n - 1)" in out


@pytest.mark.parametrize("kind", [k for k in VARIANTS.names() if "java" in VARIANTS.get(k).transforms])
def test_every_kind_is_deterministic_and_keeps_humaneval_main(kind):
    fn = VARIANTS.get(kind).transform_for("java")
    for src in (PROGRAM, HUMANEVAL):
        try:
            a = fn(target(src), rng_for(0, "p", kind))
        except NotApplicable:
            continue
        assert a == fn(target(src), rng_for(0, "p", kind))
        assert edit.Program(target(a)).root.has_error is False
        if src is HUMANEVAL:
            assert main_class(a) == main_class(HUMANEVAL)


@pytest.fixture(scope="module")
def sb():
    if shutil.which("javac") is None:
        pytest.skip("no JDK on this host")
    from codemind.sandbox import java as jv
    from codemind.sandbox import open_sandbox

    with open_sandbox("process", workers=2) as s:
        run_python = s.run

        def run(jobs, progress=None):
            jobs = list(jobs)
            assert all(j.language == "java" for j in jobs)
            return jv.run_java(jobs, run_python, 2, 400, progress)

        s.run = run
        yield s


def test_variants_print_what_the_original_prints_and_mutants_do_not(sb):
    from codemind.benchmarks.stdin_common import stdin_program
    from codemind.groundtruth import execute_ground_truth

    originals = {"prog": (PROGRAM, "7\n"), "he": (HUMANEVAL, "")}
    programs, expect = [], {}
    for pid, (src, stdin) in originals.items():
        programs.append(stdin_program(id=pid, benchmark="t", language="java", source=src, tests=[(stdin, None)], meta={}))
        for kind in VARIANTS.names():
            spec = VARIANTS.get(kind)
            if "java" not in spec.transforms:
                continue
            try:
                new = spec.transform_for("java")(target(src), rng_for(0, pid, kind))
            except NotApplicable:
                continue
            vid = f"{pid}~{kind}"
            programs.append(stdin_program(id=vid, benchmark="t", language="java", source=new,
                                          tests=[(stdin, None)], meta={}))
            expect[vid] = (pid, spec.behaviour)
    got = {t.program_id: t for t in execute_ground_truth(programs, sb, use_cache=False)}
    assert all(got[pid].status != "does_not_run" for pid in originals), [got[p].reason for p in originals]
    for vid, (pid, behaviour) in expect.items():
        assert got[vid].status != "does_not_run", (vid, got[vid].reason)
        if behaviour == "same":
            assert got[vid].expected == got[pid].expected, vid
