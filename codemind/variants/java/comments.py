"""Misleading comments: ``//`` lines before seeded statements and a ``/** ... */`` javadoc
before methods that have none (texts in comments_line.txt and comments_doc.txt, written to
suggest something other than what the code does)."""

from __future__ import annotations

import random

from codemind.variants.base import NotApplicable, Target
from codemind.variants.java.dead_code import positions
from codemind.variants.java.edit import Edit, Program, lines


def _has_doc(method) -> bool:
    prev = method.prev_sibling
    return prev is not None and prev.type == "block_comment" and prev.text.startswith(b"/**")


def mislead(target: Target, rng: random.Random) -> str:
    """Up to three line comments and a javadoc on up to two undocumented methods."""
    prog = Program(target)
    line_texts, doc_texts = lines("comments_line.txt"), lines("comments_doc.txt")
    edits = []
    spots = positions(prog)
    for s in rng.sample(spots, min(len(spots), rng.randint(1, 3))):
        edits.append(Edit(s.start_byte, s.start_byte, f"// {rng.choice(line_texts)}\n{prog.indent_of(s)}"))
    methods = [m for m in prog.nodes("method_declaration") if not _has_doc(m)]
    for m in rng.sample(methods, min(len(methods), 2)):
        edits.append(Edit(m.start_byte, m.start_byte, f"/** {rng.choice(doc_texts)} */\n{prog.indent_of(m)}"))
    if not edits:
        raise NotApplicable("no statement or method to comment")
    return prog.apply(edits)
