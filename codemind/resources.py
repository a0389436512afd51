"""Files shipped inside the package and read as text: the programs the sandbox runs for the
harness (Java compile/run scripts, the test harness, the value judge's prelude), source
templates (HumanEval-X's Java Main), the Dockerfile step and the report's style sheet.

Code lives in such files, never in Python strings, and is read with importlib.resources so an
installed wheel finds it (pyproject.toml's package-data lists every one). Read byte for byte
(no newline translation): several of them are part of an execution-cache key or the sandbox
identity, which must not change unless the file does.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def text(package: str, path: str) -> str:
    """The UTF-8 text of ``path`` (slash-separated, relative to ``package``'s folder)."""
    node = files(package)
    for part in path.split("/"):
        node = node / part
    return node.read_bytes().decode("utf-8")
