"""Code answers (DER/SR synthesis): pull the program out of a model's reply.

CodeMind's synthesis prompts ask for a ```python fenced block. We take the first fenced
block that defines something (else the first fenced block), an unterminated ```python
block up to the end, or, when there is no fence at all, the whole reply if it parses as
Python. Anything else is no answer.
"""

from __future__ import annotations

import ast
import re

_FENCED = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n(.*?)```", re.S)
_OPEN = re.compile(r"```[ \t]*(?:python|py|python3)[ \t]*\n(.*)\Z", re.S | re.I)


def _parses(src: str) -> bool:
    try:
        ast.parse(src)
    except (SyntaxError, ValueError):
        return False
    return True


def extract_code(text: str) -> str | None:
    if not text or not text.strip():
        return None
    blocks = [(lang.lower(), body) for lang, body in _FENCED.findall(text)]
    python = [b for lang, b in blocks if lang in ("python", "py", "python3", "")]
    for body in python or [b for _, b in blocks]:
        if re.search(r"^\s*(def|class|async def)\s", body, re.M):
            return body.strip("\n") + "\n"
    if python or blocks:
        return (python or [b for _, b in blocks])[0].strip("\n") + "\n"
    m = _OPEN.search(text)
    if m:
        return m.group(1).strip("\n") + "\n"
    return text.strip("\n") + "\n" if _parses(text) else None


_CODE_MARKERS = re.compile(r"\$CODE_START\$[ \t]*\n?(.*?)\$CODE_END\$", re.S)


def extract_marked_code(text: str) -> str | None:
    """DSR answers: the code between $CODE_START$ and $CODE_END$ (CodeMind's DSR prompts in their
    raw form; a ```python fence inside is unwrapped), else what extract_code finds (the GPT form of
    the prompts asks for a ```python fence)."""
    if text:
        m = _CODE_MARKERS.search(text)
        if m and m.group(1).strip():
            inner = m.group(1)
            return extract_code(inner) if "```" in inner else inner.strip("\n") + "\n"
    return extract_code(text)
