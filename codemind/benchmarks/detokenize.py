"""Undo AVATAR's SentencePiece tokenisation of string literals, only where it is exact.

CodeMind's paper-era Avatar programs were taken from AVATAR's tokenised corpus. Code tokens
are separated by spaces (``input ( ) . split ( )``), which changes nothing a program does,
but string literals were tokenised too: ``'No solution'`` became ``' No ▁ solution '`` (one
padding space inside each quote, tokens separated by spaces, an original space written as
``▁``, U+2581). Such a program prints something else than the original did.

The inverse is only certain where the file shows the tokeniser's mark, so the rule is:

1. ``▁`` never occurs in real source, so a padded literal (content starts and ends with one
   space) that contains ``▁`` went through the tokeniser: drop the two padding spaces,
   delete the separating spaces, turn each ``▁`` into a space (``" ▁ "`` -> ``" "``).
2. Such a literal makes the file *string-tokenised*: every other padded literal in the same
   file is an artefact too and is rewritten the same way (``' , . ? ! '`` -> ``',.?!'``).
3. An unpadded literal that contains ``▁`` but no space (``'▁'``) gets ``▁`` -> space.
4. Python only: a string prefix split from its literal (``f "{i}"``, a syntax error in any
   context) is joined back (``f"{i}"``); this holds with or without ``▁``.
5. Anything that cannot be inverted uniquely leaves the *whole file* unchanged, with a
   reason: a padded literal with two spaces in a row (an empty token), an unpadded literal
   holding both ``▁`` and a space, a ``▁`` outside any literal, or source that cannot be
   lexed.

Apart from rule 4, files without ``▁`` are never touched (``' YES '`` in such a file might be a tokenised
``'YES'``, or not: that is reported as label noise by ground truth, not guessed here).
Code outside literals is never changed.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

MARK = "\u2581"  # SentencePiece's space marker


@dataclass(frozen=True)
class Detokenized:
    source: str  # the rewritten source, or the original when not changed
    changed: bool
    literals: int  # edits made: literals rewritten plus string prefixes joined
    reason: str | None = None  # why a file holding ▁ was left unchanged


# ---------------------------------------------------------------- literal lexing


@dataclass(frozen=True)
class _Literal:
    start: int  # offset of the first content character
    end: int  # offset just past the last content character
    content: str


_PREFIXES = {"f", "r", "b", "u", "rb", "br", "fr", "rf"}


def _split_prefixes(source: str) -> list[tuple[int, int]]:
    """(start, end) of the blanks between a string prefix NAME and the literal right after it
    on the same line (``f "x"``): never valid Python, so joining them is exact."""
    line_starts = [0]
    for line in source.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))
    out, prev = [], None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if (tok.type == tokenize.STRING and prev is not None and prev.type == tokenize.NAME
                    and prev.string.lower() in _PREFIXES and prev.end[0] == tok.start[0]
                    and tok.start[1] > prev.end[1]):  # fmt: skip
                row = line_starts[tok.start[0] - 1]
                if not source[row + prev.end[1] : row + tok.start[1]].strip():
                    out.append((row + prev.end[1], row + tok.start[1]))
            if tok.type not in (tokenize.NL, tokenize.COMMENT):
                prev = tok
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []
    return out


def _python_literals(source: str) -> list[_Literal] | None:
    """Content spans of the string literals of a Python file (f-strings included); None
    when the file cannot be tokenised."""
    line_starts = [0]
    for line in source.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type != tokenize.STRING:
                continue
            begin = line_starts[tok.start[0] - 1] + tok.start[1]
            text = tok.string
            i = 0
            while text[i] not in "'\"":
                i += 1  # string prefix (r, b, f, u...)
            quote = text[i : i + 3] if text[i : i + 3] in ('"""', "'''") else text[i]
            if quote in ('"""', "'''"):
                continue  # docstrings and block strings: never tokenised by AVATAR
            s, e = begin + i + len(quote), begin + len(text) - len(quote)
            out.append(_Literal(s, e, source[s:e]))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    return out


_JAVA_LEXEME = re.compile(r"//[^\n]*|/\*.*?\*/|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'", re.S)


def _java_literals(source: str) -> list[_Literal]:
    out = []
    for m in _JAVA_LEXEME.finditer(source):
        if m.group(0)[0] in "\"'":
            out.append(_Literal(m.start() + 1, m.end() - 1, m.group(0)[1:-1]))
    return out


# ---------------------------------------------------------------- the rule


def _padded(content: str) -> bool:
    return len(content) >= 3 and content[0] == " " and content[-1] == " "


def _untokenise(content: str) -> str | None:
    """Inverse of the literal tokeniser for one padded literal; None if ambiguous."""
    tokens = content[1:-1].split(" ")
    if any(t == "" for t in tokens):
        return None
    return "".join(tokens).replace(MARK, " ")


def detokenize(source: str, language: str) -> Detokenized:
    """Apply the module's rule to one program (language "python" or "java")."""
    joins = _split_prefixes(source) if language == "python" else []
    if joins:
        for start, end in reversed(joins):
            source = source[:start] + source[end:]
        inner = detokenize(source, language)
        return Detokenized(inner.source, True, inner.literals + len(joins), inner.reason)
    if MARK not in source:
        return Detokenized(source, False, 0)
    literals = _python_literals(source) if language == "python" else _java_literals(source)
    if literals is None:
        return Detokenized(source, False, 0, "source cannot be lexed")
    inside = sum(lit.content.count(MARK) for lit in literals)
    if inside != source.count(MARK):
        return Detokenized(source, False, 0, f"{MARK} outside string literals")
    tokenised_file = any(_padded(lit.content) and MARK in lit.content for lit in literals)
    edits: list[tuple[_Literal, str]] = []
    for lit in literals:
        if _padded(lit.content) and (tokenised_file or MARK in lit.content):
            new = _untokenise(lit.content)
            if new is None:
                return Detokenized(source, False, 0, f"ambiguous literal {lit.content!r}")
        elif MARK in lit.content:
            if " " in lit.content:
                return Detokenized(source, False, 0, f"ambiguous literal {lit.content!r}")
            new = lit.content.replace(MARK, " ")
        else:
            continue
        if new != lit.content:
            edits.append((lit, new))
    parts, pos = [], 0
    for lit, new in edits:
        parts += [source[pos : lit.start], new]
        pos = lit.end
    parts.append(source[pos:])
    return Detokenized("".join(parts), bool(edits), len(edits))
