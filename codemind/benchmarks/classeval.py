"""ClassEval as CodeMind uses it (latest_2025-04/ClassEval): 400 method-level items.

Each folder ``ClassEval_<n>@<Class>.<method>`` holds ``main.py`` (the class, then a
``class Test(unittest.TestCase)`` whose ``test(self)`` returns the value of one call of the
method), ``input.txt`` (the literal text ``Test.test()``), ``output.txt`` (the value it is said
to return: a noisy label), ``asserts.txt`` (the method's unittest tests: ``TestCase`` subclasses
with ``self.assertEqual(...)`` and friends) and ``method_test.py`` (``test`` alone).

One Program per folder, ``kind="function"``, ``source`` = main.py byte for byte, one input:

- ``call = "Test().test()"``. input.txt's ``Test.test()`` calls an instance method on the
  class and fails (``test() missing 1 required positional argument: 'self'``); a TestCase can
  be built without a method name (``methodName`` defaults to ``runTest``, which unittest allows
  to be missing), so ``Test().test()`` is the call the dataset means, and its value is what IER
  asks for. ``entry_point`` is None: the call is not a call of one function by name, so prompts
  show the whole call (``{call}``), never CRUXEval's ``f(...)`` form.
- ``label`` = output.txt, compared with the executed repr (groundtruth.py); never trusted.
  output.txt holds ``str(value)`` (``Bob`` for ``'Bob'``): ``meta["label_form"] = "str"`` makes
  ground truth also accept a string value whose text is the label (whitespace runs collapsed).

``meta`` (kept stable: the SR task here and DSR on branch ``dsr`` read it):

- ``class_name``: the class under test (``AccessGatewayFilter``);
- ``method``: the method the item is about (``filter``);
- ``tests``: asserts.txt, the method's unittest tests as published (TestCase subclasses);
  judges/testchecks.py splits them into checks (judges/unittest_checks.py);
- ``test_setup``: main.py's import lines, plus ``import os`` (``stat``, ``shutil``... see
  TEST_MODULES) where the tests use such a module without importing it (ClassEval's own test
  files imported them); run before model-written code when it is tested;
- ``class_source``: main.py without ``class Test`` (the class alone, imports included);
- ``skeleton``: class_source with the method's body replaced by ``pass`` (its signature and
  docstring kept, every other method kept): what SR asks a model to complete;
- ``method_test``: method_test.py; ``origin``; ``determinism_probe``: True, so ground
  truth runs each item again under two far-apart time zones and with a fresh random state
  and marks an item whose value changes ``does_not_run`` ("nondeterministic"), instead of
  judging models against one run's clock or random draw (groundtruth.py).

The folder is pinned in manifests/classeval.toml by one digest (as avatar/codenet latest).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from codemind.benchmarks.base import Benchmark
from codemind.benchmarks.stdin_common import mirror_root, verify_folder
from codemind.errors import UserError
from codemind.schema import Program, TestInput

FOLDER = "codemind/latest_2025-04/ClassEval"
COMMIT = "d55bbc1"
CALL = "Test().test()"
TEST_CLASS = "class Test(unittest.TestCase):"
_ID = re.compile(r"^ClassEval_(\d+)@([A-Za-z_]\w*)\.([A-Za-z_]\w*)$")


def _order(name: str) -> tuple:
    m = _ID.match(name)
    return (int(m.group(1)), name) if m else (1 << 30, name)


def split_main(main: str) -> tuple[str, str]:
    """(the class part, the Test part) of a main.py."""
    at = main.find("\n" + TEST_CLASS)
    if at < 0:
        raise UserError(f"main.py has no '{TEST_CLASS}' line")
    return main[: at + 1], main[at + 1 :]


def import_lines(source: str) -> str:
    """The module-level import statements of source, as written."""
    tree = ast.parse(source)
    return "\n".join(ast.get_source_segment(source, n) or "" for n in tree.body
                     if isinstance(n, (ast.Import, ast.ImportFrom)))  # fmt: skip


# Standard modules ClassEval's tests use without importing them (its test files imported them)
TEST_MODULES = ("os", "stat", "shutil", "json", "sys", "time", "datetime", "math", "random", "re", "sqlite3",
                "tempfile")


TEST_NAMES = {"gettempdir": "from tempfile import gettempdir"}


def test_setup(class_source: str, tests: str) -> str:
    """The class's import lines, plus ``import M`` for each standard module in TEST_MODULES the
    tests use by name (``os.remove(...)``) and each function of TEST_NAMES they call, that the
    class does not import."""
    lines = import_lines(class_source)
    tree = ast.parse(class_source)
    bound = {(a.asname or a.name).split(".")[0] for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
             for a in n.names}  # fmt: skip
    extra = [f"import {m}" for m in TEST_MODULES if m not in bound and re.search(rf"\b{m}\.", tests)]
    extra += [line for name, line in TEST_NAMES.items() if name not in bound and re.search(rf"\b{name}\(", tests)]
    return "\n".join([lines, *extra]) if extra else lines


def method_node(tree: ast.Module, class_name: str, method: str) -> ast.FunctionDef | None:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == method:
                    return item  # type: ignore[return-value]
    return None


def skeleton(class_source: str, class_name: str, method: str) -> str:
    """class_source with the method's body replaced by ``pass`` (docstring kept)."""
    tree = ast.parse(class_source)
    node = method_node(tree, class_name, method)
    if node is None:
        raise UserError(f"no method {class_name}.{method} in the class source")
    body = node.body
    doc = (isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
           and isinstance(body[0].value.value, str))  # fmt: skip
    lines = class_source.splitlines(keepends=True)
    first = body[1] if doc and len(body) > 1 else (None if doc else body[0])
    if first is None:
        return class_source  # only a docstring: nothing to remove
    indent = " " * first.col_offset
    start, end = first.lineno - 1, body[-1].end_lineno  # 0-based start, exclusive end
    return "".join(lines[:start]) + f"{indent}pass\n" + "".join(lines[end:])


class ClassEval(Benchmark):
    name = "classeval"
    languages = ("python",)

    def load(self) -> list[Program]:
        root = mirror_root(self.data_dir, self.name)
        self._files = {FOLDER: verify_folder(root, self.name, FOLDER)}
        folders = sorted((p for p in (root / FOLDER).iterdir() if p.is_dir()), key=lambda p: _order(p.name))
        return [self._program(folder) for folder in folders]

    def _program(self, folder: Path) -> Program:
        m = _ID.match(folder.name)
        if not m:
            raise UserError(f"unexpected ClassEval folder name {folder.name}")
        class_name, method = m.group(2), m.group(3)

        def read(name: str) -> str:
            return (folder / name).read_text(encoding="utf-8")

        main = read("main.py")
        class_source, _ = split_main(main)
        return Program(
            id=folder.name, benchmark=self.name, language="python", kind="function", source=main,
            entry_point=None,
            inputs=[TestInput(index=0, call=CALL, label=read("output.txt"))],
            meta={
                "class_name": class_name, "method": method, "tests": read("asserts.txt"),
                "test_setup": test_setup(class_source, read("asserts.txt")), "class_source": class_source,
                "skeleton": skeleton(class_source, class_name, method), "method_test": read("method_test.py"),
                "origin": f"Intelligent-CAT-Lab/CodeMind@{COMMIT} dataset/classeval/{folder.name}",
                "determinism_probe": True, "label_form": "str",
            },
        )  # fmt: skip
