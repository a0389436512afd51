"""AVATAR stdin programs, Python and Java.

- ``avatar``: CodeMind's 86 + 86 items as the paper used them (``paper_v1_2024-02/Avatar-*``:
  ``main.py``/``Main.java``, ``input.txt``, ``output.txt``); id = folder name, as in CodeMind's
  recorded generations.
- ``avatar-latest``: the same items at CodeMind's 2025-04 HEAD (``latest_2025-04``), where the
  authors fixed much of the tokenisation; the Java class (and file) is not always ``Main``.
- ``avatar-full``: the 250 Python / 249 Java AVATAR programs with their test cases
  (``avatar/``), each test an input; ``inputs="first"`` keeps one per program (CodeMind's
  choice), ``"all"`` keeps every test.

The code is AVATAR-tokenised; string literals are detokenised where that is exact
(detokenize.py; option ``detokenize=False`` keeps the bytes as published) and the result is
recorded in ``meta["detokenized"]``. Inputs over the byte cap (some Avatar inputs are
0.1-1 MB) are left out and counted as excluded.
"""

from __future__ import annotations

import csv
import io
import re

from codemind.benchmarks.base import Benchmark
from codemind.benchmarks.codenet import read_item_folder
from codemind.benchmarks.detokenize import detokenize
from codemind.benchmarks.stdin_common import ListedFiles, mirror_root, stdin_program, verify_folder
from codemind.errors import UserError
from codemind.schema import Language, Program

VERSIONS = {
    "paper": ("codemind/paper_v1_2024-02", "39c9471"),
    "latest": ("codemind/latest_2025-04", "d55bbc1"),
}
FOLDER = {"python": "Avatar-Python", "java": "Avatar-Java"}


def _flag(options: dict, key: str, default: bool) -> bool:
    value = options.get(key, default)
    if isinstance(value, str):
        return value.lower() not in ("0", "false", "no", "off")
    return bool(value)


def _detok_meta(source: str, language: Language, enabled: bool) -> tuple[str, dict]:
    if not enabled:
        return source, {}
    d = detokenize(source, language)
    if d.changed:
        return d.source, {"detokenized": {"literals": d.literals}}
    if d.reason:
        return source, {"detokenized": {"literals": 0, "not_exact": d.reason}}
    return source, {}


class Avatar(Benchmark):
    name = "avatar"
    languages = ("python", "java")
    version = "paper"

    def __init__(self, data_dir=None, language="python", **options):
        super().__init__(data_dir, language, **options)
        self.version = options.get("version") or self.version
        if self.version not in VERSIONS:
            raise UserError(f"unknown avatar version '{self.version}' (paper or latest)")
        self.detokenize = _flag(options, "detokenize", True)

    def load(self) -> list[Program]:
        root = mirror_root(self.data_dir, self.name)
        prefix, commit = VERSIONS[self.version]
        rel = f"{prefix}/{FOLDER[self.language]}"
        self._files = {rel: verify_folder(root, "avatar", rel)}
        programs = []
        for folder in sorted(p for p in (root / rel).iterdir() if p.is_dir()):
            raw, stdin, label, fname = read_item_folder(folder)
            source, meta = _detok_meta(raw, self.language, self.detokenize)
            programs.append(
                stdin_program(
                    id=folder.name, benchmark=self.name, language=self.language, source=source,
                    tests=[(stdin, label)],
                    meta={"origin": f"Intelligent-CAT-Lab/CodeMind@{commit} {rel.split('/', 1)[1]}/{folder.name}",
                          "source_file": fname, "version": self.version, **meta},
                )  # fmt: skip
            )
        return programs


class AvatarLatest(Avatar):
    name = "avatar-latest"
    version = "latest"


FULL_CODE = {"python": ("Python/Code", ".py"), "java": ("Java/Code", ".java")}
_TEST = re.compile(r"^TestCases/(.+)_(\d+)\.in$")


class AvatarFull(Benchmark):
    name = "avatar-full"
    languages = ("python", "java")

    def __init__(self, data_dir=None, language="python", **options):
        super().__init__(data_dir, language, **options)
        self.inputs = options.get("inputs") or "first"
        if self.inputs not in ("first", "all"):
            raise UserError(f"unknown inputs option '{self.inputs}' (first or all)")
        self.detokenize = _flag(options, "detokenize", True)

    def load(self) -> list[Program]:
        root = mirror_root(self.data_dir, self.name)
        files = ListedFiles(root, "avatar/FILES.sha256")
        self._files = {files.listing: files.listing_sha256}
        code_dir, ext = FULL_CODE[self.language]
        tests: dict[str, list[int]] = {}
        for rel in files.sums:
            m = _TEST.match(rel)
            if m:
                tests.setdefault(m.group(1), []).append(int(m.group(2)))
        left_out = self._left_out(files)
        programs = []
        ids = sorted(rel[len(code_dir) + 1 : -len(ext)] for rel in files.sums
                     if rel.startswith(code_dir + "/") and rel.endswith(ext))  # fmt: skip
        for pid in ids:
            raw = files.read(f"{code_dir}/{pid}{ext}")
            source, meta = _detok_meta(raw, self.language, self.detokenize)
            indices = sorted(tests.get(pid, []))
            if self.inputs == "first":
                indices = indices[:1]
            pairs = [(files.read(f"TestCases/{pid}_{k}.in"), files.read(f"TestCases/{pid}_{k}.out")) for k in indices]
            program = stdin_program(
                id=pid, benchmark=self.name, language=self.language, source=source, tests=pairs,
                meta={"origin": f"AVATAR test subset ({code_dir}/{pid}{ext})", "test_indices": indices,
                      "left_out_tests": left_out.get(pid, []), **meta},
                indices=indices,  # AVATAR's own test numbers (they have gaps)
            )  # fmt: skip
            programs.append(program)
        return programs

    @staticmethod
    def _left_out(files: ListedFiles) -> dict[str, list[dict]]:
        """Tests the mirror left out (over 64 KiB or absent upstream), per program."""
        out: dict[str, list[dict]] = {}
        for row in csv.DictReader(io.StringIO(files.read("tests_manifest.csv"))):
            if row["status"] != "included":
                out.setdefault(row["program_id"], []).append({"index": int(row["test_index"]), "status": row["status"]})
        return out

