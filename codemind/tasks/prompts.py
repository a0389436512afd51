"""Prompt templates kept as data files (prompts/index.toml + one .txt per template).

Templates are byte-exact copies of their published sources. Rendering fills the
placeholders {code} {input} {call} {output} {stdin} {spec} {test} {method} {line}
{variable} in one regex pass, so text inside the inserted program can never be substituted again.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from codemind.errors import UserError
from codemind.schema import Program, Prompt

PROMPT_DIR = Path(__file__).parent / "prompts"
_PLACEHOLDER = re.compile(r"\{(code|input|call|output|stdin|spec|test|method|line|variable)\}")
# CRUXEval templates write the queried call as f(...): for a program whose entry point has
# another name the query is rendered with the program's own name.
_F_CALLS = ("f({input})", "f(??)")


@dataclass(frozen=True)
class Template:
    task: str
    id: str
    file: str
    text: str
    sha256: str
    extractor: str
    system: str | None = None
    stop: tuple[str, ...] = ()
    max_tokens: int | None = None

    def render(self, values: dict[str, str], entry_point: str | None = None, system: bool = True) -> Prompt:
        text = self.text
        if entry_point and entry_point != "f":
            for call in _F_CALLS:
                text = text.replace(call, entry_point + call[1:])
        missing = {m for m in _PLACEHOLDER.findall(text) if m not in values}
        if missing:
            raise UserError(f"prompt '{self.id}' needs {sorted(missing)}, which this program does not have")
        rendered = _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)
        return Prompt(id=self.id, hash=self.sha256, text=rendered, system=self.system if system else None,
                      stop=list(self.stop))


@dataclass(frozen=True)
class PromptSpec:
    task: str
    id: str
    extractor: str
    variants: tuple[dict, ...] = ()

    def template_for(self, program: Program) -> Template:
        for v in self.variants:
            if all(v.get(k) in (None, getattr(program, k)) for k in ("benchmark", "language", "kind")):
                return _template(self.task, self.id, v["file"], v.get("extractor"))
        raise UserError(
            f"prompt '{self.id}' has no template for {program.language} {program.kind} programs of {program.benchmark}"
        )



@cache
def _index() -> dict:
    return tomllib.loads((PROMPT_DIR / "index.toml").read_text())


def prompt_ids(task: str) -> list[str]:
    return sorted(_index().get(task, {}))


def get_prompt(task: str, prompt_id: str) -> PromptSpec:
    entry = _index().get(task, {}).get(prompt_id)
    if entry is None:
        raise UserError(f"unknown prompt '{prompt_id}' for task {task} (known: {', '.join(prompt_ids(task)) or 'none'})")
    if "variants" in entry:
        variants = tuple(entry["variants"])
    else:
        variants = tuple(
            {"file": entry["file"], "language": lang, "kind": kind}
            for lang in entry.get("languages", [None])
            for kind in entry.get("kinds", [None])
        )
    return PromptSpec(task=task, id=prompt_id, extractor=entry["extractor"], variants=variants)


@cache
def _template(task: str, prompt_id: str, file: str, extractor: str | None = None) -> Template:
    """Templates are immutable package data: read and hash each file once. A variant may name
    its own extractor (Java code answers: java-code)."""
    meta = _index()[task][prompt_id]
    data = (PROMPT_DIR / file).read_bytes()
    return Template(
        task=task,
        id=prompt_id,
        file=file,
        text=data.decode("utf-8"),
        sha256=hashlib.sha256(data).hexdigest(),
        extractor=extractor or meta["extractor"],
        system=meta.get("system"),
        stop=tuple(meta.get("stop", ())),
        max_tokens=meta.get("max_tokens"),
    )
