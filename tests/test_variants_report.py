"""The paired variant statistics (codemind/report/variants.py) on hand-made samples, and the run
configuration's hash with and without --variant."""

from __future__ import annotations

import pytest

from codemind.config import RunConfig
from codemind.report.variants import answers_original, variant_report


def _s(pid, correct, variant=None, extracted=None, expected="1", idx=0, run="r", task="ier"):
    return {"run": run, "model": "m", "benchmark": "b", "language": "python", "task": task, "stage": None,
            "program_id": pid + (f"~{variant}" if variant else ""), "input_index": idx, "sample_index": 0,
            "variant": variant, "correct": correct, "extracted": extracted, "expected": expected}


def test_pairs_difference_mcnemar_memory_and_robust():
    samples = [
        _s("a", True), _s("b", True), _s("c", False), _s("d", True),
        _s("a", True, "rename"), _s("b", False, "rename"), _s("c", False, "rename"), _s("d", True, "rename"),
        _s("a", True, "loop"), _s("b", True, "loop"),  # c, d: no loop variant
        # mutants: the expected output changed; b and d answer the ORIGINAL output ("1")
        _s("a", True, "mutant-operator", "2", "2"), _s("b", False, "mutant-operator", "1", "2"),
        _s("c", False, "mutant-operator", "3", "2"), _s("d", False, "mutant-operator", " 1 ", "5"),
        _s("e", True, "rename"),  # its original was never asked: unpaired, not counted
    ]
    report = variant_report(samples, n_boot=200)
    rows = {r["variant"]: r for r in report["comparisons"]}
    assert set(rows) == {"rename", "loop", "mutant-operator"}
    ren = rows["rename"]
    assert (ren["pairs"], ren["unpaired"], ren["behaviour"]) == (4, 1, "same")
    assert ren["acc_original"] == 0.75 and ren["acc_variant"] == 0.5 and ren["diff"] == pytest.approx(-0.25)
    assert (ren["mcnemar"]["only_a"], ren["mcnemar"]["only_b"]) == (1, 0)
    assert "memory" not in ren and rows["loop"]["pairs"] == 2
    mut = rows["mutant-operator"]
    assert mut["behaviour"] == "changed" and mut["acc_variant"] == 0.25
    assert mut["memory"]["original_output"] == 2 and mut["memory"]["share"] == 0.5
    [robust] = report["robust"]
    # a: right on original, rename, loop; b: wrong on rename; c: wrong on the original; d: right (rename only)
    assert robust["items"] == 4 and robust["acc_original"] == 0.75 and robust["robust_accuracy"] == 0.5


def test_no_variant_samples_no_section():
    assert variant_report([_s("a", True), _s("b", False)]) is None


@pytest.mark.parametrize("answer,expected,same", [
    ("[1, 2]", "[1, 2]", True), ("(1, 2)", "[1, 2]", False), ("1.0", "1", False), ("'a'", '"a"', True),
    ("YES", "YES\n", True), ("YES", "NO\n", False), (None, "1", False), ("{1, 2}", "{2, 1}", True),
])  # fmt: skip
def test_answers_original_compares_values_as_the_value_judge(answer, expected, same):
    assert answers_original(answer, expected) is same


def test_variants_change_the_run_hash_only_when_given():
    base = RunConfig(benchmark="cruxeval", model="openai:m")
    assert "variants" not in base.identity()  # runs made before --variant keep their hash
    with_v = base.model_copy(update={"variants": ["rename"]})
    assert with_v.hash() != base.hash() and with_v.identity()["variants"] == ["rename"]
