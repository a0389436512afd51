"""Prompt templates: byte-exact to their published sources, rendered in one pass."""

from __future__ import annotations

import re

import pytest

from codemind.errors import UserError
from codemind.schema import Program, TestInput
from codemind.tasks.prompts import PROMPT_DIR, get_prompt, prompt_ids


def _source_block(text: str, heading: str, fence: str) -> str:
    start = text.index(fence + "text\n", text.index(heading)) + len(fence + "text\n")
    return text[start : text.index("\n" + fence + "\n", start) + 1]


@pytest.mark.parametrize(
    "file,heading",
    [
        ("ier/cruxeval-direct.txt", "### CRUXEval-O, direct"),
        ("ier/cruxeval-cot.txt", "### CRUXEval-O, CoT"),
        ("input/cruxeval-direct.txt", "### CRUXEval-I, direct"),
        ("input/cruxeval-cot.txt", "### CRUXEval-I, CoT"),
    ],
)
def test_cruxeval_templates_are_byte_exact(data_dir, file, heading):
    source = (data_dir / "cruxeval" / "SOURCE.md").read_text()
    assert (PROMPT_DIR / file).read_text() == _source_block(source, heading, "````")


def test_cot_input_template_keeps_trailing_spaces():
    text = (PROMPT_DIR / "input/cruxeval-cot.txt").read_text()
    assert "We know that f(??) == 17. \n" in text
    assert "should be 16. \n" in text


@pytest.mark.parametrize(
    "file,heading,input_ph",
    [
        ("ier/codemind-python-cruxeval.txt", "## IER (paper-era) GPT.GPT_Python_CruxEval", "{call}"),
        ("ier/codemind-python-function.txt", "## IER (paper-era) GPT.GPT_Python_MBPP", "{call}"),
        ("ier/codemind-python-stdin.txt", "## IER (paper-era) GPT.GPT_Python_CodeNet", "{stdin}"),
        ("ier/codemind-java-stdin.txt", "## IER (paper-era) GPT.GPT_Java_CodeNet", "{stdin}"),
        # the latest paper's (repository HEAD, gpt-4-turbo) prompts mark the code and input <CODE>, <INPUT>
        ("ier/codemind-latest-python-function.txt", "## IER (HEAD) model=gpt-4-turbo dataset=humaneval", "{call}"),
        ("ier/codemind-latest-python-cruxeval.txt", "## IER (HEAD) model=gpt-4-turbo dataset=cruxeval", "{call}"),
        ("ier/codemind-latest-python-stdin.txt", "## IER (HEAD) model=gpt-4-turbo dataset=Avatar", "{stdin}"),
    ],
)
def test_codemind_templates_match_verbatim_prompts(data_dir, file, heading, input_ph):
    source = (data_dir / "codemind" / "prompts_verbatim.md").read_text()
    original = _source_block(source, heading, "```")
    code, inp = ("<CODE>", "<INPUT>") if "(HEAD)" in heading else ("CODE_PLACEHOLDER", "INPUT_PLACEHOLDER")
    ours = (PROMPT_DIR / file).read_text()
    assert ours.replace("{code}", code).replace(input_ph, inp) == original


def _program(entry="f", benchmark="cruxeval", source="def f(x):\n    return x"):
    return Program(id="p", benchmark=benchmark, language="python", kind="function", source=source,
                   entry_point=entry, inputs=[TestInput(call=f"{entry}(1)")])


def test_render_cruxeval_direct_matches_upstream_format():
    spec = get_prompt("ier", "cruxeval-direct")
    prompt = spec.template_for(_program()).render({"code": "def f(x):\n    return x", "input": "1"})
    assert prompt.text.endswith("[PYTHON]\ndef f(x):\n    return x\nassert f(1) == ??\n[/PYTHON]\n[ANSWER]\n")
    assert prompt.stop == ["[/ANSWER]"]
    assert prompt.system.startswith("You are an expert at Python programming")


def test_render_is_single_pass():
    """Placeholder-like text inside inserted code is never substituted again."""
    code = 'def f(x):\n    return "{input} {code}"'
    prompt = get_prompt("ier", "cruxeval-direct").template_for(_program()).render({"code": code, "input": "'{code}'"})
    assert code in prompt.text
    assert "assert f('{code}') == ??" in prompt.text


def test_render_uses_the_program_entry_point():
    prog = _program(entry="add_one", benchmark="humaneval")
    text = get_prompt("ier", "cruxeval-direct").template_for(prog).render({"code": "X", "input": "2"},
                                                                           entry_point="add_one").text
    assert "assert add_one(2) == ??" in text
    assert "assert f(17) == 17" in text  # the few-shot examples stay as published


def test_codemind_prompt_picks_variant_by_benchmark():
    spec = get_prompt("ier", "codemind")
    assert spec.template_for(_program()).file == "ier/codemind-python-cruxeval.txt"
    assert spec.template_for(_program(benchmark="mbpp")).file == "ier/codemind-python-function.txt"
    latest = get_prompt("ier", "codemind-latest")
    assert latest.template_for(_program()).file == "ier/codemind-latest-python-cruxeval.txt"
    assert latest.template_for(_program(benchmark="classeval")).file == "ier/codemind-latest-python-function.txt"


def test_unknown_prompt_is_a_user_error():
    with pytest.raises(UserError, match="unknown prompt 'nope'.*cruxeval-direct"):
        get_prompt("ier", "nope")
    assert "cruxeval-cot" in prompt_ids("input")


def test_missing_placeholder_value_is_a_user_error():
    with pytest.raises(UserError, match="needs"):
        get_prompt("input", "cruxeval-direct").template_for(_program()).render({"code": "x"})


def test_every_template_has_only_known_placeholders():
    for f in PROMPT_DIR.rglob("*.txt"):
        names = set(re.findall(r"\{(code|input|call|output|stdin|spec|test)\}", f.read_text()))
        assert names, f
