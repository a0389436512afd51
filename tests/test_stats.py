"""Statistics: known values, reproducibility, and the properties that make the intervals honest."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest

from codemind.analysis.stats import (
    cluster_bootstrap,
    mcnemar,
    paired_bootstrap,
    pass_at_k,
    pass_at_k_table,
    wilson,
    with_without,
)


def test_wilson_unchanged():
    lo, hi = wilson(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)


def test_pass_at_k_matches_brute_force():
    # probability that some k-subset of n generations (c correct) holds a correct one
    for n, c, k in [(10, 3, 1), (10, 3, 5), (6, 0, 2), (5, 5, 5), (7, 2, 3)]:
        subsets = list(combinations(range(n), k))
        brute = sum(any(i < c for i in s) for s in subsets) / len(subsets)
        assert pass_at_k(n, c, k) == pytest.approx(brute)


def test_pass_at_k_table_skips_items_with_too_few_samples():
    items = ["a"] * 5 + ["b"] * 5 + ["c"] * 2
    correct = [True, False, False, False, False] + [False] * 5 + [True, True]
    t5 = pass_at_k_table(items, correct, 5)
    assert t5["items"] == 2 and t5["skipped"] == 1
    assert t5["pass_at_k"] == pytest.approx((1.0 + 0.0) / 2)
    t1 = pass_at_k_table(items, correct, 1)
    assert t1["pass_at_k"] == pytest.approx((0.2 + 0.0 + 1.0) / 3)


def test_mcnemar_known_values():
    # 8 pairs only A right, 2 only B right: exact p = 2 * P(X <= 2), X ~ Bin(10, 1/2)
    a = [True] * 8 + [False] * 2 + [True] * 5 + [False] * 5
    b = [False] * 8 + [True] * 2 + [True] * 5 + [False] * 5
    r = mcnemar(a, b)
    assert (r["only_a"], r["only_b"], r["n"]) == (8, 2, 20)
    assert r["p_exact"] == pytest.approx(2 * (1 + 10 + 45) / 1024)
    assert r["p_mid"] == pytest.approx(2 * ((1 + 10 + 45) / 1024 - 0.5 * 45 / 1024))
    assert mcnemar([True, False], [True, False])["p_exact"] == 1.0
    with pytest.raises(ValueError):
        mcnemar([True], [True, False])


def test_cluster_bootstrap_is_seeded_and_wider_for_correlated_samples():
    rng = np.random.default_rng(1)
    # 40 programs, 10 samples each, each program's samples identical (perfectly correlated)
    prog = np.repeat(np.arange(40), 10)
    per_prog = rng.random(40) < 0.5
    values = per_prog[prog].astype(float)
    m1 = cluster_bootstrap(values, prog, seed=3)
    assert m1 == cluster_bootstrap(values, prog, seed=3)
    _, lo_c, hi_c = m1
    _, lo_i, hi_i = cluster_bootstrap(values, None, seed=3)
    wl, wh = wilson(int(values.sum()), values.size)
    # the clustered interval reflects 40 independent units, not 400
    assert (hi_c - lo_c) > 2.5 * (hi_i - lo_i)
    assert (hi_c - lo_c) > 2.5 * (wh - wl)
    assert lo_c <= values.mean() <= hi_c


def test_cluster_bootstrap_coverage_is_near_nominal():
    # 200 simulated experiments of 60 programs x 3 samples: the 95% interval covers the truth
    rng = np.random.default_rng(7)
    covered = 0
    for trial in range(200):
        p_prog = rng.beta(2, 2, size=60)
        prog = np.repeat(np.arange(60), 3)
        values = (rng.random(180) < p_prog[prog]).astype(float)
        _, lo, hi = cluster_bootstrap(values, prog, b=500, seed=trial)
        covered += lo <= 0.5 <= hi
    assert 0.88 <= covered / 200 <= 0.99


def test_paired_bootstrap_difference_and_identity():
    a = [1.0] * 30 + [0.0] * 10
    b = [1.0] * 20 + [0.0] * 20
    r = paired_bootstrap(a, b, seed=0)
    assert r["diff"] == pytest.approx(0.25)
    assert 0.0 < r["ci_low"] < 0.25 < r["ci_high"]
    assert r["p_boot"] < 0.01
    same = paired_bootstrap(a, a, seed=0)
    assert same["diff"] == 0 and same["ci_low"] == same["ci_high"] == 0 and same["p_boot"] == 1.0
    assert r == paired_bootstrap(a, b, seed=0)


def test_paired_is_more_sensitive_than_unpaired_intervals():
    # B is right exactly where A is, plus 6 more items: the paired test sees it clearly
    # while the two Wilson intervals overlap heavily
    n = 100
    a = [i < 50 for i in range(n)]
    b = [i < 56 for i in range(n)]
    r = mcnemar(a, b)
    assert r["only_b"] == 6 and r["only_a"] == 0 and r["p_exact"] < 0.05
    la, ha = wilson(sum(a), n)
    lb, hb = wilson(sum(b), n)
    assert lb < ha  # overlapping
    boot = paired_bootstrap([float(x) for x in a], [float(x) for x in b], seed=0)
    assert boot["ci_high"] < 0


def test_with_without():
    # 20 programs with the construct (all wrong), 20 without (all right), 2 samples each
    prog = [i // 2 for i in range(80)]
    has = [p < 20 for p in prog]
    correct = [not h for h in has]
    r = with_without(correct, has, prog, seed=0)
    assert (r["n_with"], r["n_without"], r["programs_with"], r["programs_without"]) == (40, 40, 20, 20)
    assert r["acc_with"] == 0.0 and r["acc_without"] == 1.0 and r["diff"] == -1.0
    assert r["diff_ci"] == pytest.approx((-1.0, -1.0))
    # two samples per program: the side intervals come from the program bootstrap too
    assert r["ci_with"] == pytest.approx((0.0, 0.0)) and r["ci_without"] == pytest.approx((1.0, 1.0))
    # one sample per program: Wilson
    single = with_without(correct[::2], has[::2], prog[::2], seed=0)
    assert single["ci_with"] == wilson(0, 20) and single["ci_without"] == wilson(20, 20)
    # too few programs on one side: no bootstrap interval rather than a falsely narrow one
    few = with_without([True, False, True, True], [True, False, False, False], [0, 1, 2, 3])
    assert few["diff"] == pytest.approx(1.0 - 2 / 3) and few["diff_ci"] is None
    none = with_without([True, False], [False, False])
    assert none["acc_with"] is None and none["diff"] is None


def test_with_without_interval_covers_a_null_effect():
    rng = np.random.default_rng(11)
    prog = np.repeat(np.arange(80), 4)
    has = (prog % 2 == 0)
    correct = rng.random(prog.size) < 0.6
    r = with_without(correct, has, prog, seed=0)
    lo, hi = r["diff_ci"]
    assert lo < 0 < hi and math.isclose(r["diff"], correct[has].mean() - correct[~has].mean())
