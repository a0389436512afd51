"""``--benchmark file:PATH``: a researcher's own programs, one JSON object a line (JSONL).

    {"id": "add", "language": "python", "kind": "function", "source": "def add(a, b):\\n    return a + b\\n",
     "entry_point": "add", "inputs": [{"call": "add(1, 2)", "label": "3"}],
     "spec": "Return the sum of a and b.", "tests": ["assert add(1, 2) == 3"]}

Fields (anything else is an error naming the field, so a typo such as ``entrypoint`` or
``spce`` is not silently dropped; free-form data of your own goes in ``meta``):

- ``id`` (string, unique in the file), ``language`` (``python`` | ``java``), ``kind``
  (``function`` | ``stdin``), ``source`` (the whole program).
- ``entry_point``: function programs only, and required there: the function (Python) or method
  (Java) the calls call.
- ``inputs`` (at least one): ``{"call": "add(1, 2)"}`` for function programs, ``{"stdin": "1 2\\n"}``
  for stdin programs, each with an optional ``label``, a string: what the program returns (the
  Python literal of the value, ``"[1, 2]"``, ``"'abc'"``) or prints (stdout text). Labels are
  compared with the executed output, never trusted: a wrong one is ``label_mismatch`` and the
  question is asked about the executed output.
- ``spec`` and ``tests`` (optional): what DER and SR need, for Python function programs: the
  problem statement shown to the model, and Python test code appended to the model's code to
  judge it (asserts; a list of strings is joined one a line), as MBPP's ``test_list``.
- ``meta`` (optional object): kept in the program's meta as ``file_meta``.

How each kind is built, in the shape of the built-in benchmarks:

- Python function programs are like HumanEval/MBPP ones: the sandbox runs ``source`` and
  evaluates the call; the answer is the returned value (``value`` judge).
- Python and Java stdin programs are like CodeNet's: the input is fed on stdin; the answer is
  what it prints (``stdout``). Java: the class with ``main`` is run (``public class Main`` as
  CodeNet, or any name).
- Java function programs are like HumanEval-X Java: Java has no REPL, so the adapter appends a
  ``Main`` that prints the call's value with ``System.out.println`` (arrays through
  ``java.util.Arrays.toString``/``deepToString``), and the program becomes a stdin program
  whose answer is what that prints; a label is that printed text (``"3"``, ``"true"``,
  ``"[1, 2]"``). A call is written as in Python, ``add(1, 2)``: each bare call of the entry
  point is qualified with its class (``Solution.add(...)`` for a static method, else ``s.add(...)``
  on ``Solution s = new Solution();``); anything else is printed as written (``new Box(2).get()``).
  With several inputs Main reads which call to print from stdin (``0``, ``1``, ...).

Selection follows the command line: ``--language`` picks the file's programs of that language
(a file may mix both; one with none of them is an error), and ``--inputs first`` (the default
of ``codemind run``) asks about each program's first input, ``--inputs all`` about every one.
Every line is checked whatever the language asked for, and the first problem is one error
naming the file, line number and field. The run manifest records the file's sha256, and the
run's configuration hash covers it, so an edited file never resumes an old run.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codemind.benchmarks.asserts import input_mode, top_level_names
from codemind.benchmarks.base import Benchmark
from codemind.benchmarks.datafiles import sha256_file
from codemind.benchmarks.java_main import java_main as java_main_text
from codemind.benchmarks.stdin_common import stdin_program
from codemind.errors import UserError
from codemind.schema import Program, TestInput


class LineInput(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    call: str | None = None
    stdin: str | None = None
    label: str | None = None


class Line(BaseModel):
    """One line of a programs file (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(min_length=1)
    language: Literal["python", "java"]
    kind: Literal["function", "stdin"]
    source: str = Field(min_length=1)
    entry_point: str | None = None
    inputs: list[LineInput] = Field(min_length=1)
    spec: str | None = None
    tests: str | list[str] | None = None
    meta: dict[str, Any] | None = None


HINTS = {
    "label": "what the program returns, as a Python literal (\"3\", \"[1, 2]\", \"'abc'\"), or the text it prints",
    "id": "write a number as \"7\"",
}


class LineError(Exception):
    """A problem with one field of a line: (field path, message)."""

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


# ---------------------------------------------------------------- reading the file


def _where(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _pydantic_problem(e: ValidationError) -> LineError:
    """The first error of a line as (field, message), in words a researcher can act on."""
    err = e.errors()[0]
    loc = tuple(err["loc"])
    if loc[:1] == ("tests",):  # drop the union branch pydantic names (tests.str, tests.list[str][0])
        loc = ("tests",)
    kind, field = err["type"], _where(loc)
    if kind == "missing":
        return LineError(field, "missing (required)")
    if kind == "extra_forbidden":
        allowed = ", ".join(LineInput.model_fields if len(loc) > 1 and loc[0] == "inputs" else Line.model_fields)
        return LineError(field, f"unknown field (allowed: {allowed}; data of your own goes in the program's 'meta')")
    if kind == "literal_error":
        return LineError(field, "must be " + err["msg"].removeprefix("Input should be "))
    if field == "tests" and kind in ("string_type", "list_type"):
        return LineError(field, "must be a string or a list of strings (Python test code)")
    if kind == "string_type":
        hint = HINTS.get(str(loc[-1]), "")
        return LineError(field, "must be a string" + (f" ({hint})" if hint else ""))
    if kind in ("too_short", "string_too_short"):
        return LineError(field, "must not be empty" if kind == "string_too_short" else "must have at least one entry")
    if kind in ("list_type", "dict_type", "model_type"):
        what = {"list_type": "a list", "dict_type": "an object", "model_type": "an object"}[kind]
        return LineError(field, f"must be {what}")
    return LineError(field, err["msg"])


def _decode(raw: bytes, shown: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        column = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise UserError(f"{shown} line {line}: not UTF-8 (byte 0x{raw[e.start]:02x} at column {column}); "
                        "save the file as UTF-8") from None


def read_lines(path: Path, shown: str) -> list[tuple[int, Line]]:
    """Every line of the file, validated: (line number, Line). One UserError for the first problem."""
    if not path.exists():
        raise UserError(f"{shown}: no such file")
    if not path.is_file():
        raise UserError(f"{shown}: not a file")
    text = _decode(path.read_bytes(), shown)
    out: list[tuple[int, Line]] = []
    seen: dict[str, int] = {}
    # split on newlines only: str.splitlines() would also split inside JSON strings holding U+2028 etc.
    for n, raw in enumerate(text.split("\n"), start=1):
        raw = raw.removesuffix("\r")
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as e:
            raise UserError(f"{shown} line {n}: invalid JSON: {e.msg} (column {e.colno})") from None
        if not isinstance(obj, dict):
            raise UserError(f"{shown} line {n}: expected a JSON object (one program), got {_json_kind(obj)}")
        try:
            line = Line.model_validate(obj)
            check(line)
        except ValidationError as e:
            raise _line_error(shown, n, _pydantic_problem(e)) from None
        except LineError as e:
            raise _line_error(shown, n, e) from None
        if line.id in seen:
            raise _line_error(shown, n, LineError("id", f"'{line.id}' is already the id of line {seen[line.id]}"))
        seen[line.id] = n
        out.append((n, line))
    if not out:
        raise UserError(f"{shown}: no programs (the file is empty; one JSON object a line)")
    return out


def _line_error(shown: str, n: int, e: LineError) -> UserError:
    return UserError(f"{shown} line {n}: " + (f"field '{e.field}': " if e.field else "") + e.message)


def _json_kind(obj: Any) -> str:
    return {list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(type(obj), "a number")


# ---------------------------------------------------------------- what fields must agree


_JAVA_NAME = re.compile(r"[A-Za-z_$][\w$]*\Z")


def check(line: Line) -> None:
    """What one field cannot say alone: kinds, inputs and entry points that fit together."""
    if line.kind == "function":
        if line.entry_point is None:
            raise LineError("entry_point", "missing: a function program needs the name of the function its calls call")
        valid = line.entry_point.isidentifier() if line.language == "python" else _JAVA_NAME.match(line.entry_point)
        if not valid:
            raise LineError("entry_point", f"'{line.entry_point}' is not a {line.language} name")
    elif line.entry_point is not None:
        raise LineError("entry_point", "stdin programs have none (they read stdin and print); "
                                       "for a function program give kind 'function'")
    want, other = ("call", "stdin") if line.kind == "function" else ("stdin", "call")
    for k, inp in enumerate(line.inputs):
        if getattr(inp, other) is not None:
            raise LineError(f"inputs[{k}].{other}", f"a {line.kind} program's inputs give '{want}', not '{other}'")
        if getattr(inp, want) is None:
            raise LineError(f"inputs[{k}]", f"missing '{want}' (a {line.kind} program's inputs give '{want}')")
    if line.kind == "function" and line.language == "python":
        for k, inp in enumerate(line.inputs):
            try:
                ast.parse(inp.call or "", mode="eval")
            except SyntaxError as e:
                raise LineError(f"inputs[{k}].call", f"not a Python expression ({e.msg})") from None
        names = top_level_names(line.source)
        if names and line.entry_point not in names:  # empty: the source does not parse; ground truth says why
            raise LineError("entry_point", f"'{line.entry_point}' is not defined at the top level of source")
        if line.tests is not None:
            try:
                ast.parse(tests_text(line.tests))
            except SyntaxError as e:
                raise LineError("tests", f"not valid Python (line {e.lineno}: {e.msg})") from None
    if line.kind == "function" and line.language == "java":
        java_target(line.source, line.entry_point or "")


def tests_text(tests: str | list[str]) -> str:
    text = tests if isinstance(tests, str) else "\n".join(tests)
    return text.rstrip("\n") + "\n"


# ---------------------------------------------------------------- Java function programs


def _java_blank(source: str) -> str:
    from codemind.sandbox.java import _COMMENT_OR_STRING, _blank

    return _COMMENT_OR_STRING.sub(_blank, source)


def _top_level_bodies(code: str) -> list[tuple[str, bool, int, int]]:
    """(name, is_public, body start, body end) of each top-level type of blanked Java code."""
    from codemind.sandbox.java import _TYPE_DECL

    out, depth, current, decls, di = [], 0, None, list(_TYPE_DECL.finditer(code)), 0
    for i, ch in enumerate(code):
        while di < len(decls) and decls[di].start() <= i:
            m, di = decls[di], di + 1
            if depth == 0 and current is None:
                current = [m.group(3), "public" in m.group(1).split(), None]
        if ch == "{":
            depth += 1
            if depth == 1 and current is not None and current[2] is None:
                current[2] = i + 1
        elif ch == "}":
            depth -= 1
            if depth == 0 and current is not None and current[2] is not None:
                out.append((current[0], current[1], current[2], i))
                current = None
    return out


def _outer_level(body: str) -> str:
    """The body with everything nested deeper than its members blanked (braces kept)."""
    out, depth = [], 0
    for ch in body:
        if ch == "}":
            depth -= 1
        out.append(ch if depth == 0 or ch in "{}\n" else " ")
        if ch == "{":
            depth += 1
    return "".join(out)


_MODIFIERS = {"public", "protected", "private", "static", "final", "synchronized", "abstract", "native", "strictfp",
              "default", "new", "return", "throw", "else"}


def java_target(source: str, method: str) -> tuple[str, bool, str, bool]:
    """(class, is_static, return type, source has a public top-level type) of the method the
    calls of a Java function program call; LineError where it cannot be one."""
    code = _java_blank(source)
    types = _top_level_bodies(code)
    if not types:
        raise LineError("source", "no top-level class: a Java function program is a class with the entry point method")
    from codemind.sandbox.java import _MAIN

    for name, _, start, end in types:
        if name == "Main" or _MAIN.search(code[start:end]):
            raise LineError("source", "a Java function program must not declare class Main or a main method: the "
                                      "adapter writes the Main that prints each call (use kind 'stdin' for a program "
                                      "with its own main)")
    decl = re.compile(r"(?:^|(?<=[;{}]))\s*(?:@[\w.]+(?:\s*\([^;{}]*?\))?\s*)*((?:\w+\s+)*?)(?:<[^;{}()]*>\s*)?"
                      r"([\w$.]+(?:\s*<[^;{}()]*>)?(?:\s*\[\s*\])*)\s+" + re.escape(method) + r"\s*\(")
    for name, _, start, end in types:
        for m in decl.finditer(_outer_level(code[start:end])):
            modifiers, rtype = m.group(1).split(), re.sub(r"\s+", "", m.group(2))
            if rtype in _MODIFIERS or any(w not in _MODIFIERS for w in modifiers):
                continue  # not a declaration (a call in a field initialiser, `new X(...)`, ...)
            if rtype == "void":
                raise LineError("entry_point", f"{name}.{method} returns void: nothing to print (give it a return "
                                               "value, or make the program kind 'stdin')")
            return name, "static" in modifiers, rtype, any(public for _, public, _, _ in types)
    raise LineError("entry_point", f"no method '{method}' declared in a top-level class of source")


_STRING_OR_CHAR = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'')


def qualify(call: str, method: str, receiver: str) -> str:
    """Each bare call of `method` in a Java expression (outside string and char literals)
    called on `receiver`: ``add(1, add(2, 3))`` -> ``s.add(1, s.add(2, 3))``."""
    code = _STRING_OR_CHAR.sub(lambda m: " " * len(m.group(0)), call)
    bare = re.compile(r"(?<![\w$.])" + re.escape(method) + r"(?=\s*\()")
    out, last = [], 0
    for m in bare.finditer(code):
        out += [call[last : m.start()], f"{receiver}.{method}"]
        last = m.end()
    return "".join(out) + call[last:]


def java_main(source: str, method: str, calls: list[str]) -> str:
    """The Main appended to a Java function program: prints one call, or the call whose number
    it reads from stdin (HumanEval-X's shape: java_main.py)."""
    cls, static, rtype, has_public = java_target(source, method)
    receiver = cls if static else "s"
    dims = rtype.count("[")
    printer = "{}" if dims == 0 else ("java.util.Arrays.toString({})" if dims == 1 else
                                      "java.util.Arrays.deepToString({})")
    return java_main_text([qualify(c.strip(), method, receiver) for c in calls], printer, cls=cls, static=static,
                          public=not has_public)


# ---------------------------------------------------------------- the benchmark


class ProgramsFile(Benchmark):
    name = "file"
    languages = ("python", "java")

    def __init__(self, data_dir=None, language="python", path: str = "", **options):
        super().__init__(data_dir, language, **options)
        if not path:
            raise UserError("benchmark file:PATH needs the path of a JSONL file of programs after 'file:'")
        self.path = Path(path).expanduser()
        self.shown = path
        self.name = f"file:{path}"  # as given on the command line: the run's --benchmark
        self.mode = input_mode(options)

    def content_digest(self) -> str | None:
        """The sha256 of the file load() read (the run's configuration hash covers it)."""
        return self._files.get(self.shown)

    def load(self) -> list[Program]:
        lines = read_lines(self.path, self.shown)
        self._files = {self.shown: sha256_file(self.path)}
        chosen = [(n, line) for n, line in lines if line.language == self.language]
        if not chosen:
            counts: dict[str, int] = {}
            for _, line in lines:
                counts[line.language] = counts.get(line.language, 0) + 1
            have = ", ".join(f"{c} {lang}" for lang, c in sorted(counts.items()))
            raise UserError(f"{self.shown} has no {self.language} programs ({have}; pass --language "
                            f"{min(counts)})")
        return [self._program(n, line) for n, line in chosen]

    def _program(self, n: int, line: Line) -> Program:
        inputs = line.inputs[:1] if self.mode == "first" else line.inputs
        meta: dict[str, Any] = {"origin": f"{self.shown} line {n}", "line": n}
        if line.spec is not None:
            meta["spec"] = line.spec
        if line.tests is not None:
            meta["tests"] = tests_text(line.tests)  # appended to a candidate solution, as MBPP's asserts
        if line.meta is not None:
            meta["file_meta"] = line.meta
        if line.kind == "stdin":
            return stdin_program(id=line.id, benchmark=self.name, language=line.language, source=line.source,
                                 tests=[(i.stdin or "", i.label) for i in inputs], meta=meta)
        if line.language == "python":
            return Program(
                id=line.id, benchmark=self.name, language="python", kind="function", source=line.source,
                entry_point=line.entry_point,
                inputs=[TestInput(index=k, call=i.call, label=i.label) for k, i in enumerate(inputs)], meta=meta,
            )  # fmt: skip
        # Java function: a stdin program whose generated Main prints the call (HumanEval-X's shape)
        calls = [i.call or "" for i in inputs]
        source = line.source.rstrip("\n") + "\n\n" + java_main(line.source, line.entry_point or "", calls)
        meta.update({"file_kind": "function", "entry_point": line.entry_point, "calls": calls})
        return Program(
            id=line.id, benchmark=self.name, language="java", kind="stdin", source=source, entry_point=None,
            inputs=[TestInput(index=k, stdin="" if len(calls) == 1 else f"{k}\n", label=i.label)
                    for k, i in enumerate(inputs)],
            meta=meta,
        )  # fmt: skip
