"""Lines of code, as DSR counts them (the authors use python_loc_counter's ``source_loc``).

A line counts when a token of code starts or continues on it: blank lines, comment-only lines
and docstrings are not counted. Decided here, by tokenizing (never by regex over text):

- a token of code is any token but COMMENT, NL, NEWLINE, INDENT, DEDENT, ENCODING, ENDMARKER;
- a multi-line token (a triple-quoted string) counts on every line it spans;
- a docstring is a statement that is only a string literal (``ast.Expr`` of a ``str``
  constant), wherever it stands: the first one of a module, class or function body, and any
  other bare string statement, since it does nothing either. Its tokens do not count; a line
  that also holds other code (``def f(): "doc"``) still counts for that code;
- a line continued with a backslash counts on each physical line that carries a token.

Code that does not tokenize or parse has no LoC (None): such an answer fails its tests anyway.

DSR compares `normalized_loc`: the count on the program as ``ast.unparse`` writes it (below).
"""

from __future__ import annotations

import ast
import io
import tokenize

_NOT_CODE = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
             tokenize.ENCODING, tokenize.ENDMARKER}


def _docstring_spans(tree: ast.AST) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    spans = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str) and node.end_lineno is not None):
            spans.append(((node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset or 0)))
    return spans


def code_lines(source: str) -> set[int] | None:
    """The 1-based line numbers that carry code, or None when the source does not parse."""
    try:
        tree = ast.parse(source)
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (SyntaxError, ValueError, RecursionError, MemoryError, tokenize.TokenError, IndentationError):
        return None
    spans = _docstring_spans(tree)
    lines: set[int] = set()
    for tok in tokens:
        if tok.type in _NOT_CODE:
            continue
        # col_offset in ast is in UTF-8 bytes, tokenize's in characters: compare by line when they
        # could differ, which only matters for a token on the docstring's own lines
        if any(_inside(tok.start, tok.end, s, e, tok.line) for s, e in spans):
            continue
        lines.update(range(tok.start[0], tok.end[0] + 1))
    return lines


def _inside(start, end, s, e, line: str) -> bool:
    if start[0] < s[0] or end[0] > e[0]:
        return False
    if start[0] == s[0] and _chars(line, s[1]) > start[1]:
        return False
    if end[0] == e[0] and end[1] > _chars(_last_line(line, end[0] - start[0]), e[1]):
        return False
    return True


def _chars(line: str, byte_offset: int) -> int:
    """A UTF-8 byte offset in `line` as a character offset."""
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def _last_line(text: str, index: int) -> str:
    parts = text.split("\n")
    return parts[index] if index < len(parts) else ""


def loc(source: str | None) -> int | None:
    """Lines of code of a Python source (see the module docstring), None if it does not parse."""
    if source is None:
        return None
    lines = code_lines(source)
    return None if lines is None else len(lines)


def normalized_loc(source: str | None) -> int | None:
    """Lines of code of the program as ``ast.unparse`` writes it: what DSR compares. The padded
    program is unparsed (tasks/padding.py), and the authors count every program, the model's
    answer included, on a cleaned copy (``cleaned_main.py``, ``cleaned_transformation.py``), so
    all three are counted after the same normalisation: a list written over ten lines is one
    line of code, comments and docstrings are not counted, whoever wrote the program."""
    if source is None:
        return None
    try:
        text = ast.unparse(ast.parse(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return loc(text + "\n")
