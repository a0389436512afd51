"""No code in Python strings: programs the harness sends to the sandbox, templates and styles
are package files read with importlib.resources (codemind/resources.py), every one of them is
package data in pyproject.toml, and the ones hashed into cache keys or the sandbox identity
still hash as they did when they were strings."""

from __future__ import annotations

import ast
import hashlib
import re
import tomllib
from pathlib import Path

import pytest

from codemind import resources
from codemind.benchmarks.java_main import java_main

REPO = Path(__file__).resolve().parent.parent
PKG = REPO / "codemind"

# Part of execution-cache keys (job sources) or of the sandbox identity / image tag: a change
# re-runs cached executions and rebuilds the image. Update a pin only on purpose.
PINNED = {
    ("codemind.sandbox", "javabatch/compile_batch.py"): "2ee5c631650be14885e445d7f164e06de3cbdc7e8b6bbd7571f588013a66cd7c",
    ("codemind.sandbox", "javabatch/run_program.py"): "b28d075685c589a1b50637f9da043aa3e0b80deb0a4e63892791096b12e8f61c",
    ("codemind.sandbox", "javabatch/run_batch.py"): "900307fd6a691682ca946d16206f5b06edf62af9d9cc9b050c5eb4c89b35e23e",
    ("codemind.sandbox", "finish.Dockerfile"): "e5b912d29b361008f69b27e709ac788d45ed6cf961091e0a608b37c5e4232b3a",
    ("codemind.judges", "snippets/value_prelude.py"): "a48381479ae1193c1421b7b2a2d48e6ec41a06ee1ef6b1cfa3ab1480a1c0509b",
    ("codemind.judges", "snippets/unittest_cases.py"): "1e5bda6f43b30b5959d3a8fa0d5e50d167fb6a339e8032af31a5281176312c74",
    ("codemind.tasks", "snippets/tracer.py"): "c861d7b8da95e4e2c3e28c59dacc34ce4c2d3d45916a7db7da3c2a465316d146",
    ("codemind", "snippets/clock_probe.py"): "2e3b8cefdf7459710bc73776a438e5eddebafc4fdf46be13897371aea37306b5",
}


@pytest.mark.parametrize("package,path", sorted(PINNED))
def test_hashed_resources_keep_their_bytes(package, path):
    assert hashlib.sha256(resources.text(package, path).encode()).hexdigest() == PINNED[(package, path)]


def test_finish_dockerfile_agrees_with_the_image_constants():
    from codemind.sandbox import image

    text = image.FINISH_DOCKERFILE
    assert f"COPY runner/ {image.IMAGE_RUNNER_DIR}/\n" in text
    assert f"USER {image.SANDBOX_UID}:{image.SANDBOX_UID}\n" in text


def test_java_main_templates():
    assert java_main(["s.f(1)"], "{}") == (
        "public class Main {\n    public static void main(String[] args) throws Exception {\n"
        "        Solution s = new Solution();\n        System.out.println(s.f(1));\n    }\n}\n")
    assert java_main(["s.f(1)", "s.f(2)"], "java.util.Arrays.toString({})", "        int x = 1;\n") == (
        "public class Main {\n    public static void main(String[] args) throws Exception {\n"
        "        Solution s = new Solution();\n        int x = 1;\n"
        "        switch (new java.util.Scanner(System.in).nextInt()) {\n"
        "            case 0: System.out.println(java.util.Arrays.toString(s.f(1))); break;\n"
        "            case 1: System.out.println(java.util.Arrays.toString(s.f(2))); break;\n"
        "        }\n    }\n}\n")


def _package_data() -> set[Path]:
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["codemind"]
    return {p for pattern in patterns for p in PKG.glob(pattern) if p.is_file()}


def _shipped_files() -> set[Path]:
    """Files under codemind/ that a wheel needs besides the modules of its packages."""
    out = set()
    for p in PKG.rglob("*"):
        if not p.is_file() or "__pycache__" in p.parts or p.suffix == ".pyc" or p.name == "READY":
            continue
        if p.suffix == ".py" and (p.parent / "__init__.py").exists():
            continue  # a module of a package: always in the wheel
        out.add(p)
    return out


def test_every_resource_file_is_package_data():
    missing = sorted(str(p.relative_to(REPO)) for p in _shipped_files() - _package_data())
    assert not missing, f"add to [tool.setuptools.package-data] in pyproject.toml: {missing}"


_CODE_LINE = re.compile(r"^\s*(def \w|class \w|import \w|from [\w.]+ import |public (static|class) |#include )", re.M)


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def test_no_source_code_in_python_strings():
    """Multi-line string literals holding a definition or an import are source code: they belong
    in a resource file (programs the sandbox runs are resource files themselves)."""
    found = []
    for path in sorted(PKG.rglob("*.py")):
        if path in _shipped_files():
            continue  # sandbox programs and snippets: files of code, not Python strings
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                text = node.value
            else:
                continue
            if "\n" in text.strip("\n") and _CODE_LINE.search(text):
                found.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not found, found
