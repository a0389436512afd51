"""Answer extraction: the exact CRUXEval/CodeMind parses and the lenient chat variants."""

from __future__ import annotations

import collections
import gzip
import json
import os
from pathlib import Path

import pytest

from codemind.errors import UserError
from codemind.tasks.extract import EXACT, EXTRACTORS, extract, get_extractor

DATA = Path(os.environ.get("CODEMIND_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def ex(name: str, text: str) -> str | None:
    return EXTRACTORS[name](text)


# ---------------------------------------------------------------- exact CRUXEval (SOURCE.md §4)


def test_output_direct_completion_path():
    assert ex("cruxeval-output-direct", "assert f(17) == 17\n") == "17"
    # anything after a second == is dropped, as upstream
    assert ex("cruxeval-output-direct", "assert f(1) == 2 == 3") == "2"
    # no == at all: the text itself
    assert ex("cruxeval-output-direct", "  'abc'  ") == "'abc'"


def test_output_cot_takes_text_after_answer_tag():
    text = "[THOUGHT] s becomes 'hihi' [/THOUGHT]\n[ANSWER]\nassert f(\"hi\") == \"bhihia\"\n"
    assert ex("cruxeval-output-cot", text) == '"bhihia"'


def test_cot_without_answer_tag_hf_vs_openai():
    text = "Let's think.\nThe function returns 5, so f(3) == 5\nDone: 5"
    # HF path: the == split is applied to the whole text
    assert ex("cruxeval-output-cot", text) == "5\nDone: 5"
    # OpenAI path: last line only, no == split
    assert ex("cruxeval-output-cot-openai", text) == "Done: 5"
    assert ex("cruxeval-input-cot-openai", "reasoning\nf(3) == 5") == "f(3) == 5"


def test_chat_reply_is_cut_at_end_tag_like_the_stop_word():
    text = "[ANSWER]\nassert f(1) == 2\n[/ANSWER]\nI hope this == helps"
    assert ex("cruxeval-output-cot", text) == "2"
    assert ex("cruxeval-input-cot", text) == "f(1)"


def test_input_rules_head_and_2024_01():
    assert ex("cruxeval-input-direct", 'assert f("ba", "nana") == "banana"\n') == 'f("ba", "nana")'
    # HEAD keeps everything from "assert f"; the old rule splits on the first "assert"
    text = "assert f('assert x') == 'y'"
    assert ex("cruxeval-input-direct", text) == "f('assert x')"
    assert ex("cruxeval-input-direct-2024-01", text) == "f('"


@pytest.mark.parametrize("name", sorted(EXTRACTORS))
def test_empty_text_is_no_answer(name):
    assert ex(name, "") is None
    assert ex(name, "   \n ") is None
    assert extract(name, None) is None


def test_unknown_extractor_is_a_user_error():
    with pytest.raises(UserError):
        get_extractor("nope")


# ---------------------------------------------------------------- lenient (chat models)


@pytest.mark.parametrize(
    "text,output,inp",
    [
        ("Sure! Here is the completed assertion:\n[ANSWER]\nassert f('x==y') == 'x==y!'\n[/ANSWER]\nLet me know!",
         "'x==y!'", "f('x==y')"),
        ("```python\nassert f([1, 2]) == [2,\n 1]\n```", "[2,\n 1]", "f([1, 2])"),
        ("[ANSWER]\n```python\nassert f(3) == 9\n```\n[/ANSWER]", "9", "f(3)"),
        ("[ANSWER]\nassert f(3) == 9", "9", "f(3)"),  # closing tag missing
        ("The output is:\nassert f(3) == 9\nThis is because 3 * 3 is 9.", "9", "f(3)"),
        ("assert f(3) == 9 # done", "9", "f(3)"),
        ("[ANSWER]first[/ANSWER] no wait [ANSWER]assert f(2) == 4[/ANSWER]", "4", "f(2)"),
    ],
)
def test_lenient_chat_replies(text, output, inp):
    assert ex("cruxeval-output-lenient", text) == output
    assert ex("cruxeval-input-lenient", text) == inp


def test_lenient_keeps_only_the_parsable_head_of_a_bare_answer():
    assert ex("cruxeval-output-lenient", "[ANSWER]\n17\nbecause the loop adds 1\n[/ANSWER]") == "17"
    # no tags, fence or assert: the last non-empty line (the OpenAI path's convention)
    assert ex("cruxeval-output-lenient", "Let me think step by step.\n'abc'\n") == "'abc'"


def test_exact_names_are_documented():
    assert "cruxeval-output-direct" in EXACT and "codemind" in EXACT
    assert not any("lenient" in n for n in EXACT)


# ---------------------------------------------------------------- CodeMind


def test_codemind_parse():
    raw = "Step 1 ...\n<<<Output>>>\n[1, 2]\n[END-OF-RESPONSE]\nextra"
    assert ex("codemind", raw) == "\n[1, 2]\n"
    assert ex("codemind", "no markers at all") == "no markers at all"
    magic = "@@ Instruction\n<<<Output>>>\nexample\n[END-OF-RESPONSE]\n@@ Response\nthinking\n<<<Output>>>\n7\n[END-OF-RESPONSE]"
    assert ex("codemind", magic) == "\n7\n"
    assert ex("codemind-lenient", "<<<Output>>>\n```\n7\n```\n[END-OF-RESPONSE]") == "7"


def test_codemind_reproduces_every_authors_parse():
    """Every predict.txt of the recorded generations equals our parse of its scored raw file
    (the two documented exceptions come from different runs)."""
    files = sorted((DATA / "codemind" / "generations").glob("*.jsonl.gz"))
    if not files:
        pytest.skip(f"no CodeMind generations under {DATA}")
    mismatches, total = [], 0
    for f in files:
        by = collections.defaultdict(list)
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                by[row["item_id"]].append(row)
        for item_id, rows in by.items():
            parsed = [r for r in rows if r["kind"] == "authors_parsed"][0]["raw"]
            scored = [r for r in rows if r["kind"] == "raw" and r["scored_run"]]
            if not scored:
                continue
            total += 1
            if ex("codemind", scored[0]["raw"]) != parsed:
                mismatches.append((f.name, item_id))
    assert total > 15000
    assert sorted(mismatches) == [("gpt-3.5__mbpp.jsonl.gz", "131"), ("magicoder__avatar-python.jsonl.gz", "codeforces_379_A")]


def test_exact_output_extractors_are_idempotent_on_published_answers():
    """Re-extracting CRUXEval's stored (already extracted) answers with the direct rules
    changes nothing for the HF files; 'verbatim' is the safe choice for replay anyway."""
    path = DATA / "cruxeval" / "evaluation_results" / "codellama-7b_temp0.2_output.json"
    if not path.is_file():
        pytest.skip("no CRUXEval result files")
    gens = json.loads(path.read_text())["raw_generations"]
    for gs in gens.values():
        for g in gs:
            if g.strip():
                assert ex("cruxeval-output-direct", g) == g.strip()
                assert ex("verbatim", g) == g
